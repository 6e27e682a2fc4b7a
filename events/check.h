// Always-on assertions for broken invariants (programmer errors).
//
// Unlike assert(), HOMEWARD_CHECK stays in Release builds: a ledger that goes
// on after an invariant broke could print a wrong figure, which is worse than
// stopping. It logs the condition, file and line to stderr and aborts.
#pragma once

namespace homeward::detail {
[[noreturn]] void check_failed(const char* condition, const char* message, const char* file,
                               int line);
}  // namespace homeward::detail

#define HOMEWARD_CHECK(condition, message)                                         \
  do {                                                                             \
    if (!(condition)) [[unlikely]]                                                 \
      ::homeward::detail::check_failed(#condition, (message), __FILE__, __LINE__); \
  } while (false)
