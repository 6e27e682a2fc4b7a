// The impact report (SPEC section 6): order-free sums over case summaries.
#include "engine/impact.h"

#include <algorithm>
#include <string>
#include <utility>

#include "events/check.h"

namespace homeward::engine {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Whole seconds from `from` to `to`, rounded down (towards negative infinity,
// not towards zero): occurred_at need not grow with log order, so a case can
// be fully funded "before" it was opened, and -1.5 s must read as -2, the
// same rounding a positive 1.5 s gets (1).
int64_t floor_seconds_between(TimestampMicros from, TimestampMicros to) {
  // 128 bits: the difference of two arbitrary int64 values may not fit in 64.
  const __int128 micros = static_cast<__int128>(to.value()) - from.value();
  __int128 seconds = micros / kMicrosPerSecond;
  if (micros % kMicrosPerSecond != 0 && micros < 0) seconds -= 1;
  return static_cast<int64_t>(seconds);
}

}  // namespace

void ProjectionTotals::count(const Outcome& outcome) {
  switch (outcome.disposition) {
    case Disposition::kApplied:
      applied += 1;
      return;
    case Disposition::kDuplicate:
      duplicates += 1;
      return;
    case Disposition::kRejected: {
      const auto index = static_cast<size_t>(outcome.reason);
      HOMEWARD_CHECK(index < kRejectReasonCount, "RejectReason out of range");
      rejected += 1;
      rejected_by_reason[index] += 1;
      return;
    }
  }
  HOMEWARD_CHECK(false, "Disposition out of range");
}

void ImpactBuilder::add_case(const CaseSummary& summary) {
  // A summary that never opened only holds rejected events; it is not a case.
  if (!summary.opened) return;

  report_.cases_total += 1;
  switch (summary.status()) {
    case CaseStatus::kOpen:
      report_.cases_open += 1;
      break;
    case CaseStatus::kFunded:
      report_.cases_funded += 1;
      break;
    case CaseStatus::kClosed:
      report_.cases_closed += 1;
      break;
  }
  report_.donations += summary.donations;
  report_.refunds += summary.refunds;

  // operator[] on purpose: every currency of an opened case gets an entry,
  // zeros included.
  CurrencyTotals& sums = report_.by_currency[std::string(summary.currency.code_view())];
  sums.received += summary.received.value();
  sums.refunded += summary.refunded.value();
  sums.net += summary.net().value();
  sums.pledged += summary.pledged.value();
  sums.disbursed += summary.disbursed.value();
  sums.surplus += summary.surplus().value();
  if (!summary.closed()) sums.goal_not_closed += summary.goal.value();

  if (summary.fully_funded_at.has_value()) {
    report_.cases_ever_fully_funded += 1;
    seconds_to_fully_funded_.push_back(
        floor_seconds_between(summary.opened_at, *summary.fully_funded_at));
  }
}

ImpactReport ImpactBuilder::finish(int64_t distinct_donors, const ProjectionTotals& totals) && {
  report_.donors = distinct_donors;
  report_.events = totals;
  if (!seconds_to_fully_funded_.empty()) {
    std::sort(seconds_to_fully_funded_.begin(), seconds_to_fully_funded_.end());
    // Index (n - 1) / 2 is the middle value for an odd count and the lower of
    // the two middle values for an even count, as SPEC asks.
    report_.median_seconds_to_fully_funded =
        seconds_to_fully_funded_[(seconds_to_fully_funded_.size() - 1) / 2];
  }
  return std::move(report_);
}

}  // namespace homeward::engine
