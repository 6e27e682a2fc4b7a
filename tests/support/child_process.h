// A child process running a real binary (fork + exec), for tests that need
// signals, exit codes and separate processes: standard input from /dev/null,
// standard output to a pipe that the test reads (or to a file), standard
// error to a file. Every wait is a poll with a deadline, so a child that
// hangs fails the test instead of blocking it; the destructor kills (SIGKILL)
// and reaps a child the test did not end. Not thread-safe, but pid() may be
// signalled from another thread while the child runs (the crash loop's
// killer does).
//
// run_to_end runs a command to its end, with a SIGKILL at a chosen moment if
// wanted: the crash loop and the disk-full test drive the binary as an
// operator would.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace homeward::testing {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Runs `binary` with `args`; stdout goes to a pipe (read_line,
  // read_output), or to `stdout_file` when one is given, stderr to
  // `stderr_file`.
  ChildProcess(const std::string& binary, const std::vector<std::string>& args,
               const std::filesystem::path& stderr_file,
               const std::filesystem::path& stdout_file = {})
      : stderr_file_(stderr_file) {
    std::array<int, 2> out{};
    if (::pipe(out.data()) != 0) return;
    std::vector<std::string> full{binary};
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : full) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      const int to_file = stdout_file.empty()
                              ? -1
                              : ::open(stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(to_file >= 0 ? to_file : out[1], STDOUT_FILENO);
      const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      const int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, STDIN_FILENO);
      ::close(out[0]);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_fd_ = out[0];
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] bool started() const { return pid_ > 0; }
  // The child's process id while it runs (what its messages name).
  [[nodiscard]] pid_t pid() const { return pid_; }

  // Whether it has not ended yet; when it has, it is reaped and wait_exit
  // returns its status at once.
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    pid_ = -1;
    exit_status_ = decode(status);
    return false;
  }

  // The next line of standard output, waiting up to `deadline`.
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
    return line;
  }

  // Everything the child writes on standard output until it closes it,
  // waiting up to `deadline`.
  std::string read_output(std::chrono::milliseconds deadline) {
    std::string output;
    const Clock::time_point give_up = Clock::now() + deadline;
    std::array<char, 4096> buffer{};
    while (Clock::now() < give_up) {
      pollfd entry{out_fd_, POLLIN, 0};
      if (::poll(&entry, 1, 100) <= 0) continue;
      const ssize_t got = ::read(out_fd_, buffer.data(), buffer.size());
      if (got <= 0) break;
      output.append(buffer.data(), static_cast<size_t>(got));
    }
    return output;
  }

  // What the child wrote on standard error so far (for failure messages).
  [[nodiscard]] std::string stderr_text() const {
    std::ifstream in(stderr_file_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  void signal(int signal_number) {
    if (pid_ > 0) ::kill(pid_, signal_number);
  }

  // Waits up to `deadline` for the exit; the exit status (-1 when it did
  // not end, 128+N when killed by signal N).
  int wait_exit(std::chrono::milliseconds deadline) {
    const Clock::time_point give_up = Clock::now() + deadline;
    while (running()) {
      if (Clock::now() >= give_up) return -1;
      ::poll(nullptr, 0, 20);
    }
    return exit_status_;
  }

  // Sends `signal_number` and waits up to `deadline` for the exit.
  // Signal 0: only waits.
  int stop(int signal_number, std::chrono::milliseconds deadline) {
    if (pid_ <= 0) return exit_status_;
    if (signal_number != 0) signal(signal_number);
    return wait_exit(deadline);
  }

 private:
  static int decode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
  }

  std::filesystem::path stderr_file_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int exit_status_ = -1;  // once reaped
};

// A command run to its end by run_to_end.
struct ChildRun {
  bool killed = false;  // SIGKILLed by the caller's kill_after while it ran
  int code = -1;        // the exit code when it was not killed (-1: it outlived the limit)
  std::chrono::milliseconds took{0};
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `binary` with `args` until it ends, its standard output and error in
// files of `scratch` (so that a large output never fills a pipe); with
// `kill_after`, SIGKILLs it then if it is still running. Bounded: a command
// that outlives 10 minutes is killed and answers code -1, not killed.
inline ChildRun run_to_end(const std::string& binary, const std::vector<std::string>& args,
                           const std::filesystem::path& scratch,
                           std::optional<std::chrono::microseconds> kill_after) {
  using Clock = ChildProcess::Clock;
  const std::filesystem::path out = scratch / "out.txt", err = scratch / "err.txt";
  const auto start = Clock::now();
  const auto limit = start + std::chrono::minutes(10);
  const auto kill_at = kill_after ? std::min(limit, start + *kill_after) : limit;
  ChildRun run;
  {
    ChildProcess child(binary, args, err, out);
    while (child.running() && Clock::now() < kill_at) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    const bool ended = !child.running();
    const int status = ended ? child.wait_exit(std::chrono::milliseconds(0))
                             : child.stop(SIGKILL, std::chrono::seconds(60));
    // A child that ended on its own between the look and the signal answers
    // its own exit status: it was not killed.
    const bool by_signal = !ended && status == 128 + SIGKILL;
    run.killed = by_signal && kill_at < limit;
    run.code = by_signal ? -1 : status;
  }
  run.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  run.out = slurp(out);
  run.err = slurp(err);
  return run;
}

}  // namespace homeward::testing
