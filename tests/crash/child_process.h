// Runs the real `homeward` binary (HOMEWARD_BINARY) in a child process, with
// a SIGKILL at a chosen moment if wanted: the crash loop and the disk-full
// test drive the binary as an operator would.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace homeward::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct ChildRun {
  bool killed = false;  // SIGKILLed by the loop while it ran
  int code = -1;        // the exit code when it was not killed
  std::chrono::milliseconds took{0};
  std::string out, err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs the binary with `args`; with `kill_after`, SIGKILLs it then if it is
// still running. Every wait is bounded: a command that outlives 10 minutes
// is killed and reported as a failure by the caller (code -1).
inline ChildRun run_binary(const fs::path& scratch, const std::vector<std::string>& args,
                           std::optional<std::chrono::microseconds> kill_after) {
  const fs::path out = scratch / "out.txt", err = scratch / "err.txt";
  std::vector<std::string> all{HOMEWARD_BINARY, "--quiet"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto limit = start + std::chrono::minutes(10);
  const auto kill_at = kill_after ? start + *kill_after : limit;
  int status = 0;
  ChildRun run;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (Clock::now() >= kill_at) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && kill_at < limit;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  run.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (WIFEXITED(status)) run.code = WEXITSTATUS(status);
  run.out = slurp(out);
  run.err = slurp(err);
  return run;
}

}  // namespace homeward::testing
