// RFC 3339 timestamps (SPEC section 2), kept as UTC microseconds.
//
// Input: `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)`; calendar-checked
// (no 2015-02-30, no hour 24; a leap second `:60` is refused). Output is UTC,
// with 6 fractional digits only when the microseconds are not zero. Pure and
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "events/error.h"
#include "events/strong_int.h"

namespace homeward::events {

[[nodiscard]] Result<TimestampMicros> parse_timestamp(std::string_view text);

// `2015-06-23T10:00:00Z`, or `2015-06-23T10:00:00.250000Z` with microseconds.
[[nodiscard]] std::string format_timestamp(TimestampMicros t);

// The UTC day only, `2015-06-23`: the finest time public reports may show.
[[nodiscard]] std::string format_date(TimestampMicros t);

}  // namespace homeward::events
