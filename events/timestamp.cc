#include "events/timestamp.h"

#include <fmt/format.h>

#include "events/validation.h"

namespace homeward::events {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil). Pure integer arithmetic: no timegm, no locale, no time zone
// database, and correct for years before 1970.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

// The inverse of days_from_civil.
constexpr CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(0, 1, 1) * kMicrosPerDay == kTimestampMinMicros);
static_assert((days_from_civil(9999, 12, 31) + 1) * kMicrosPerDay - 1 == kTimestampMaxMicros);

constexpr bool is_leap_year(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

// Floor division, so that instants before 1970 land on the right day.
constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::unexpected<Error> bad(std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) shown += "...";
  return make_error(ErrorCode::kInvalidArgument, fmt::format("\"{}\" {}", shown, why));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads `count` digits at `pos`, or returns false.
bool read_digits(std::string_view text, size_t pos, size_t count, unsigned& out) {
  if (pos + count > text.size()) return false;
  unsigned value = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!is_digit(text[pos + i])) return false;
    value = value * 10 + static_cast<unsigned>(text[pos + i] - '0');
  }
  out = value;
  return true;
}

constexpr std::string_view kShape =
    "is not an RFC 3339 timestamp such as 2015-06-23T10:00:00Z or 2015-06-23T17:00:00.25+07:00";

}  // namespace

Result<TimestampMicros> parse_timestamp(std::string_view text) {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 5 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text.size() < 8 || text[7] != '-' ||
      !read_digits(text, 8, 2, day)) {
    return bad(text, kShape);
  }
  if (text.size() == 10)
    return bad(text, "has a date but no time; add a time and zone, e.g. T10:00:00Z");
  if (text[10] == ' ') return bad(text, "separates date and time with a space; use 'T'");
  if (text[10] != 'T' && text[10] != 't') return bad(text, kShape);
  if (!read_digits(text, 11, 2, hour) || text.size() < 14 || text[13] != ':' ||
      !read_digits(text, 14, 2, minute) || text.size() < 17 || text[16] != ':' ||
      !read_digits(text, 17, 2, second)) {
    return bad(text, kShape);
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const size_t count = pos - start;
    if (count == 0) return bad(text, "has '.' with no fractional digits after it");
    if (count > 6) {
      return bad(text, fmt::format("has {} fractional digits; at most 6 (microseconds) are allowed",
                                   count));
    }
    for (size_t i = 0; i < 6; ++i) {
      micros = micros * 10 + (i < count ? text[start + i] - '0' : 0);
    }
  }
  if (pos >= text.size())
    return bad(text, "has no time zone; end it with Z or an offset such as +07:00");
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '-' ? -1 : 1;
    unsigned offset_hour = 0, offset_minute = 0;
    if (!read_digits(text, pos + 1, 2, offset_hour) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !read_digits(text, pos + 4, 2, offset_minute)) {
      return bad(text, "has a malformed offset; write Z, +HH:MM or -HH:MM");
    }
    if (offset_hour > 23 || offset_minute > 59) {
      return bad(text, "has an offset out of range; offsets go up to 23:59");
    }
    offset_minutes = sign * static_cast<int>(offset_hour * 60 + offset_minute);
    pos += 6;
  } else {
    return bad(text, "has no valid time zone; end it with Z or an offset such as +07:00");
  }
  if (pos != text.size()) return bad(text, "has extra characters after the time zone");

  if (month < 1 || month > 12)
    return bad(text, fmt::format("has month {:02}; months are 01 to 12", month));
  if (day < 1 || day > days_in_month(year, month)) {
    return bad(text, fmt::format("is not a calendar date: {:04}-{:02} has {} days", year, month,
                                 days_in_month(year, month)));
  }
  if (hour > 23) return bad(text, fmt::format("has hour {:02}; hours are 00 to 23", hour));
  if (minute > 59) return bad(text, fmt::format("has minute {:02}; minutes are 00 to 59", minute));
  if (second == 60) {
    return bad(text,
               "is a leap second (:60); Homeward's clock has none, use :59 or the next minute");
  }
  if (second > 59) return bad(text, fmt::format("has second {:02}; seconds are 00 to 59", second));

  // Local time minus the offset is UTC. Nothing here can overflow: years are
  // four digits, so every intermediate stays within a few times 10^17.
  const int64_t days = days_from_civil(year, month, day);
  const int64_t local_seconds = days * 86'400 + hour * 3'600 + minute * 60 + second;
  const int64_t utc_micros =
      (local_seconds - int64_t{offset_minutes} * 60) * kMicrosPerSecond + micros;
  if (timestamp_range_problem(utc_micros).has_value()) {
    return bad(text, "falls outside the years 0000 to 9999 once converted to UTC");
  }
  return TimestampMicros(utc_micros);
}

std::string format_timestamp(TimestampMicros t) {
  const int64_t v = t.value();
  const int64_t days = floor_div(v, kMicrosPerDay);
  // The remainder taken directly (not v - days * kMicrosPerDay) cannot
  // overflow even for the most negative int64.
  int64_t in_day = v % kMicrosPerDay;
  if (in_day < 0) in_day += kMicrosPerDay;
  const CivilDate date = civil_from_days(days);
  const int64_t seconds = in_day / kMicrosPerSecond;
  const int64_t micros = in_day % kMicrosPerSecond;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", date.year, date.month,
                                date.day, seconds / 3600, (seconds / 60) % 60, seconds % 60);
  if (micros != 0) out += fmt::format(".{:06}", micros);
  out += 'Z';
  return out;
}

std::string format_date(TimestampMicros t) {
  const CivilDate date = civil_from_days(floor_div(t.value(), kMicrosPerDay));
  return fmt::format("{:04}-{:02}-{:02}", date.year, date.month, date.day);
}

}  // namespace homeward::events
