// Internal to the CLI: SIGINT and SIGTERM as a request to stop cleanly, for
// the commands that can stop at a boundary and say where (`publish`,
// `project --follow`).
//
// While a StopSignals exists, the first SIGINT or SIGTERM only sets a flag,
// which the command polls at its boundaries (a batch, a chunk of input), and
// restores the default action, so that a second signal ends the process at
// once (nothing is lost by that either: the log and the store are
// consistent at any point, they just do not say where they stopped). The
// handlers are installed without SA_RESTART, so a blocking system call of
// the thread that takes the signal returns EINTR; code that waits should
// wait in slices (`wait`, poll with a timeout) and look at the flag.
//
// One StopSignals at a time per process (the flag is process-wide); the
// destructor puts the previous handlers back. stop_requested() and
// signal_number() may be called from any thread.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <string_view>

namespace homeward::connectors::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  [[nodiscard]] bool stop_requested() const;
  // The signal that asked for the stop (SIGINT or SIGTERM); 0 before one came.
  [[nodiscard]] int signal_number() const;
  // "SIGINT", "SIGTERM", or "a signal" for anything else.
  [[nodiscard]] std::string_view signal_name() const;

  // The flag itself, true once a stop is requested, for code below the CLI
  // that polls an atomic (connectors/kafka: KafkaOptions' interrupt). Valid
  // while this StopSignals exists.
  [[nodiscard]] const std::atomic<bool>* flag() const;

  // Waits up to `duration`, returning early when a stop is requested.
  void wait(std::chrono::milliseconds duration) const;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace homeward::connectors::cli
