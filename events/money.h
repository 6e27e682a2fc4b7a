// Currencies and exact amounts (SPEC section 2).
//
// Amounts are integers of the currency's minor unit; no floating point is ever
// on the path of an amount. Totals across cases are summed in 128 bits
// (`WideMinorUnits`) so that they never overflow. All functions are pure and
// thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "events/error.h"
#include "events/strong_int.h"

namespace homeward::events {

// The smallest and largest amount one event may carry, in minor units.
inline constexpr int64_t kAmountMin = 1;
inline constexpr int64_t kAmountMax = 1'000'000'000'000'000;  // 10^15

using WideMinorUnits = __int128;

// An ISO 4217 alphabetic code in current use and its minor-unit exponent.
struct Currency {
  std::array<char, 3> code{};  // upper-case letters, no terminator
  uint8_t exponent = 0;        // 0, 2, 3 or 4 (UYW)

  [[nodiscard]] std::string_view code_view() const { return {code.data(), code.size()}; }
  bool operator==(const Currency& other) const { return code == other.code; }
};

// The currency with this exact code, or nullopt when the code is unknown, not
// in current use, or has no minor unit (XAU, XDR, XXX, ...).
[[nodiscard]] std::optional<Currency> find_currency(std::string_view code);

// Every supported currency, sorted by code.
[[nodiscard]] std::span<const Currency> all_currencies();

// Parses a decimal string in major units into minor units (SPEC section 2):
// one or more digits, optionally '.' and 1 to `exponent` digits (no '.' at all
// for exponent 0); the value must be within [kAmountMin, kAmountMax]. The
// error message says what is wrong, for example "has 3 decimals; USD allows 2".
[[nodiscard]] Result<MinorUnits> parse_amount(std::string_view text, const Currency& currency);

// Formats minor units with exactly `exponent` fractional digits ("1500.00",
// "1500" for JPY, "-12.50").
[[nodiscard]] std::string format_amount(WideMinorUnits minor, uint8_t exponent);
[[nodiscard]] inline std::string format_amount(MinorUnits minor, uint8_t exponent) {
  return format_amount(static_cast<WideMinorUnits>(minor.value()), exponent);
}

// The integer part of a formatted amount or count in groups of three digits,
// for people to read: "12000000000000.000" -> "12,000,000,000,000.000",
// "-1234.50" -> "-1,234.50". Machine-readable output keeps SPEC section 2's
// form (format_amount).
[[nodiscard]] std::string group_thousands(std::string_view number);
[[nodiscard]] std::string group_thousands(int64_t count);

// Checked arithmetic: nullopt when the result leaves the signed 64-bit range.
[[nodiscard]] std::optional<MinorUnits> checked_add(MinorUnits a, MinorUnits b);
[[nodiscard]] std::optional<MinorUnits> checked_sub(MinorUnits a, MinorUnits b);

}  // namespace homeward::events
