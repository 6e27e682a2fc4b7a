#include "projections/read_models/daily_raised.h"

#include <string_view>
#include <type_traits>
#include <variant>

#include "events/event.h"
#include "events/timestamp.h"
#include "projections/case_history.h"

namespace homeward::projections {

Result<DailyRaised> daily_raised(const RocksProjectionStore& store) {
  DailyRaised raised;
  HistoryFoldVisitor visitor;
  visitor.on_event = [&](const engine::CaseLedger& ledger, const HistoryEvent& history,
                         const engine::Outcome& outcome) {
    if (outcome.disposition != engine::Disposition::kApplied) return;
    const events::Event& event = history.event;
    // Applied money events always match the case's currency (currency_mismatch).
    const events::Currency& currency = ledger.summary.currency;
    events::WideMinorUnits delta = 0;
    bool moves_money = false;
    std::visit(
        [&](const auto& body) {
          using Body = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<Body, events::DonationReceived>) {
            delta = body.amount.value();
            moves_money = true;
          } else if constexpr (std::is_same_v<Body, events::PledgeFulfilled>) {
            // The rules apply a PledgeFulfilled only to a known pledge, which
            // then becomes a donation of the pledge's amount.
            const auto pledge = ledger.find_pledge(body.pledge_id);
            delta = pledge ? ledger.pledge(*pledge).amount.value() : 0;
            moves_money = true;
          } else if constexpr (std::is_same_v<Body, events::RefundIssued>) {
            delta = -static_cast<events::WideMinorUnits>(body.amount.value());
            moves_money = true;
          }
          // Pledges made or cancelled raise nothing yet; disbursements spend
          // what was raised; opening, goals and closing move no money.
        },
        event.body);
    if (!moves_money) return;
    const std::string code(currency.code_view());
    raised.exponents[code] = currency.exponent;
    raised.by_currency[code][events::format_date(event.occurred_at)] += delta;
  };
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    if (ledger.summary.opened) {
      const std::string code(ledger.summary.currency.code_view());
      raised.exponents[code] = ledger.summary.currency.exponent;
      raised.by_currency[code];  // a currency with no money moved yet: an empty series
    }
    return {};
  };
  if (auto s = fold_histories(store, HistoryFilter{}, visitor); !s) {
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
