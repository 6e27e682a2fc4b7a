#include "projections/read_models/daily_raised.h"

#include <string>
#include <variant>

#include "events/event.h"
#include "events/timestamp.h"
#include "projections/read_models/applied_money.h"

namespace homeward::projections {

Result<DailyRaised> daily_raised(const RocksProjectionStore& store) {
  DailyRaised raised;
  auto on_applied = [&](const AppliedEvent& applied) {
    // A kept pledge is a donation of its amount; pledges made or cancelled
    // raise nothing yet; disbursements spend what was raised.
    const auto& body = applied.event.body;
    events::WideMinorUnits delta = 0;
    if (std::holds_alternative<events::DonationReceived>(body) ||
        std::holds_alternative<events::PledgeFulfilled>(body)) {
      delta = applied.amount.value();
    } else if (std::holds_alternative<events::RefundIssued>(body)) {
      delta = -static_cast<events::WideMinorUnits>(applied.amount.value());
    } else {
      return;
    }
    const std::string code(applied.currency.code_view());
    raised.exponents[code] = applied.currency.exponent;
    raised.by_currency[code][events::format_date(applied.event.occurred_at)] += delta;
  };
  auto on_opened_case = [&](const events::Currency& currency) {
    const std::string code(currency.code_view());
    raised.exponents[code] = currency.exponent;
    raised.by_currency[code];  // a currency with no money moved yet: an empty series
  };
  if (auto s = fold_applied_events(store, on_applied, on_opened_case); !s) {
    return std::unexpected(s.error());
  }
  return raised;
}

nlohmann::ordered_json public_raised_json(const DailyRaised& raised) {
  nlohmann::ordered_json by_currency = nlohmann::ordered_json::object();
  for (const auto& [code, days] : raised.by_currency) {
    const uint8_t exponent = raised.exponents.at(code);
    nlohmann::ordered_json series = nlohmann::ordered_json::array();
    events::WideMinorUnits total = 0;
    for (const auto& [day, amount] : days) {
      total += amount;
      nlohmann::ordered_json entry = nlohmann::ordered_json::object();
      entry["day"] = day;
      entry["raised"] = events::format_amount(amount, exponent);
      entry["total"] = events::format_amount(total, exponent);
      series.push_back(std::move(entry));
    }
    by_currency[code] = std::move(series);
  }
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  document["by_currency"] = std::move(by_currency);
  return document;
}

}  // namespace homeward::projections
