#include "events/money.h"

#include <algorithm>

#include <fmt/format.h>

namespace homeward::events {
namespace {

// Shows the amount text inside a message, shortened so that a megabyte of
// digits does not become a megabyte of log.
std::string shown(std::string_view text) {
  constexpr size_t kShown = 40;
  if (text.size() <= kShown) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\" ({} characters)", text.substr(0, kShown), text.size());
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Error amount_error(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// "25.00" for USD, "25" for JPY, "25.000" for KWD.
std::string example(const Currency& currency) {
  std::string out = "\"25";
  if (currency.exponent > 0) {
    out.push_back('.');
    out.append(currency.exponent, '0');
  }
  out.push_back('"');
  return out;
}

}  // namespace

Result<MinorUnits> parse_amount(std::string_view text, const Currency& currency) {
  const std::string_view code = currency.code_view();
  const int exponent = currency.exponent;
  if (text.empty()) {
    return std::unexpected(
        amount_error(fmt::format("is empty; write a decimal such as {}", example(currency))));
  }
  // Name the most common mistakes before the generic "unexpected character".
  if (text.front() == '-' || text.front() == '+') {
    return std::unexpected(amount_error(
        fmt::format("{} has a sign; amounts are positive decimals without a sign", shown(text))));
  }
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      return std::unexpected(amount_error(
          fmt::format("{} contains white space; write only digits and '.'", shown(text))));
    }
    if (c == 'e' || c == 'E') {
      return std::unexpected(
          amount_error(fmt::format("{} uses exponent notation; write a plain decimal such as {}",
                                   shown(text), example(currency))));
    }
    if (c == ',') {
      return std::unexpected(amount_error(fmt::format(
          "{} contains ','; write no thousands separators and use '.' for decimals", shown(text))));
    }
    if (!is_digit(c) && c != '.') {
      return std::unexpected(amount_error(fmt::format(
          "{} contains '{}'; amounts are digits with an optional '.'", shown(text), c)));
    }
  }
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view fraction;
  if (dot != std::string_view::npos) {
    fraction = text.substr(dot + 1);
    if (fraction.find('.') != std::string_view::npos) {
      return std::unexpected(amount_error(fmt::format("{} has more than one '.'", shown(text))));
    }
    if (exponent == 0) {
      return std::unexpected(amount_error(
          fmt::format("{} has a '.'; {} has no minor unit, so amounts are whole numbers such as {}",
                      shown(text), code, example(currency))));
    }
    if (whole.empty() || fraction.empty()) {
      return std::unexpected(amount_error(fmt::format(
          "{} needs digits on both sides of '.', such as {}", shown(text), example(currency))));
    }
    if (fraction.size() > static_cast<size_t>(exponent)) {
      return std::unexpected(
          amount_error(fmt::format("{} has {} decimals; {} allows at most {}", shown(text),
                                   fraction.size(), code, exponent)));
    }
  }
  // value = whole * 10^exponent + fraction padded to `exponent` digits. The
  // value only grows as digits are added, so stopping as soon as it passes
  // kAmountMax both refuses it and keeps the arithmetic far from overflow,
  // however long the digit string (leading zeros are allowed).
  int64_t value = 0;
  auto push_digit = [&value](char c) {
    value = value * 10 + (c - '0');
    return value <= kAmountMax;
  };
  bool in_range = true;
  for (char c : whole) {
    if (!(in_range = push_digit(c))) break;
  }
  for (int i = 0; in_range && i < exponent; ++i) {
    const char c = static_cast<size_t>(i) < fraction.size() ? fraction[i] : '0';
    in_range = push_digit(c);
  }
  if (!in_range) {
    return std::unexpected(amount_error(
        fmt::format("{} is above the maximum of {} {} (10^15 minor units)", shown(text),
                    format_amount(MinorUnits(kAmountMax), currency.exponent), code)));
  }
  if (value < kAmountMin) {
    return std::unexpected(
        amount_error(fmt::format("{} is zero; the minimum is {} {}", shown(text),
                                 format_amount(MinorUnits(kAmountMin), currency.exponent), code)));
  }
  return MinorUnits(value);
}

std::string group_thousands(std::string_view number) {
  const size_t sign = !number.empty() && number[0] == '-' ? 1 : 0;
  const size_t point = std::min(number.find('.'), number.size());
  std::string out(number.substr(0, sign));
  const std::string_view digits = number.substr(sign, point - sign);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  out += number.substr(point);
  return out;
}

std::string group_thousands(int64_t count) { return group_thousands(std::to_string(count)); }

std::string format_amount(WideMinorUnits minor, uint8_t exponent) {
  // Digits of |minor|, built from the least significant end. Negating in
  // unsigned 128 bits is safe even for the most negative value.
  const bool negative = minor < 0;
  unsigned __int128 magnitude =
      negative ? -static_cast<unsigned __int128>(minor) : static_cast<unsigned __int128>(minor);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() < static_cast<size_t>(exponent) + 1) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out;
  out.reserve(digits.size() + 2);
  if (negative) out.push_back('-');
  const size_t whole_length = digits.size() - exponent;
  out.append(digits, 0, whole_length);
  if (exponent > 0) {
    out.push_back('.');
    out.append(digits, whole_length, exponent);
  }
  return out;
}

std::optional<MinorUnits> checked_add(MinorUnits a, MinorUnits b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a.value(), b.value(), &out)) return std::nullopt;
  return MinorUnits(out);
}

std::optional<MinorUnits> checked_sub(MinorUnits a, MinorUnits b) {
  int64_t out = 0;
  if (__builtin_sub_overflow(a.value(), b.value(), &out)) return std::nullopt;
  return MinorUnits(out);
}

}  // namespace homeward::events
