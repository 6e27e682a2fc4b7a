// Value rules of SPEC section 2: currencies, amounts, timestamps, identifiers.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>

#include "events/event.h"
#include "events/identifier.h"
#include "events/money.h"
#include "events/timestamp.h"
#include "sample_events.h"

namespace homeward::events {
namespace {

using testing::currency;

// --- currencies ---

TEST(CurrencyTable, IsSortedByCodeAndUnique) {
  const auto all = all_currencies();
  ASSERT_GT(all.size(), 150u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].code_view(), all[i].code_view());
  }
}

TEST(CurrencyTable, KnowsIsoMinorUnitExponents) {
  const std::vector<std::pair<std::string, int>> expected = {
      {"USD", 2}, {"EUR", 2}, {"THB", 2}, {"IDR", 2}, {"PHP", 2}, {"JPY", 0}, {"KRW", 0},
      {"VND", 0}, {"KWD", 3}, {"BHD", 3}, {"JOD", 3}, {"TND", 3}, {"OMR", 3}, {"LYD", 3},
      {"IQD", 3}, {"CLF", 4}, {"UYW", 4}, {"XAF", 0}, {"XOF", 0}, {"ISK", 0}, {"CLP", 0},
      {"UGX", 0}, {"PYG", 0}, {"RWF", 0}, {"GBP", 2}, {"CHF", 2}, {"XPF", 0}, {"UYI", 0},
      {"ZWG", 2}, {"XCG", 2}, {"SLE", 2}, {"VES", 2}, {"MRU", 2}, {"STN", 2}};
  for (const auto& [code, exponent] : expected) {
    auto found = find_currency(code);
    ASSERT_TRUE(found.has_value()) << code;
    EXPECT_EQ(found->code_view(), code);
    EXPECT_EQ(found->exponent, exponent) << code;
  }
}

TEST(CurrencyTable, RefusesCodesWithoutMinorUnitAndWithdrawnCodes) {
  for (const char* code : {"XAU", "XAG", "XPD", "XPT", "XDR", "XXX", "XTS", "XBA", "XBB", "XBC",
                           "XBD", "XSU", "XUA", "HRK", "DEM", "FRF", "ZMK", "MRO"}) {
    EXPECT_FALSE(find_currency(code).has_value()) << code;
  }
}

TEST(CurrencyTable, IsExactAndUpperCaseOnly) {
  EXPECT_FALSE(find_currency("usd").has_value());
  EXPECT_FALSE(find_currency("Usd").has_value());
  EXPECT_FALSE(find_currency("US").has_value());
  EXPECT_FALSE(find_currency("USDX").has_value());
  EXPECT_FALSE(find_currency("").has_value());
  EXPECT_FALSE(find_currency(std::string_view("US\0", 3)).has_value());
}

// --- amounts ---

int64_t amount_ok(std::string_view text, std::string_view code) {
  auto parsed = parse_amount(text, currency(code));
  EXPECT_TRUE(parsed.has_value()) << text << " " << code << ": "
                                  << (parsed ? "" : parsed.error().message);
  return parsed ? parsed->value() : -1;
}

std::string amount_refused(std::string_view text, std::string_view code) {
  auto parsed = parse_amount(text, currency(code));
  EXPECT_FALSE(parsed.has_value())
      << text << " " << code << " parsed as " << (parsed ? parsed->value() : 0);
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  return parsed.error().message;
}

TEST(ParseAmount, JpyTakesWholeUnitsOnly) {
  EXPECT_EQ(amount_ok("1500", "JPY"), 1500);
  EXPECT_EQ(amount_ok("1", "JPY"), 1);
  EXPECT_NE(amount_refused("1500.0", "JPY").find("JPY has no minor unit"), std::string::npos);
  amount_refused("1500.", "JPY");
  amount_refused("0", "JPY");
}

TEST(ParseAmount, UsdTakesUpToTwoDecimals) {
  EXPECT_EQ(amount_ok("0.01", "USD"), 1);
  EXPECT_EQ(amount_ok("25", "USD"), 2500);
  EXPECT_EQ(amount_ok("25.5", "USD"), 2550);
  EXPECT_EQ(amount_ok("25.05", "USD"), 2505);
  EXPECT_EQ(amount_refused("12.345", "USD"), "\"12.345\" has 3 decimals; USD allows at most 2");
  amount_refused("0.001", "USD");
}

