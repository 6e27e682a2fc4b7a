#include "projections/read_models/monthly_flows.h"

#include <string>
#include <variant>

#include "events/event.h"
#include "events/timestamp.h"
#include "projections/read_models/applied_money.h"

namespace homeward::projections {
namespace {

void add(FlowCount& flow, MinorUnits amount) {
  ++flow.count;
  flow.amount += amount.value();
}

}  // namespace

Result<MonthlyFlows> monthly_flows(const RocksProjectionStore& store) {
  MonthlyFlows flows;
  auto on_applied = [&](const AppliedEvent& applied) {
    const auto& body = applied.event.body;
    if (std::holds_alternative<events::CaseOpened>(body) ||
        std::holds_alternative<events::CaseGoalChanged>(body) ||
        std::holds_alternative<events::CaseClosed>(body)) {
      return;  // no money moved
    }
    const std::string code(applied.currency.code_view());
    // "YYYY-MM-DD" -> "YYYY-MM"; years 0001-9999, as format_date writes them.
    std::string month = events::format_date(applied.event.occurred_at);
    month.resize(month.size() - 3);
    MonthFlows& month_flows = flows.months[FlowKey{code, month}];
    flows.exponents[code] = applied.currency.exponent;
    if (std::holds_alternative<events::DonationReceived>(body)) {
      add(month_flows.donations, applied.amount);
    } else if (std::holds_alternative<events::PledgeMade>(body)) {
      add(month_flows.pledges_made, applied.amount);
    } else if (std::holds_alternative<events::PledgeFulfilled>(body)) {
      // A kept pledge is a donation of its amount.
      add(month_flows.donations, applied.amount);
      add(month_flows.pledges_fulfilled, applied.amount);
    } else if (std::holds_alternative<events::PledgeCancelled>(body)) {
      add(month_flows.pledges_cancelled, applied.amount);
    } else if (std::holds_alternative<events::RefundIssued>(body)) {
      add(month_flows.refunds, applied.amount);
    } else if (std::holds_alternative<events::FundsDisbursed>(body)) {
      add(month_flows.disbursements, applied.amount);
    }
  };
  // A currency that a case uses shows even in a month with no money moved
  // only through its exponent; by_currency's zeros come from the impact report.
  auto on_opened_case = [&](const events::Currency& currency) {
    flows.exponents[std::string(currency.code_view())] = currency.exponent;
  };
  if (auto s = fold_applied_events(store, on_applied, on_opened_case); !s) {
    return std::unexpected(s.error());
  }
  return flows;
}

}  // namespace homeward::projections
