#include "connectors/cli/stop_signals.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "events/check.h"

namespace homeward::connectors::cli {
namespace {

// Lock-free, so that the handler may touch them (async-signal-safe).
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop_flag{false};  // g_stop_signal != 0, as a bool
std::atomic<bool> g_installed{false};
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int signal_number) {
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, signal_number);
  g_stop_flag.store(true);
  ::signal(signal_number, SIG_DFL);
}

}  // namespace

StopSignals::StopSignals() {
  HOMEWARD_CHECK(!g_installed.exchange(true), "one StopSignals at a time");
  g_stop_signal.store(0);
  g_stop_flag.store(false);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: see the header
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  g_installed.store(false);
}

bool StopSignals::stop_requested() const { return g_stop_signal.load() != 0; }

const std::atomic<bool>* StopSignals::flag() const { return &g_stop_flag; }

int StopSignals::signal_number() const { return g_stop_signal.load(); }

std::string_view StopSignals::signal_name() const {
  switch (g_stop_signal.load()) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

void StopSignals::wait(std::chrono::milliseconds duration) const {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + duration;
  while (!stop_requested()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return;
    // poll() with no descriptors is an interruptible sleep: a signal ends it
    // on the thread that takes it; the slices bound the wait on the others.
    ::poll(nullptr, 0, static_cast<int>(std::min<int64_t>(left.count(), 100)));
  }
}

}  // namespace homeward::connectors::cli
