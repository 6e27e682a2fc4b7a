// The applied events of every case's history, with the money each moved: what
// the read models that add money up by period (monthly_flows.h, daily_raised.h)
// fold, so that both read the histories and the pledges' amounts one way.
// Thread-safe for reads, like fold_histories (projections/case_history.h).
#pragma once

#include <functional>

#include "events/error.h"
#include "events/event.h"
#include "events/money.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

struct AppliedEvent {
  const events::Event& event;
  // The case's currency: applied money events always match it
  // (currency_mismatch).
  const events::Currency& currency;
  // The money it moved: the amount of a DonationReceived, RefundIssued,
  // FundsDisbursed or PledgeMade; the pledge's amount for a PledgeFulfilled
  // or PledgeCancelled (the rules apply those only to a known pledge); zero
  // for events that move no money (opening, goals, closing).
  MinorUnits amount;
};

// Folds every case's history with the ledger rules: on_applied for each
// event they applied, in each case's order; on_opened_case once per opened
// case, after its last event, with its currency. Either may be empty.
[[nodiscard]] Status fold_applied_events(
    const RocksProjectionStore& store, const std::function<void(const AppliedEvent&)>& on_applied,
    const std::function<void(const events::Currency&)>& on_opened_case);

}  // namespace homeward::projections
