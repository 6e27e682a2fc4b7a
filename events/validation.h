// Stage-1 value rules (SPEC section 2), written once and shared by both ways
// an Event comes into being: NDJSON parsing (ndjson.cc) and FlatBuffers
// decoding (codec.cc). Private to the events module.
//
// Each check returns the reason a value breaks its rule, worded for a portal
// developer, or nothing when the value is fine. Callers put the field name in
// front. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"
#include "events/money.h"
#include "events/ndjson.h"

namespace homeward::events {

// The instants `format_timestamp` can write: years 0000 to 9999, in UTC.
inline constexpr int64_t kTimestampMinMicros = -62'167'219'200'000'000;  // 0000-01-01T00:00:00Z
inline constexpr int64_t kTimestampMaxMicros =
    253'402'300'799'999'999;  // 9999-12-31T23:59:59.999999Z

// The number of code points of strict UTF-8 text (no overlongs, surrogates or
// values above U+10FFFF), or nullopt when the bytes are not such UTF-8.
[[nodiscard]] std::optional<size_t> utf8_code_points(std::string_view text);

[[nodiscard]] std::optional<std::string> identifier_problem(std::string_view text);
[[nodiscard]] std::optional<std::string> free_text_problem(std::string_view text);
[[nodiscard]] std::optional<std::string> timestamp_range_problem(int64_t micros);
// For amounts already in minor units (the wire form); parse_amount words its
// own messages in terms of the text it was given.
[[nodiscard]] std::optional<std::string> amount_range_problem(int64_t minor,
                                                              const Currency& currency);

// The supported currency with this code, or the reason it is refused.
[[nodiscard]] std::expected<Currency, std::string> check_currency(std::string_view code);

// The spellings of an enum for messages: "completed, cancelled or other".
template <typename Enum, size_t N>
[[nodiscard]] std::string word_list() {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += (i + 1 == N) ? " or " : ", ";
    out += to_string(static_cast<Enum>(i));
  }
  return out;
}

// Builds the checked FundingPlan of a CaseOpened / CaseGoalChanged from what
// the producer gave: `goal` and/or `budget` (lines in the producer's order).
// Checks, in this order: at least one of the two is given; a given budget is
// non-empty, each line's amount is in range and its category is not repeated;
// a given goal is in range; the budget's sum is in range; with both, the goal
// equals the sum. Field names in errors are "goal", "budget",
// "budget[i].amount", "budget[i].category". On success the budget is sorted by
// category and the goal is the budget's sum when only the budget was given.
[[nodiscard]] std::expected<FundingPlan, FieldError> make_funding_plan(
    std::string_view type_name, const Currency& currency, std::optional<int64_t> goal,
    std::optional<std::vector<BudgetLine>> budget);

}  // namespace homeward::events