TEST(ParseAmount, ZeroIsRefused) {
  EXPECT_EQ(amount_refused("0.00", "USD"), "\"0.00\" is zero; the minimum is 0.01 USD");
  amount_refused("0", "USD");
  amount_refused("000.0", "USD");
}

TEST(ParseAmount, MaximumIsTenToTheFifteenMinorUnits) {
  EXPECT_EQ(amount_ok("10000000000000.00", "USD"), 1'000'000'000'000'000);
  EXPECT_EQ(amount_ok("10000000000000", "USD"), 1'000'000'000'000'000);
  EXPECT_EQ(amount_ok("1000000000000000", "JPY"), 1'000'000'000'000'000);
  EXPECT_NE(amount_refused("10000000000000.01", "USD").find("above the maximum"),
            std::string::npos);
  amount_refused("1000000000000000.00", "USD");
  amount_refused("1000000000000001", "JPY");
  amount_refused("9223372036854775808", "JPY");
}

TEST(ParseAmount, LongDigitStringsNeverOverflow) {
  EXPECT_NE(amount_refused(std::string(100000, '9'), "USD").find("above the maximum"),
            std::string::npos);
  EXPECT_NE(amount_refused(std::string(30, '9') + ".99", "USD").find("above the maximum"),
            std::string::npos);
  // Leading zeros are allowed, however many.
  EXPECT_EQ(amount_ok(std::string(10000, '0') + "1.25", "USD"), 125);
  EXPECT_EQ(amount_ok("007.50", "USD"), 750);
}

TEST(ParseAmount, ThreeAndFourDecimalCurrencies) {
  EXPECT_EQ(amount_ok("1.234", "KWD"), 1234);
  EXPECT_EQ(amount_ok("1.2", "KWD"), 1200);
  EXPECT_EQ(amount_ok("0.001", "BHD"), 1);
  amount_refused("1.2345", "KWD");
  EXPECT_EQ(amount_ok("1.2345", "CLF"), 12345);
  EXPECT_EQ(amount_ok("0.0001", "UYW"), 1);
  amount_refused("1.23456", "CLF");
}

TEST(ParseAmount, RefusesMalformedText) {
  for (const char* text : {"", ".", "5.", ".5", "-1.00", "+1.00", "1e3", "1E3", " 1.00", "1.00 ",
                           "1,000.00", "1.0.0", "abc", "1_000", "0x10",
                           "\xC2\xA0"
                           "1",
                           "1..0"}) {
    const std::string message = amount_refused(text, "USD");
    EXPECT_FALSE(message.empty()) << text;
  }
  EXPECT_NE(amount_refused("-5", "USD").find("sign"), std::string::npos);
  EXPECT_NE(amount_refused("1e3", "USD").find("exponent"), std::string::npos);
}

TEST(FormatAmount, WritesExactlyExponentDigits) {
  EXPECT_EQ(format_amount(MinorUnits(150000), 2), "1500.00");
  EXPECT_EQ(format_amount(MinorUnits(1500), 0), "1500");
  EXPECT_EQ(format_amount(MinorUnits(-1250), 2), "-12.50");
  EXPECT_EQ(format_amount(MinorUnits(5), 2), "0.05");
  EXPECT_EQ(format_amount(MinorUnits(-5), 3), "-0.005");
  EXPECT_EQ(format_amount(MinorUnits(0), 2), "0.00");
  EXPECT_EQ(format_amount(MinorUnits(0), 0), "0");
  EXPECT_EQ(format_amount(MinorUnits(12345), 4), "1.2345");
  EXPECT_EQ(format_amount(MinorUnits(std::numeric_limits<int64_t>::min()), 2),
            "-92233720368547758.08");
}

TEST(FormatAmount, Handles128BitTotals) {
  const WideMinorUnits big =
      static_cast<WideMinorUnits>(std::numeric_limits<int64_t>::max()) * 1000;
  EXPECT_EQ(format_amount(big, 2), "92233720368547758070.00");
  EXPECT_EQ(format_amount(std::numeric_limits<WideMinorUnits>::min(), 0),
            "-170141183460469231731687303715884105728");
  EXPECT_EQ(format_amount(std::numeric_limits<WideMinorUnits>::max(), 2),
            "1701411834604692317316873037158841057.27");
}

TEST(FormatAmount, RoundTripsThroughParse) {
  for (const auto& c : all_currencies()) {
    for (int64_t v : {int64_t{1}, int64_t{99}, int64_t{100}, int64_t{123456789}, kAmountMax}) {
      auto parsed = parse_amount(format_amount(MinorUnits(v), c.exponent), c);
      ASSERT_TRUE(parsed.has_value()) << c.code_view() << " " << v;
      EXPECT_EQ(parsed->value(), v);
    }
  }
}

TEST(CheckedArithmetic, RefusesOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(checked_add(MinorUnits(2), MinorUnits(3)), MinorUnits(5));
  EXPECT_EQ(checked_add(MinorUnits(kMax - 1), MinorUnits(1)), MinorUnits(kMax));
  EXPECT_FALSE(checked_add(MinorUnits(kMax), MinorUnits(1)).has_value());
  EXPECT_FALSE(checked_add(MinorUnits(kMin), MinorUnits(-1)).has_value());
  EXPECT_EQ(checked_sub(MinorUnits(2), MinorUnits(3)), MinorUnits(-1));
  EXPECT_FALSE(checked_sub(MinorUnits(kMin), MinorUnits(1)).has_value());
  EXPECT_FALSE(checked_sub(MinorUnits(0), MinorUnits(kMin)).has_value());
}

// --- timestamps ---

int64_t ts_ok(std::string_view text) {
  auto parsed = parse_timestamp(text);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << (parsed ? "" : parsed.error().message);
  return parsed ? parsed->value() : 0;
}

std::string ts_refused(std::string_view text) {
  auto parsed = parse_timestamp(text);
  EXPECT_FALSE(parsed.has_value()) << text;
  return parsed ? "" : parsed.error().message;
}

constexpr int64_t kSec = 1'000'000;
// 2015-06-23T10:00:00Z
constexpr int64_t k20150623T10 = int64_t{1'435'053'600} * kSec;

TEST(ParseTimestamp, ReadsUtcAndOffsets) {
  EXPECT_EQ(ts_ok("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00Z"), k20150623T10);
  EXPECT_EQ(ts_ok("2015-06-23t10:00:00z"), k20150623T10);
  EXPECT_EQ(ts_ok("2015-06-23T17:00:00+07:00"), k20150623T10);
  EXPECT_EQ(ts_ok("2015-06-23T06:30:00-03:30"), k20150623T10);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00+00:00"), k20150623T10);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00-00:00"), k20150623T10);
  EXPECT_EQ(ts_ok("2015-06-24T09:59:00+23:59"), k20150623T10);
}

TEST(ParseTimestamp, ReadsOneToSixFractionalDigits) {
  EXPECT_EQ(ts_ok("2015-06-23T17:00:00.25+07:00"), k20150623T10 + 250'000);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00.1Z"), k20150623T10 + 100'000);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00.12Z"), k20150623T10 + 120'000);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00.123Z"), k20150623T10 + 123'000);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00.1234Z"), k20150623T10 + 123'400);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00.12345Z"), k20150623T10 + 123'450);
  EXPECT_EQ(ts_ok("2015-06-23T10:00:00.123456Z"), k20150623T10 + 123'456);
  EXPECT_NE(ts_refused("2015-06-23T10:00:00.1234567Z").find("7 fractional digits"),
            std::string::npos);
  ts_refused("2015-06-23T10:00:00.Z");
}

TEST(ParseTimestamp, ChecksTheCalendar) {
  EXPECT_EQ(ts_ok("2016-02-29T00:00:00Z"), int64_t{1'456'704'000} * kSec);
  EXPECT_EQ(ts_ok("2000-02-29T00:00:00Z"), int64_t{951'782'400} * kSec);
  ts_refused("2015-02-29T00:00:00Z");
  ts_refused("1900-02-29T00:00:00Z");
  ts_refused("2015-04-31T00:00:00Z");
  ts_refused("2015-13-01T00:00:00Z");
  ts_refused("2015-00-01T00:00:00Z");
  ts_refused("2015-01-00T00:00:00Z");
  ts_refused("2015-06-23T24:00:00Z");
  ts_refused("2015-06-23T10:60:00Z");
  EXPECT_NE(ts_refused("2015-06-30T23:59:60Z").find("leap second"), std::string::npos);
  ts_refused("2015-06-23T10:00:00+24:00");
  ts_refused("2015-06-23T10:00:00+05:60");
}

TEST(ParseTimestamp, RefusesOtherShapes) {
  for (const char* text :
       {"", "2015-06-23", "2015-06-23 10:00:00Z", "2015-06-23T10:00:00", "2015-06-23T10:00Z",
        "15-06-23T10:00:00Z", "2015-6-23T10:00:00Z", "2015-06-23T10:00:00+0700",
        "2015-06-23T10:00:00+07", "2015-06-23T10:00:00ZZ", "2015-06-23T10:00:00 Z",
        "+2015-06-23T10:00:00Z", "2015-06-23T10:00:00UTC", "2015-06-23T1O:00:00Z"}) {
    EXPECT_FALSE(ts_refused(text).empty()) << text;
  }
  EXPECT_NE(ts_refused("2015-06-23 10:00:00Z").find("space"), std::string::npos);
}

TEST(ParseTimestamp, NegativeOffsetsCrossMidnightAndYear) {
  // 23:30 at -03:30 on New Year's Eve is 03:00 UTC on New Year's Day.
  EXPECT_EQ(ts_ok("2015-12-31T23:30:00-03:30"), ts_ok("2016-01-01T03:00:00Z"));
  EXPECT_EQ(format_timestamp(TimestampMicros(ts_ok("2015-12-31T23:30:00-03:30"))),
            "2016-01-01T03:00:00Z");
  // 02:00 at +07:00 on New Year's Day is the previous year in UTC.
  EXPECT_EQ(format_timestamp(TimestampMicros(ts_ok("2016-01-01T02:00:00.5+07:00"))),
            "2015-12-31T19:00:00.500000Z");
  // Leap day reached across midnight.
  EXPECT_EQ(format_timestamp(TimestampMicros(ts_ok("2016-02-28T22:00:00-05:00"))),
            "2016-02-29T03:00:00Z");
}

TEST(ParseTimestamp, KeepsToYearsZeroToNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(format_timestamp(TimestampMicros(ts_ok("0000-01-01T00:00:00Z"))),
            "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(TimestampMicros(ts_ok("9999-12-31T23:59:59.999999Z"))),
            "9999-12-31T23:59:59.999999Z");
  ts_refused("0000-01-01T00:30:00+01:00");
  ts_refused("9999-12-31T23:30:00-01:00");
}

TEST(FormatTimestamp, WritesUtcWithMicrosOnlyWhenNonZero) {
  EXPECT_EQ(format_timestamp(TimestampMicros(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(TimestampMicros(k20150623T10)), "2015-06-23T10:00:00Z");
  EXPECT_EQ(format_timestamp(TimestampMicros(k20150623T10 + 250'000)),
            "2015-06-23T10:00:00.250000Z");
  EXPECT_EQ(format_timestamp(TimestampMicros(k20150623T10 + 1)), "2015-06-23T10:00:00.000001Z");
  EXPECT_EQ(format_date(TimestampMicros(k20150623T10)), "2015-06-23");
}

TEST(FormatTimestamp, HandlesInstantsBefore1970) {
  EXPECT_EQ(format_timestamp(TimestampMicros(-1)), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_timestamp(TimestampMicros(-kSec)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_date(TimestampMicros(-1)), "1969-12-31");
  EXPECT_EQ(ts_ok("1969-12-31T23:59:59.999999Z"), -1);
  EXPECT_EQ(ts_ok("1900-03-01T00:00:00Z"), int64_t{-2'203'891'200} * kSec);
  // Extreme values never crash, even though they are outside what parse accepts.
  EXPECT_FALSE(format_timestamp(TimestampMicros(std::numeric_limits<int64_t>::min())).empty());
  EXPECT_FALSE(format_timestamp(TimestampMicros(std::numeric_limits<int64_t>::max())).empty());
}

TEST(FormatTimestamp, RoundTripsThroughParseAcrossTheRange) {
  // A fixed walk over the whole 0000-9999 range, with odd strides so that
  // every month, leap day and microsecond digit is visited.
  const int64_t lo = ts_ok("0000-01-01T00:00:00Z");
  const int64_t hi = ts_ok("9999-12-31T23:59:59.999999Z");
  const int64_t stride = (hi - lo) / 20011 + 7;
  for (int64_t t = lo; t <= hi; t += stride) {
    const std::string text = format_timestamp(TimestampMicros(t));
    ASSERT_EQ(ts_ok(text), t) << text;
  }
}

// --- identifiers and free text ---

TEST(Identifier, AllowsOneTo128OfTheAllowedCharacters) {
  EXPECT_TRUE(is_valid_identifier("a"));
  EXPECT_TRUE(is_valid_identifier("case-xf"));
  EXPECT_TRUE(is_valid_identifier("A.z_0:9-"));
  EXPECT_TRUE(is_valid_identifier(std::string(128, 'x')));
  EXPECT_FALSE(is_valid_identifier(""));
  EXPECT_FALSE(is_valid_identifier(std::string(129, 'x')));
  for (const char* bad : {"a b", "a/b", "a\\b", "caf\xC3\xA9", "a\tb", "a+b", "a@b", "a#b"}) {
    EXPECT_FALSE(is_valid_identifier(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_identifier(std::string_view("a\0b", 3)));
}

TEST(FreeText, CountsCodePointsUpTo280) {
  EXPECT_TRUE(is_valid_free_text(""));
  EXPECT_TRUE(is_valid_free_text(std::string(280, 'a')));
  EXPECT_FALSE(is_valid_free_text(std::string(281, 'a')));
  std::string euros;
  for (int i = 0; i < 280; ++i) euros += "\xE2\x82\xAC";  // 840 bytes, 280 characters
  EXPECT_TRUE(is_valid_free_text(euros));
  EXPECT_FALSE(is_valid_free_text(euros + "a"));
  EXPECT_TRUE(is_valid_free_text("quote \" backslash \\ newline \n emoji \xF0\x9F\x98\x80"));
}

TEST(FreeText, RefusesInvalidUtf8) {
  EXPECT_FALSE(is_valid_free_text("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_free_text("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(is_valid_free_text("\xF0\x80\x80\xAF"));  // overlong, 4 bytes
  EXPECT_FALSE(is_valid_free_text("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_free_text("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_free_text("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_free_text("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_free_text("\xFF"));
  EXPECT_TRUE(is_valid_free_text("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_TRUE(is_valid_free_text("\xEF\xBF\xBD"));      // U+FFFD
}

// --- enum spellings ---

TEST(EnumSpellings, RoundTripSpecWords) {
  EXPECT_EQ(to_string(EventType::kDonationReceived), "DonationReceived");
  EXPECT_EQ(to_string(Category::kPsychosocial), "psychosocial");
  EXPECT_EQ(to_string(CloseReason::kCompleted), "completed");
  EXPECT_EQ(to_string(RefundReason::kCaseCancelled), "case_cancelled");
  for (size_t i = 0; i < kEventTypeCount; ++i) {
    EXPECT_EQ(parse_event_type(to_string(static_cast<EventType>(i))), static_cast<EventType>(i));
  }
  for (size_t i = 0; i < kCategoryCount; ++i) {
    EXPECT_EQ(parse_category(to_string(static_cast<Category>(i))), static_cast<Category>(i));
  }
  for (size_t i = 0; i < kCloseReasonCount; ++i) {
    EXPECT_EQ(parse_close_reason(to_string(static_cast<CloseReason>(i))),
              static_cast<CloseReason>(i));
  }
  for (size_t i = 0; i < kRefundReasonCount; ++i) {
    EXPECT_EQ(parse_refund_reason(to_string(static_cast<RefundReason>(i))),
              static_cast<RefundReason>(i));
  }
  EXPECT_FALSE(parse_event_type("donationreceived").has_value());
  EXPECT_FALSE(parse_category("Shelter").has_value());
  EXPECT_FALSE(parse_refund_reason("").has_value());
  EXPECT_EQ(to_string(ErrorCode::kCorruption), "corruption");
}

}  // namespace
}  // namespace homeward::events
