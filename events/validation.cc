#include "events/validation.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "events/check.h"
#include "events/identifier.h"
#include "events/timestamp.h"

namespace homeward::events {
namespace {

// Shows a value inside a message without letting a huge or binary input
// flood the log line.
std::string quoted(std::string_view text) {
  constexpr size_t kShown = 40;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kShown) out += "...";
  out += "\"";
  return out;
}

}  // namespace

std::optional<std::string> identifier_problem(std::string_view text) {
  if (is_valid_identifier(text)) return std::nullopt;
  if (text.empty()) return "is empty; identifiers are 1 to 128 characters of A-Z a-z 0-9 . _ : -";
  if (text.size() > kIdentifierMaxLength) {
    return fmt::format("is {} characters long; identifiers are at most {}", text.size(),
                       kIdentifierMaxLength);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_valid_identifier(text.substr(i, 1))) {
      const auto c = static_cast<unsigned char>(text[i]);
      const std::string shown = (c >= 0x20 && c < 0x7F) ? fmt::format("'{}'", static_cast<char>(c))
                                                        : fmt::format("byte 0x{:02x}", c);
      return fmt::format("{} has {} at position {}; identifiers use only A-Z a-z 0-9 . _ : -",
                         quoted(text), shown, i + 1);
    }
  }
  return "is not a valid identifier";  // unreachable: some character must be at fault
}

std::optional<std::string> free_text_problem(std::string_view text) {
  const auto characters = utf8_code_points(text);
  if (!characters) return "is not valid UTF-8";
  if (*characters > kFreeTextMaxCharacters) {
    return fmt::format("is {} characters long; at most {} are allowed", *characters,
                       kFreeTextMaxCharacters);
  }
  return std::nullopt;
}

std::optional<std::string> timestamp_range_problem(int64_t micros) {
  if (micros >= kTimestampMinMicros && micros <= kTimestampMaxMicros) return std::nullopt;
  return fmt::format(
      "{} microseconds since 1970 is outside the years 0000 to 9999 (UTC) that timestamps may use",
      micros);
}

std::optional<std::string> amount_range_problem(int64_t minor, const Currency& currency) {
  if (minor >= kAmountMin && minor <= kAmountMax) return std::nullopt;
  if (minor < kAmountMin) {
    return fmt::format("{} is below the minimum of 1 minor unit ({} {})", minor,
                       format_amount(MinorUnits(kAmountMin), currency.exponent),
                       currency.code_view());
  }
  return fmt::format("{} is above the maximum of 10^15 minor units ({} {})", minor,
                     format_amount(MinorUnits(kAmountMax), currency.exponent),
                     currency.code_view());
}

std::expected<Currency, std::string> check_currency(std::string_view code) {
  if (auto currency = find_currency(code)) return *currency;
  std::string upper(code);
  bool had_lower = false;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
      had_lower = true;
    }
  }
  if (had_lower && find_currency(upper)) {
    return std::unexpected(
        fmt::format("{} must be written in upper case: \"{}\"", quoted(code), upper));
  }
  return std::unexpected(fmt::format(
      "{} is not a supported currency (an ISO 4217 code in current use with a minor unit, "
      "such as USD, EUR, THB or JPY)",
      quoted(code)));
}

std::expected<FundingPlan, FieldError> make_funding_plan(
    std::string_view type_name, const Currency& currency, std::optional<int64_t> goal,
    std::optional<std::vector<BudgetLine>> budget) {
  if (!goal && !budget) {
    return std::unexpected(FieldError{
        "goal", fmt::format("is missing; {} needs a goal, a budget, or both", type_name)});
  }
  int64_t sum = 0;
  if (budget) {
    if (budget->empty()) {
      return std::unexpected(FieldError{
          "budget", "is empty; give at least one {category, amount} entry or leave budget out"});
    }
    std::array<std::optional<size_t>, kCategoryCount> first_index{};
    for (size_t i = 0; i < budget->size(); ++i) {
      const BudgetLine& line = (*budget)[i];
      if (auto problem = amount_range_problem(line.amount.value(), currency)) {
        return std::unexpected(FieldError{fmt::format("budget[{}].amount", i), *problem});
      }
      const auto category = static_cast<size_t>(line.category);
      HOMEWARD_CHECK(category < kCategoryCount, "budget categories are range-checked by callers");
      if (first_index[category]) {
        return std::unexpected(
            FieldError{fmt::format("budget[{}].category", i),
                       fmt::format("repeats \"{}\" of budget[{}]; each category may appear once",
                                   to_string(line.category), *first_index[category])});
      }
      first_index[category] = i;
      // At most kCategoryCount lines of at most 10^15 each: no overflow.
      sum += line.amount.value();
    }
  }
  if (goal) {
    if (auto problem = amount_range_problem(*goal, currency)) {
      return std::unexpected(FieldError{"goal", *problem});
    }
  }
  if (budget && sum > kAmountMax) {
    return std::unexpected(FieldError{
        "budget",
        fmt::format("sums to {} {}, above the maximum goal of {} {}",
                    format_amount(MinorUnits(sum), currency.exponent), currency.code_view(),
                    format_amount(MinorUnits(kAmountMax), currency.exponent),
                    currency.code_view())});
  }
  if (goal && budget && *goal != sum) {
    return std::unexpected(FieldError{
        "goal",
        fmt::format("is {} {} but the budget sums to {} {}; they must be equal",
                    format_amount(MinorUnits(*goal), currency.exponent), currency.code_view(),
                    format_amount(MinorUnits(sum), currency.exponent), currency.code_view())});
  }
  FundingPlan plan;
  plan.currency = currency;
  plan.goal = MinorUnits(budget ? sum : *goal);
  if (budget) {
    std::sort(budget->begin(), budget->end(),
              [](const BudgetLine& a, const BudgetLine& b) { return a.category < b.category; });
    plan.budget = std::move(budget);
  }
  return plan;
}

}  // namespace homeward::events
