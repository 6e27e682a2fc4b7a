// Figures across cases: the impact report of SPEC section 6.
//
// ImpactBuilder is a pure, order-free aggregation over case summaries: cross
// case sums are kept in 128 bits, so they never reject an event. The event
// counters (applied, duplicates, rejected by reason) are kept by the projector
// in ProjectionTotals, because they include events of cases that never opened.
// Plain values; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/rules.h"
#include "events/money.h"

namespace homeward::engine {

// Events read from the log, by outcome. applied + duplicates + rejected is
// the number of events read.
struct ProjectionTotals {
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  std::array<int64_t, kRejectReasonCount> rejected_by_reason{};

  void count(const Outcome& outcome);
  [[nodiscard]] int64_t read() const { return applied + duplicates + rejected; }
  bool operator==(const ProjectionTotals&) const = default;
};

struct CurrencyTotals {
  events::WideMinorUnits received = 0;
  events::WideMinorUnits refunded = 0;
  events::WideMinorUnits net = 0;
  events::WideMinorUnits pledged = 0;
  events::WideMinorUnits disbursed = 0;
  events::WideMinorUnits surplus = 0;
  // The goals of the cases that are not closed: what is still being raised
  // for (the public view's `goal` per currency, SPEC section 8).
  events::WideMinorUnits goal_not_closed = 0;
  bool operator==(const CurrencyTotals&) const = default;
};

struct ImpactReport {
  int64_t cases_total = 0;
  int64_t cases_open = 0;
  int64_t cases_funded = 0;
  int64_t cases_closed = 0;
  int64_t cases_ever_fully_funded = 0;
  int64_t donations = 0;
  int64_t refunds = 0;
  int64_t donors = 0;                                 // distinct donor_ref over all cases
  std::map<std::string, CurrencyTotals> by_currency;  // every currency a case uses
  std::optional<int64_t> median_seconds_to_fully_funded;
  ProjectionTotals events;
  bool operator==(const ImpactReport&) const = default;
};

class ImpactBuilder {
 public:
  // Adds one opened case; summaries with opened == false are ignored.
  void add_case(const CaseSummary& summary);
  // `distinct_donors` is the size of the set of donor_ref over all cases,
  // which the caller keeps (a per-case count cannot be summed).
  [[nodiscard]] ImpactReport finish(int64_t distinct_donors, const ProjectionTotals& totals) &&;

 private:
  ImpactReport report_;
  std::vector<int64_t> seconds_to_fully_funded_;
};

}  // namespace homeward::engine
