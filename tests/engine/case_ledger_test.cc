// The derived figures of a case (SPEC section 5), computed from a summary
// set up directly, and CaseLedger::same_content.
#include "engine/case_ledger.h"

#include <gtest/gtest.h>

#include "engine/rules.h"
#include "tests/engine/event_builders.h"

namespace homeward::engine {
namespace {

CaseSummary summary_with(int64_t goal, int64_t received, int64_t refunded, int64_t disbursed) {
  CaseSummary s;
  s.opened = true;
  s.currency = homeward::testing::kUsd;
  s.goal = MinorUnits(goal);
  s.received = MinorUnits(received);
  s.refunded = MinorUnits(refunded);
  s.disbursed = MinorUnits(disbursed);
  s.disbursed_by_category[static_cast<size_t>(Category::kShelter)] = MinorUnits(disbursed);
  return s;
}

TEST(CaseStatusTest, SpellingsMatchSpec) {
  EXPECT_EQ(to_string(CaseStatus::kOpen), "open");
  EXPECT_EQ(to_string(CaseStatus::kFunded), "funded");
  EXPECT_EQ(to_string(CaseStatus::kClosed), "closed");
}

TEST(CaseSummaryTest, FiguresFollowSpecDefinitions) {
  const CaseSummary s = summary_with(20000, 10000, 1500, 3000);
  EXPECT_EQ(s.net(), MinorUnits(8500));
  EXPECT_EQ(s.available(), MinorUnits(5500));
  EXPECT_EQ(s.remaining(), MinorUnits(11500));
  EXPECT_EQ(s.surplus(), MinorUnits(0));
  EXPECT_EQ(s.status(), CaseStatus::kOpen);
}

TEST(CaseSummaryTest, NetAboveGoalShowsSurplusAndNothingRemaining) {
  const CaseSummary s = summary_with(1000, 1800, 300, 200);
  EXPECT_EQ(s.net(), MinorUnits(1500));
  EXPECT_EQ(s.available(), MinorUnits(1300));
  EXPECT_EQ(s.remaining(), MinorUnits(0));
  EXPECT_EQ(s.surplus(), MinorUnits(500));
  EXPECT_EQ(s.status(), CaseStatus::kFunded);
}

TEST(CaseSummaryTest, NetEqualToGoalIsFundedWithoutSurplus) {
  const CaseSummary s = summary_with(1000, 1000, 0, 0);
  EXPECT_EQ(s.remaining(), MinorUnits(0));
  EXPECT_EQ(s.surplus(), MinorUnits(0));
  EXPECT_EQ(s.status(), CaseStatus::kFunded);
}

TEST(CaseSummaryTest, OneBelowGoalIsOpen) {
  const CaseSummary s = summary_with(1000, 1000, 1, 0);
  EXPECT_EQ(s.remaining(), MinorUnits(1));
  EXPECT_EQ(s.status(), CaseStatus::kOpen);
}

TEST(CaseSummaryTest, ClosedWinsOverFundedAndOpen) {
  CaseSummary funded = summary_with(1000, 2000, 0, 0);
  funded.close_reason = CloseReason::kCompleted;
  EXPECT_EQ(funded.status(), CaseStatus::kClosed);
  CaseSummary open = summary_with(1000, 0, 0, 0);
  open.close_reason = CloseReason::kCancelled;
  EXPECT_EQ(open.status(), CaseStatus::kClosed);
}

TEST(CaseSummaryTest, AvailableIsNegativeAfterAChargebackDeficit) {
  const CaseSummary s = summary_with(1000, 1000, 1000, 800);
  EXPECT_EQ(s.net(), MinorUnits(0));
  EXPECT_EQ(s.available(), MinorUnits(-800));
  EXPECT_EQ(s.remaining(), MinorUnits(1000));
}

TEST(CaseSummaryTest, BudgetShowsPlannedOrDisbursedCategoriesOnly) {
  CaseSummary s = summary_with(1000, 1000, 0, 0);
  s.planned[static_cast<size_t>(Category::kLegal)] = MinorUnits(1000);
  s.disbursed_by_category[static_cast<size_t>(Category::kOther)] = MinorUnits(5);
  s.disbursed = MinorUnits(5);
  EXPECT_TRUE(s.shows_in_budget(Category::kLegal));
  EXPECT_TRUE(s.shows_in_budget(Category::kOther));
  EXPECT_FALSE(s.shows_in_budget(Category::kShelter));
  EXPECT_FALSE(s.shows_in_budget(Category::kEducation));
}

TEST(CaseLedgerTest, SameContentIgnoresDirtyButSeesEveryRecord) {
  using namespace homeward::testing;  // NOLINT
  CaseLedger a = empty_ledger();
  for (const events::Event& e :
       {opened("e1", 1000), donation("e2", "d-1", 500), pledge("p1", "d-2", 200)}) {
    ASSERT_EQ(handle_event(a, e).value(), Outcome::applied());
  }
  CaseLedger b = a;
  b.dirty.clear();
  EXPECT_TRUE(a.same_content(b));

  CaseLedger other_id = b;
  other_id.case_id = "case-yz";
  EXPECT_FALSE(a.same_content(other_id));
  CaseLedger other_summary = b;
  other_summary.summary.events_applied += 1;
  EXPECT_FALSE(a.same_content(other_summary));
  CaseLedger other_handled = b;
  other_handled.remember_event("e9", events::Fingerprint{});
  EXPECT_FALSE(a.same_content(other_handled));
  CaseLedger other_donation = b;
  other_donation.add_refund(*other_donation.find_donation("e2"), MinorUnits(1));
  EXPECT_FALSE(a.same_content(other_donation));
  CaseLedger other_pledge = b;
  other_pledge.settle_pledge(*other_pledge.find_pledge("p1"), PledgeState::kCancelled);
  EXPECT_FALSE(a.same_content(other_pledge));
  CaseLedger other_donors = b;
  other_donors.remember_event("e10", events::Fingerprint{});
  other_donors.record_pledge("d-9", MinorUnits(1));
  EXPECT_FALSE(a.same_content(other_donors));
  CaseLedger other_history = b;
  other_history.history_events += 1;
  EXPECT_FALSE(a.same_content(other_history));
}

}  // namespace
}  // namespace homeward::engine
