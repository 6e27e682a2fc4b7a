// Fuzz target: money and timestamp parsing (SPEC section 2; issue 14 item 2).
//
// The first byte picks what is parsed: even, a timestamp (the rest is the
// text); odd, an amount in the currency numbered by the second byte (modulo
// the table, events::all_currencies()), the rest being the text.
//
// An amount is compared with a second parser written here from SPEC's rule
// (digits, optionally '.' and 1 to exponent digits, none for exponent 0,
// value from 1 to 10^15 minor units): both must agree on accept or refuse and
// on the value, and format_amount must give text that parses to the same
// value. A timestamp that parses must format to canonical UTC text that
// parses to the same instant and formats the same again.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/money.h"
#include "events/timestamp.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace homeward;
using namespace homeward::events;

std::optional<int64_t> reference_amount(std::string_view text, uint8_t exponent) {
  size_t i = 0;
  __int128 value = 0;
  size_t whole = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    if (value > kAmountMax) value = kAmountMax + 1;  // saturate: already too large
    ++i;
    ++whole;
  }
  if (whole == 0) return std::nullopt;
  size_t decimals = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      if (value > __int128{kAmountMax} * 10000) value = __int128{kAmountMax} * 10000 + 1;
      ++i;
      ++decimals;
    }
    if (decimals == 0 || decimals > exponent) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  for (size_t d = decimals; d < exponent; ++d) value *= 10;
  if (value < kAmountMin || value > kAmountMax) return std::nullopt;
  return static_cast<int64_t>(value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto parsed = parse_timestamp(text);
    if (!parsed) return 0;
    const std::string formatted = format_timestamp(*parsed);
    auto again = parse_timestamp(formatted);
    FUZZ_CHECK(again.has_value() && *again == *parsed,
               "a formatted timestamp does not parse back to the same instant: %s",
               formatted.c_str());
    FUZZ_CHECK(format_timestamp(*again) == formatted, "timestamp formatting is not canonical");
    FUZZ_CHECK(formatted.size() == 20 || formatted.size() == 27, "odd formatted length: %s",
               formatted.c_str());
    FUZZ_CHECK(format_date(*parsed) == formatted.substr(0, 10), "format_date disagrees");
    return 0;
  }
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto currencies = all_currencies();
  const Currency& currency = currencies[data[1] % currencies.size()];
  auto parsed = parse_amount(text, currency);
  const std::optional<int64_t> expected = reference_amount(text, currency.exponent);
  FUZZ_CHECK(parsed.has_value() == expected.has_value(),
             "parse_amount %s what SPEC's rule %s (currency exponent %d)",
             parsed ? "accepts" : "refuses", expected ? "accepts" : "refuses", currency.exponent);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty(), "a refused amount without a reason");
    return 0;
  }
  FUZZ_CHECK(parsed->value() == *expected, "parse_amount gives %lld, SPEC's rule %lld",
             static_cast<long long>(parsed->value()), static_cast<long long>(*expected));
  const std::string formatted = format_amount(*parsed, currency.exponent);
  auto again = parse_amount(formatted, currency);
  FUZZ_CHECK(again.has_value() && *again == *parsed, "a formatted amount does not parse back: %s",
             formatted.c_str());
  return 0;
}
