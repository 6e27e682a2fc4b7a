#include "projections/read_models/monthly_flows.h"

#include <string_view>
#include <type_traits>
#include <variant>

#include "events/event.h"
#include "events/timestamp.h"
#include "projections/case_history.h"

namespace homeward::projections {
namespace {

void add(FlowCount& flow, MinorUnits amount) {
  ++flow.count;
  flow.amount += amount.value();
}

// The pledge's amount, after a PledgeFulfilled or PledgeCancelled was applied
// (the rules only apply those to a known pledge).
MinorUnits pledge_amount(const engine::CaseLedger& ledger, std::string_view pledge_id) {
  const auto pledge = ledger.find_pledge(pledge_id);
  return pledge ? ledger.pledge(*pledge).amount : MinorUnits{};
}

}  // namespace

Result<MonthlyFlows> monthly_flows(const RocksProjectionStore& store) {
  MonthlyFlows flows;
  HistoryFoldVisitor visitor;
  visitor.on_event = [&](const engine::CaseLedger& ledger, const HistoryEvent& history,
                         const engine::Outcome& outcome) {
    if (outcome.disposition != engine::Disposition::kApplied) return;
    const events::Event& event = history.event;
    // Applied money events always match the case's currency (currency_mismatch).
    const events::Currency& currency = ledger.summary.currency;
    const std::string code(currency.code_view());
    // "YYYY-MM-DD" -> "YYYY-MM"; years 0001-9999, as format_date writes them.
    std::string month = events::format_date(event.occurred_at);
    month.resize(month.size() - 3);

    MonthFlows* month_flows = nullptr;
    auto flows_of_month = [&]() -> MonthFlows& {
      if (month_flows == nullptr) {
        month_flows = &flows.months[FlowKey{code, month}];
        flows.exponents[code] = currency.exponent;
      }
      return *month_flows;
    };
    std::visit(
        [&](const auto& body) {
          using Body = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<Body, events::DonationReceived>) {
            add(flows_of_month().donations, body.amount);
          } else if constexpr (std::is_same_v<Body, events::PledgeMade>) {
            add(flows_of_month().pledges_made, body.amount);
          } else if constexpr (std::is_same_v<Body, events::PledgeFulfilled>) {
            const MinorUnits amount = pledge_amount(ledger, body.pledge_id);
            add(flows_of_month().donations, amount);
            add(flows_of_month().pledges_fulfilled, amount);
          } else if constexpr (std::is_same_v<Body, events::PledgeCancelled>) {
            add(flows_of_month().pledges_cancelled, pledge_amount(ledger, body.pledge_id));
          } else if constexpr (std::is_same_v<Body, events::RefundIssued>) {
            add(flows_of_month().refunds, body.amount);
          } else if constexpr (std::is_same_v<Body, events::FundsDisbursed>) {
            add(flows_of_month().disbursements, body.amount);
          }
          // CaseOpened, CaseGoalChanged, CaseClosed move no money.
        },
        event.body);
  };
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    // A currency that a case uses shows even in a month with no money moved
    // only through its exponent; by_currency's zeros come from the impact report.
    if (ledger.summary.opened) {
      flows.exponents[std::string(ledger.summary.currency.code_view())] =
          ledger.summary.currency.exponent;
    }
    return {};
  };
  if (auto s = fold_histories(store, HistoryFilter{}, visitor); !s) {
    return std::unexpected(s.error());
  }
  return flows;
}

}  // namespace homeward::projections
