#include "events/check.h"

#include <cstdio>
#include <cstdlib>

namespace homeward::detail {

void check_failed(const char* condition, const char* message, const char* file, int line) {
  // stderr is unbuffered, and abort() does not run destructors, so the line is
  // written in one call and flushed before the process stops.
  std::fprintf(stderr, "HOMEWARD_CHECK failed: %s (%s) at %s:%d\n", condition,
               message != nullptr ? message : "", file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace homeward::detail
