// Monthly flows: per currency and calendar month (UTC) of occurred_at, the
// applied money movements of every case (the audit's periods.csv).
//
// Computed on demand by folding the case histories (case_history.h) rather
// than kept by the projector: the projector's hot path stays as it was, and
// the audit, the only reader, replays everything anyway. Only applied events
// count; duplicates and rejections move no money. Thread-safe for reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "events/error.h"
#include "events/money.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

// Count and sum of one kind of applied event.
struct FlowCount {
  int64_t count = 0;
  events::WideMinorUnits amount = 0;
  bool operator==(const FlowCount&) const = default;
};

// One currency's applied flows in one month. Over all months:
// donations.amount = received, refunds.amount = refunded, disbursements.amount
// = disbursed, and pledges_made - pledges_fulfilled - pledges_cancelled =
// pledged (the by_currency figures of SPEC section 6).
struct MonthFlows {
  FlowCount donations;  // DonationReceived and PledgeFulfilled
  FlowCount refunds;
  FlowCount disbursements;
  FlowCount pledges_made;
  FlowCount pledges_fulfilled;  // the pledge's amount, when the pledge is kept
  FlowCount pledges_cancelled;  // the pledge's amount, when it is cancelled
  bool operator==(const MonthFlows&) const = default;
};

struct FlowKey {
  std::string currency;  // ISO 4217 code
  std::string month;     // "YYYY-MM", UTC
  auto operator<=>(const FlowKey&) const = default;
};

struct MonthlyFlows {
  // Sorted by currency, then month; only months with an applied event.
  std::map<FlowKey, MonthFlows> months;
  std::map<std::string, uint8_t> exponents;  // currency -> minor-unit exponent
};

[[nodiscard]] Result<MonthlyFlows> monthly_flows(const RocksProjectionStore& store);

}  // namespace homeward::projections
