#include "projections/read_models/applied_money.h"

#include <type_traits>
#include <variant>

#include "projections/case_history.h"

namespace homeward::projections {
namespace {

MinorUnits money_moved(const engine::CaseLedger& ledger, const events::Event& event) {
  return std::visit(
      [&](const auto& body) -> MinorUnits {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, events::PledgeFulfilled> ||
                      std::is_same_v<Body, events::PledgeCancelled>) {
          const auto pledge = ledger.find_pledge(body.pledge_id);
          return pledge ? ledger.pledge(*pledge).amount : MinorUnits{};
        } else if constexpr (requires { body.amount; }) {
          return body.amount;
        } else {
          return MinorUnits{};
        }
      },
      event.body);
}

}  // namespace

Status fold_applied_events(const RocksProjectionStore& store,
                           const std::function<void(const AppliedEvent&)>& on_applied,
                           const std::function<void(const events::Currency&)>& on_opened_case) {
  HistoryFoldVisitor visitor;
  visitor.on_event = [&](const engine::CaseLedger& ledger, const HistoryEvent& history,
                         const engine::Outcome& outcome) {
    if (outcome.disposition != engine::Disposition::kApplied || !on_applied) return;
    on_applied(
        AppliedEvent{history.event, ledger.summary.currency, money_moved(ledger, history.event)});
  };
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    if (ledger.summary.opened && on_opened_case) on_opened_case(ledger.summary.currency);
    return {};
  };
  return fold_histories(store, HistoryFilter{}, visitor);
}

}  // namespace homeward::projections
