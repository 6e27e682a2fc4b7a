// Internal to the CLI: an input stream over a file descriptor whose reads
// end when a stop is requested, so that `publish` can stop on a signal even
// while its input (a pipe, a FIFO, a terminal) has nothing to give.
//
// A read waits in slices of kStopPollInterval (poll) and, between slices,
// asks `stop_requested`; once that is true the stream ends (end of file)
// after what was already read into the buffer. A failed read sets badbit and
// keeps the system's reason (error()). Reads are as fast as an ifstream's:
// std::getline works on the 1 MiB buffer directly. Used by one thread at a
// time (the publisher's parsing threads take turns under their lock).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

#include "events/error.h"

namespace homeward::connectors::cli {

inline constexpr std::chrono::milliseconds kStopPollInterval{100};

class InterruptibleInput {
 public:
  // Reads `fd`, closed on destruction when `owned`. fd -1 is an input that
  // is already at its end.
  InterruptibleInput(int fd, bool owned, std::function<bool()> stop_requested);
  ~InterruptibleInput();
  InterruptibleInput(const InterruptibleInput&) = delete;
  InterruptibleInput& operator=(const InterruptibleInput&) = delete;

  // Opens `path` for reading. Opening a FIFO waits for its writer; a stop
  // requested meanwhile gives an input already at its end (the caller then
  // finds the stop before reading anything). kNotFound, kInvalidArgument (a
  // directory) or kIo with the path and the system's reason otherwise.
  [[nodiscard]] static Result<std::unique_ptr<InterruptibleInput>> open(
      const std::filesystem::path& path, std::function<bool()> stop_requested);

  [[nodiscard]] std::istream& stream() { return stream_; }
  // Why reading failed (empty when it did not).
  [[nodiscard]] const std::string& error() const;

 private:
  class Buffer;
  std::unique_ptr<Buffer> buffer_;
  std::istream stream_;
};

}  // namespace homeward::connectors::cli
