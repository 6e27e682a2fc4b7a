// `homeward serve` as a child process for the HTTP tests: started on
// 127.0.0.1 with an ephemeral port (--listen 127.0.0.1:0), its bound address
// read from the first line of its standard output. The destructor kills
// (SIGKILL) and reaps it if the test did not stop it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace homeward::testing {

class ServeProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Runs `homeward --data DIR serve --listen 127.0.0.1:0 EXTRA...`; stderr
  // goes to `stderr_file`.
  ServeProcess(const std::filesystem::path& data_dir, const std::vector<std::string>& extra,
               const std::filesystem::path& stderr_file,
               const std::vector<std::string>& global = {}) {
    std::vector<std::string> args{HOMEWARD_BINARY, "--data", data_dir.string()};
    args.insert(args.end(), global.begin(), global.end());
    args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0"});
    args.insert(args.end(), extra.begin(), extra.end());
    std::array<int, 2> out{};
    if (::pipe(out.data()) != 0) return;
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::dup2(out[1], STDOUT_FILENO);
      const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      ::close(out[0]);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_fd_ = out[0];
    address_ = read_line(std::chrono::seconds(60));
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // "127.0.0.1:PORT", or empty when the server did not start.
  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://" + address_ + path;
  }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Sends `signal_number` and waits up to `deadline` for the exit: the exit
  // code, 128+N when killed by signal N, -1 when it did not end in time.
  int stop(int signal_number, std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
    if (pid_ <= 0) return -1;
    if (signal_number != 0) ::kill(pid_, signal_number);
    const Clock::time_point give_up = Clock::now() + deadline;
    int status = 0;
    while (Clock::now() < give_up) {
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return -1;
      }
      ::poll(nullptr, 0, 20);
    }
    return -1;
  }

 private:
  std::string read_line(std::chrono::milliseconds deadline) {
    std::string line;
    const Clock::time_point give_up = Clock::now() + deadline;
    while (Clock::now() < give_up) {
      pollfd entry{out_fd_, POLLIN, 0};
      if (::poll(&entry, 1, 100) <= 0) continue;
      char c = 0;
      if (::read(out_fd_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line += c;
    }
    return {};
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string address_;
};

}  // namespace homeward::testing
