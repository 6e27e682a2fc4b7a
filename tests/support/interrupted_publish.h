// Test support for issue 11 item 5: a `homeward publish` child process that
// reads a FIFO the test feeds, and is sent a signal once a given number of
// lines went in (the FIFO stays open, so the child cannot mistake the stop
// for the end of its input). Because a write to a FIFO returns only once the
// reader took the bytes (beyond the pipe's 64 KiB), the child has read all
// but the last 64 KiB of those lines when the signal is sent: the signal
// comes in the middle of the stream, without any timing guess.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/child_process.h"

namespace homeward::testing {

struct InterruptedPublish {
  int code = -1;
  std::string out;
  std::string err;
  int64_t appended = -1;            // from `appended N, refused M`
  int64_t next_line = -1;           // from `--from-line N`
  int64_t last_appended_line = -1;  // from `the last line appended: L`; 0: none
};

inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The byte length of the first `lines` lines of `ndjson`.
inline size_t prefix_bytes(std::string_view ndjson, int64_t lines) {
  size_t at = 0;
  for (int64_t i = 0; i < lines && at < ndjson.size(); ++i) {
    const size_t newline = ndjson.find('\n', at);
    at = newline == std::string_view::npos ? ndjson.size() : newline + 1;
  }
  return at;
}

// Writes `bytes` to the non-blocking `fd`, waiting for room in slices, until
// `give_up`. False when the reader went away or the time ran out.
inline bool write_all(int fd, std::string_view bytes,
                      std::chrono::steady_clock::time_point give_up) {
  while (!bytes.empty()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    pollfd entry{fd, POLLOUT, 0};
    if (::poll(&entry, 1, 100) <= 0) continue;
    const ssize_t wrote = ::write(fd, bytes.data(), bytes.size());
    if (wrote < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return false;  // EPIPE: the child is gone
    }
    bytes.remove_prefix(static_cast<size_t>(wrote));
  }
  return true;
}

// Runs `binary global_args... publish FIFO publish_args...`, feeds it the first
// `lines_before_signal` lines of `ndjson`, sends `signal_number`, and waits
// for the exit with the FIFO still open.
inline InterruptedPublish publish_and_interrupt(const std::string& binary,
                                                std::vector<std::string> global_args,
                                                const std::filesystem::path& work,
                                                std::string_view ndjson,
                                                int64_t lines_before_signal, int signal_number,
                                                const std::vector<std::string>& publish_args = {}) {
  using Clock = std::chrono::steady_clock;
  InterruptedPublish result;
  ::signal(SIGPIPE, SIG_IGN);  // a child that died must fail the test, not end it
  const std::filesystem::path fifo = work / "input.fifo";
  std::filesystem::remove(fifo);
  if (::mkfifo(fifo.c_str(), 0600) != 0) {
    ADD_FAILURE() << "mkfifo failed";
    return result;
  }
  global_args.push_back("publish");
  global_args.push_back(fifo.string());
  global_args.insert(global_args.end(), publish_args.begin(), publish_args.end());
  const std::filesystem::path err_file = work / "publish.err";
  ChildProcess child(binary, global_args, err_file);
  if (!child.started()) {
    ADD_FAILURE() << "the child did not start";
    return result;
  }
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(120);
  // Non-blocking open: ENXIO until the child opened its end for reading.
  int fd = -1;
  while (fd < 0 && Clock::now() < give_up) {
    fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) ::poll(nullptr, 0, 20);
  }
  if (fd < 0) {
    ADD_FAILURE() << "the child never opened the FIFO: " << file_text(err_file);
    return result;
  }
  const bool fed =
      write_all(fd, ndjson.substr(0, prefix_bytes(ndjson, lines_before_signal)), give_up);
  EXPECT_TRUE(fed) << "the child stopped reading: " << file_text(err_file);
  child.signal(signal_number);
  // Standard output is read to its end before the exit is waited for: a
  // child with more to say than a pipe holds (publish --wait --json) would
  // otherwise never get to exit.
  result.out = child.read_output(std::chrono::seconds(120));
  result.code = child.wait_exit(std::chrono::seconds(10));
  ::close(fd);
  result.err = file_text(err_file);

  std::smatch match;
  if (std::regex_search(result.out, match, std::regex(R"(appended (\d+), refused)"))) {
    result.appended = std::stoll(match[1]);
  }
  if (std::regex_search(result.err, match, std::regex(R"(--from-line (\d+))"))) {
    result.next_line = std::stoll(match[1]);
  }
  if (std::regex_search(result.err, match, std::regex(R"(the last line appended: (\d+))"))) {
    result.last_appended_line = std::stoll(match[1]);
  } else if (result.err.find("no line appended") != std::string::npos) {
    result.last_appended_line = 0;
  }
  return result;
}

}  // namespace homeward::testing
