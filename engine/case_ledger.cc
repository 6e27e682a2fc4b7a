// Derived figures of a case (SPEC section 5).
//
// The subtractions below cannot leave the 64-bit range: handle_event keeps
// 0 <= refunded <= received, disbursed >= 0 and 0 < goal, so every operand
// is non-negative and a difference of two non-negative int64 values always
// fits. HOMEWARD_CHECK guards those invariants rather than trusting them,
// because a figure computed from a broken state would be printed as if it
// were true.
#include "engine/case_ledger.h"

#include "events/check.h"

namespace homeward::engine {

std::string_view to_string(CaseStatus status) {
  switch (status) {
    case CaseStatus::kOpen:
      return "open";
    case CaseStatus::kFunded:
      return "funded";
    case CaseStatus::kClosed:
      return "closed";
  }
  HOMEWARD_CHECK(false, "CaseStatus out of range");
}

MinorUnits CaseSummary::net() const {
  HOMEWARD_CHECK(refunded.value() >= 0 && refunded <= received,
                 "refunded must be within [0, received]");
  return MinorUnits(received.value() - refunded.value());
}

MinorUnits CaseSummary::available() const {
  HOMEWARD_CHECK(disbursed.value() >= 0, "disbursed must not be negative");
  return MinorUnits(net().value() - disbursed.value());
}

MinorUnits CaseSummary::remaining() const {
  HOMEWARD_CHECK(goal.value() >= 0, "goal must not be negative");
  const int64_t gap = goal.value() - net().value();
  return MinorUnits(gap > 0 ? gap : 0);
}

MinorUnits CaseSummary::surplus() const {
  HOMEWARD_CHECK(goal.value() >= 0, "goal must not be negative");
  const int64_t excess = net().value() - goal.value();
  return MinorUnits(excess > 0 ? excess : 0);
}

CaseStatus CaseSummary::status() const {
  if (closed()) return CaseStatus::kClosed;
  return net() >= goal ? CaseStatus::kFunded : CaseStatus::kOpen;
}

bool CaseSummary::shows_in_budget(Category category) const {
  const auto index = static_cast<size_t>(category);
  HOMEWARD_CHECK(index < kCategoryCount, "Category out of range");
  return planned[index].value() > 0 || disbursed_by_category[index].value() > 0;
}

bool CaseLedger::same_content(const CaseLedger& other) const {
  return case_id == other.case_id && summary == other.summary &&
         handled_events == other.handled_events && donations == other.donations &&
         pledges == other.pledges && donors == other.donors;
}

}  // namespace homeward::engine
