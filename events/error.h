// Error values shared by every Homeward module.
//
// Expected failures (bad input, a missing case, an I/O error from RocksDB or
// librdkafka) travel as `Result<T>` = `std::expected<T, Error>`; statuses from
// third-party libraries are converted to an `Error` at the module edge.
// Programmer errors use HOMEWARD_CHECK (check.h) instead. Everything here is a
// plain value type and thread-compatible.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace homeward {

enum class ErrorCode {
  kInvalidArgument,    // the caller's input breaks a rule (stage 1, CLI arguments)
  kNotFound,           // a case, file or record that was asked for does not exist
  kCorruption,         // stored bytes do not decode as they must
  kIo,                 // the file system, RocksDB or the network failed
  kBusy,               // another process holds the writer lock: retry later
  kReadOnly,           // the directory cannot be written by this user (reads still work)
  kUnavailable,        // a broker or other peer cannot be reached now
  kInternal,           // a library reported something Homeward cannot classify
  kResourceExhausted,  // a documented limit was reached (docs/design.md, "Limits")
  // A request went out and no answer came (a Kafka delivery that timed out):
  // it may or may not have taken effect. Never "failed": the caller retries
  // it in a form that is harmless twice (an event with the same event_id).
  kUnknownOutcome,
  // The file system is full (ENOSPC): nothing is wrong with the data; the
  // same command goes on once space is freed (issue 14 items 7 and 9).
  kNoSpace,
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

[[nodiscard]] inline std::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

}  // namespace homeward
