// Stage 2 of SPEC section 4: every rejection reason of every event type, the
// order of the checks, the effects, the duplicate rule and the case counters.
#include "engine/rules.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "engine/case_ledger.h"
#include "events/fingerprint.h"
#include "tests/engine/event_builders.h"

namespace homeward::engine {
namespace {

using namespace homeward::testing;  // NOLINT: the builders are the vocabulary of these tests

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kAmountMax = events::kAmountMax;
// The largest count of kAmountMax donations that still fits in int64:
// 9223 * 10^15 = 9'223'000'000'000'000'000 <= 9'223'372'036'854'775'807.
constexpr int kMaxDonationsThatFit = 9223;
constexpr int64_t kRestUpToInt64Max = kInt64Max - kMaxDonationsThatFit * kAmountMax;

// "d17" from ("d", 17). Built with append: `"d" + std::to_string(i)` trips a
// false -Wrestrict in g++ 12 at -O2 (GCC bug 105329).
std::string numbered(std::string_view prefix, int n) {
  std::string id(prefix);
  id += std::to_string(n);
  return id;
}

const Outcome kApplied = Outcome::applied();
const Outcome kDuplicate = Outcome::duplicate();
Outcome rejected(RejectReason reason) { return Outcome::rejected(reason); }

class RulesTest : public ::testing::Test {
 protected:
  Outcome handle(const events::Event& event) { return handle_event(ledger_, event).value(); }

  // For the arrangement part of a test: every one of these must be applied.
  void apply_all(const std::vector<events::Event>& events) {
    for (const events::Event& event : events) {
      EXPECT_EQ(handle(event), kApplied) << "arranging event " << event.event_id;
    }
  }
  // An open USD case with the given goal, opened on June 1.
  void open_case(int64_t goal) { apply_all({at(opened("e-open", goal), june(1))}); }

  const CaseSummary& s() const { return ledger_.summary; }

  // The ledger's record of a donation or pledge, nullopt when it has none.
  std::optional<DonationRecord> donation_record(std::string_view id) const {
    const auto found = ledger_.find_donation(id);
    if (!found) return std::nullopt;
    return ledger_.donation(*found);
  }
  std::optional<PledgeRecord> pledge_record(std::string_view id) const {
    const auto found = ledger_.find_pledge(id);
    if (!found) return std::nullopt;
    return ledger_.pledge(*found);
  }
  std::set<std::string> givers() const {
    std::set<std::string> refs;
    ledger_.for_each_giver([&](std::string_view ref) { refs.emplace(ref); });
    return refs;
  }

  CaseLedger ledger_ = empty_ledger();
};

// ---------------------------------------------------------------- CaseOpened

TEST_F(RulesTest, CaseOpenedSetsCurrencyGoalAndOpenedAt) {
  EXPECT_EQ(handle(at(opened("e1", 150000), june(1))), kApplied);
  EXPECT_TRUE(s().opened);
  EXPECT_EQ(s().currency.code_view(), "USD");
  EXPECT_EQ(s().currency.exponent, 2);
  EXPECT_EQ(s().goal, MinorUnits(150000));
  EXPECT_FALSE(s().has_budget);
  EXPECT_EQ(s().opened_at, june(1));
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().remaining(), MinorUnits(150000));
  EXPECT_EQ(s().fully_funded_at, std::nullopt);
  EXPECT_EQ(s().closed_at, std::nullopt);
  EXPECT_EQ(s().events_applied, 1);
  EXPECT_EQ(s().events_rejected, 0);
}

TEST_F(RulesTest, CaseOpenedWithBudgetPlansEachCategory) {
  EXPECT_EQ(handle(opened_with_budget(
                "e1", {line(Category::kRepatriation, 40000), line(Category::kLivelihood, 110000)})),
            kApplied);
  EXPECT_EQ(s().goal, MinorUnits(150000));
  EXPECT_TRUE(s().has_budget);
  for (size_t c = 0; c < kCategoryCount; ++c) {
    const auto category = static_cast<Category>(c);
    const int64_t expected = category == Category::kRepatriation ? 40000
                             : category == Category::kLivelihood ? 110000
                                                                 : 0;
    EXPECT_EQ(s().planned[c], MinorUnits(expected)) << events::to_string(category);
    EXPECT_EQ(s().shows_in_budget(category), expected > 0) << events::to_string(category);
  }
}

TEST_F(RulesTest, SecondCaseOpenedIsRejectedCaseExists) {
  open_case(150000);
  EXPECT_EQ(handle(opened("e2", 999, kEur)), rejected(RejectReason::kCaseExists));
  EXPECT_EQ(s().goal, MinorUnits(150000));
  EXPECT_EQ(s().currency.code_view(), "USD");
  EXPECT_EQ(s().opened_at, june(1));
  // case_exists is one of the case's own rejections.
  EXPECT_EQ(s().events_applied, 1);
  EXPECT_EQ(s().events_rejected, 1);
}

TEST_F(RulesTest, CaseOpenedAfterCloseIsRejectedCaseExists) {
  open_case(1000);
  apply_all({closed("e2", CloseReason::kCancelled)});
  EXPECT_EQ(handle(opened("e3", 1000)), rejected(RejectReason::kCaseExists));
  EXPECT_EQ(s().status(), CaseStatus::kClosed);
  EXPECT_EQ(s().close_reason, CloseReason::kCancelled);
}

// ----------------------------------------------------------- CaseGoalChanged

TEST_F(RulesTest, GoalChangeOnUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(goal_changed("e1", 1000)), rejected(RejectReason::kUnknownCase));
  EXPECT_FALSE(s().opened);
  EXPECT_EQ(s().goal, MinorUnits(0));
}

TEST_F(RulesTest, GoalChangeOnClosedCaseIsRejectedCaseClosed) {
  open_case(1000);
  apply_all({closed("e2")});
  EXPECT_EQ(handle(goal_changed("e3", 500)), rejected(RejectReason::kCaseClosed));
  EXPECT_EQ(s().goal, MinorUnits(1000));
}

TEST_F(RulesTest, GoalChangeInAnotherCurrencyIsRejectedCurrencyMismatch) {
  open_case(1000);
  EXPECT_EQ(handle(goal_changed("e2", 500, kEur)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_EQ(s().goal, MinorUnits(1000));
  EXPECT_EQ(s().currency.code_view(), "USD");
}

TEST_F(RulesTest, GoalChangeOnClosedCaseInAnotherCurrencyIsCaseClosed) {
  open_case(1000);
  apply_all({closed("e2")});
  EXPECT_EQ(handle(goal_changed("e3", 500, kEur)), rejected(RejectReason::kCaseClosed));
}

TEST_F(RulesTest, GoalChangeWithoutBudgetLeavesNoPlannedAmounts) {
  apply_all({opened_with_budget(
                 "e1", {line(Category::kRepatriation, 40000), line(Category::kLivelihood, 110000)}),
             donation("e2", "d-1", 50000), disbursement("e3", Category::kRepatriation, 30000)});
  EXPECT_EQ(handle(goal_changed("e4", 200000)), kApplied);
  EXPECT_EQ(s().goal, MinorUnits(200000));
  EXPECT_FALSE(s().has_budget);
  for (size_t c = 0; c < kCategoryCount; ++c) EXPECT_EQ(s().planned[c], MinorUnits(0)) << c;
  // Repatriation still shows, with planned 0, because money was disbursed in it.
  EXPECT_TRUE(s().shows_in_budget(Category::kRepatriation));
  EXPECT_FALSE(s().shows_in_budget(Category::kLivelihood));
  EXPECT_EQ(s().disbursed_by_category[static_cast<size_t>(Category::kRepatriation)],
            MinorUnits(30000));
}

TEST_F(RulesTest, GoalChangeWithBudgetReplacesTheEarlierBudget) {
  apply_all({opened_with_budget(
      "e1", {line(Category::kRepatriation, 40000), line(Category::kLivelihood, 110000)})});
  EXPECT_EQ(handle(goal_changed_with_budget(
                "e2", {line(Category::kMedical, 30000), line(Category::kLivelihood, 100000)})),
            kApplied);
  EXPECT_EQ(s().goal, MinorUnits(130000));
  EXPECT_TRUE(s().has_budget);
  EXPECT_EQ(s().planned[static_cast<size_t>(Category::kRepatriation)], MinorUnits(0));
  EXPECT_EQ(s().planned[static_cast<size_t>(Category::kMedical)], MinorUnits(30000));
  EXPECT_EQ(s().planned[static_cast<size_t>(Category::kLivelihood)], MinorUnits(100000));
  EXPECT_FALSE(s().shows_in_budget(Category::kRepatriation));
  EXPECT_TRUE(s().shows_in_budget(Category::kMedical));
}

// ---------------------------------------------------------------- CaseClosed

TEST_F(RulesTest, CloseOfUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(closed("e1")), rejected(RejectReason::kUnknownCase));
  EXPECT_EQ(s().close_reason, std::nullopt);
}

TEST_F(RulesTest, CloseSetsClosedAtAndReason) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 1000)});
  EXPECT_EQ(s().status(), CaseStatus::kFunded);
  EXPECT_EQ(handle(at(closed("e3", CloseReason::kCompleted), june(9))), kApplied);
  EXPECT_TRUE(s().closed());
  EXPECT_EQ(s().status(), CaseStatus::kClosed);
  EXPECT_EQ(s().closed_at, june(9));
  EXPECT_EQ(s().close_reason, CloseReason::kCompleted);
}

TEST_F(RulesTest, SecondCloseIsRejectedCaseClosed) {
  open_case(1000);
  apply_all({at(closed("e2", CloseReason::kCancelled), june(3))});
  EXPECT_EQ(handle(at(closed("e3", CloseReason::kOther), june(4))),
            rejected(RejectReason::kCaseClosed));
  EXPECT_EQ(s().closed_at, june(3));
  EXPECT_EQ(s().close_reason, CloseReason::kCancelled);
}

// ---------------------------------------------------------- DonationReceived

TEST_F(RulesTest, DonationToUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(donation("e1", "d-1", 2500)), rejected(RejectReason::kUnknownCase));
  EXPECT_EQ(s().received, MinorUnits(0));
  EXPECT_EQ(ledger_.donation_count(), 0u);
  EXPECT_EQ(ledger_.donor_count(), 0u);
}

TEST_F(RulesTest, DonationInAnotherCurrencyIsRejectedCurrencyMismatch) {
  open_case(1000);
  EXPECT_EQ(handle(donation("e2", "d-1", 2500, kJpy)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_EQ(s().received, MinorUnits(0));
  EXPECT_EQ(s().donations, 0);
  EXPECT_EQ(s().donors, 0);
  EXPECT_EQ(ledger_.donation_count(), 0u);
}

TEST_F(RulesTest, DonationAddsToReceivedAndRecordsDonation) {
  open_case(150000);
  EXPECT_EQ(handle(donation("e2", "d-17", 2500)), kApplied);
  EXPECT_EQ(s().received, MinorUnits(2500));
  EXPECT_EQ(s().net(), MinorUnits(2500));
  EXPECT_EQ(s().available(), MinorUnits(2500));
  EXPECT_EQ(s().remaining(), MinorUnits(147500));
  EXPECT_EQ(s().donations, 1);
  EXPECT_EQ(s().donors, 1);
  ASSERT_TRUE(donation_record("e2").has_value());
  EXPECT_EQ(*donation_record("e2"), (DonationRecord{"d-17", MinorUnits(2500), MinorUnits(0)}));
}

TEST_F(RulesTest, DonorsAreCountedOnceEach) {
  open_case(100000);
  apply_all({donation("e2", "d-1", 100), donation("e3", "d-1", 200), donation("e4", "d-2", 300)});
  EXPECT_EQ(s().donations, 3);
  EXPECT_EQ(s().donors, 2);
  EXPECT_EQ(s().received, MinorUnits(600));
  EXPECT_EQ(givers(), (std::set<std::string>{"d-1", "d-2"}));
}

TEST_F(RulesTest, DonationToClosedCaseIsAppliedAndShowsAsSurplus) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 400), at(closed("e3", CloseReason::kCancelled), june(5))});
  EXPECT_EQ(handle(at(donation("e4", "d-2", 900), june(6))), kApplied);
  EXPECT_EQ(s().received, MinorUnits(1300));
  EXPECT_EQ(s().surplus(), MinorUnits(300));
  EXPECT_EQ(s().remaining(), MinorUnits(0));
  EXPECT_EQ(s().status(), CaseStatus::kClosed);
  EXPECT_EQ(s().donors, 2);
  // net >= goal happened only while closed: the case was never fully funded.
  EXPECT_EQ(s().fully_funded_at, std::nullopt);
}

TEST_F(RulesTest, ReceivedBeyondInt64IsRejectedOverflow) {
  open_case(1000);
  for (int i = 0; i < kMaxDonationsThatFit; ++i) {
    ASSERT_EQ(handle(donation(numbered("d", i), "d-1", kAmountMax)), kApplied) << i;
  }
  EXPECT_EQ(s().received, MinorUnits(kMaxDonationsThatFit * kAmountMax));
  EXPECT_EQ(handle(donation("next", "d-1", kAmountMax)), rejected(RejectReason::kOverflow));
  EXPECT_EQ(s().received, MinorUnits(kMaxDonationsThatFit * kAmountMax));
  // Exactly up to the int64 maximum still fits; one more minor unit does not.
  EXPECT_EQ(handle(donation("rest", "d-2", kRestUpToInt64Max)), kApplied);
  EXPECT_EQ(s().received, MinorUnits(kInt64Max));
  EXPECT_EQ(handle(donation("one", "d-3", 1)), rejected(RejectReason::kOverflow));
  // currency_mismatch comes before overflow.
  EXPECT_EQ(handle(donation("eur", "d-3", 1, kEur)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_EQ(s().received, MinorUnits(kInt64Max));
  EXPECT_EQ(s().donations, kMaxDonationsThatFit + 1);
  EXPECT_EQ(s().donors, 2);
  EXPECT_EQ(s().events_rejected, 3);
  EXPECT_EQ(s().surplus(), MinorUnits(kInt64Max - 1000));
}

// ---------------------------------------------------------------- PledgeMade

TEST_F(RulesTest, PledgeToUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(pledge("e1", "d-1", 500)), rejected(RejectReason::kUnknownCase));
  EXPECT_EQ(ledger_.pledge_count(), 0u);
}

TEST_F(RulesTest, PledgeToClosedCaseIsRejectedCaseClosed) {
  open_case(1000);
  apply_all({closed("e2")});
  EXPECT_EQ(handle(pledge("e3", "d-1", 500)), rejected(RejectReason::kCaseClosed));
  EXPECT_EQ(s().pledged, MinorUnits(0));
  EXPECT_EQ(ledger_.pledge_count(), 0u);
}

TEST_F(RulesTest, PledgeInAnotherCurrencyIsRejectedCurrencyMismatch) {
  open_case(1000);
  EXPECT_EQ(handle(pledge("e2", "d-1", 500, kKwd)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_EQ(s().pledged, MinorUnits(0));
}

TEST_F(RulesTest, PledgeToClosedCaseInAnotherCurrencyIsCaseClosed) {
  open_case(1000);
  apply_all({closed("e2")});
  EXPECT_EQ(handle(pledge("e3", "d-1", 500, kEur)), rejected(RejectReason::kCaseClosed));
}

TEST_F(RulesTest, PledgeAddsToPledgedButNotToReceived) {
  open_case(1000);
  EXPECT_EQ(handle(pledge("p1", "d-9", 5000)), kApplied);
  EXPECT_EQ(s().pledged, MinorUnits(5000));
  EXPECT_EQ(s().received, MinorUnits(0));
  EXPECT_EQ(s().donations, 0);
  EXPECT_EQ(s().donors, 0);
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().fully_funded_at, std::nullopt);
  ASSERT_TRUE(pledge_record("p1").has_value());
  EXPECT_EQ(*pledge_record("p1"),
            (PledgeRecord{"d-9", MinorUnits(5000), PledgeState::kOutstanding}));
}

TEST_F(RulesTest, PledgedBeyondInt64IsRejectedOverflow) {
  open_case(1000);
  for (int i = 0; i < kMaxDonationsThatFit; ++i) {
    ASSERT_EQ(handle(pledge(numbered("p", i), "d-1", kAmountMax)), kApplied) << i;
  }
  EXPECT_EQ(handle(pledge("next", "d-1", kAmountMax)), rejected(RejectReason::kOverflow));
  EXPECT_EQ(s().pledged, MinorUnits(kMaxDonationsThatFit * kAmountMax));
  EXPECT_EQ(handle(pledge("rest", "d-1", kRestUpToInt64Max)), kApplied);
  EXPECT_EQ(handle(pledge("one", "d-1", 1)), rejected(RejectReason::kOverflow));
  EXPECT_EQ(s().pledged, MinorUnits(kInt64Max));
  EXPECT_FALSE(pledge_record("next").has_value());
}

// ----------------------------------------------------------- PledgeFulfilled

TEST_F(RulesTest, FulfilmentOnUnknownCaseWithUnknownPledgeIsUnknownCase) {
  EXPECT_EQ(handle(fulfilled("e1", "p-nowhere")), rejected(RejectReason::kUnknownCase));
}

TEST_F(RulesTest, FulfilmentOfUnknownPledgeIsRejectedUnknownPledge) {
  open_case(1000);
  EXPECT_EQ(handle(fulfilled("e2", "p-nowhere")), rejected(RejectReason::kUnknownPledge));
  EXPECT_EQ(s().received, MinorUnits(0));
}

TEST_F(RulesTest, FulfilmentNamingADonationIsRejectedUnknownPledge) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 300)});
  EXPECT_EQ(handle(fulfilled("e3", "e2")), rejected(RejectReason::kUnknownPledge));
  EXPECT_EQ(s().received, MinorUnits(300));
}

TEST_F(RulesTest, FulfilmentMovesThePledgeToReceivedAsADonation) {
  open_case(10000);
  apply_all({pledge("p1", "d-9", 5000)});
  EXPECT_EQ(handle(fulfilled("f1", "p1")), kApplied);
  EXPECT_EQ(s().pledged, MinorUnits(0));
  EXPECT_EQ(s().received, MinorUnits(5000));
  EXPECT_EQ(s().donations, 1);
  EXPECT_EQ(s().donors, 1);
  EXPECT_EQ(pledge_record("p1")->state, PledgeState::kFulfilled);
  // The donation's id is the fulfilment's event_id, with the pledge's donor.
  ASSERT_TRUE(donation_record("f1").has_value());
  EXPECT_EQ(*donation_record("f1"), (DonationRecord{"d-9", MinorUnits(5000), MinorUnits(0)}));
  EXPECT_FALSE(donation_record("p1").has_value());
}

TEST_F(RulesTest, DonorsIncludeThoseOfFulfilledPledges) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 100), pledge("p1", "d-1", 200), pledge("p2", "d-2", 300),
             pledge("p3", "d-3", 400), fulfilled("f1", "p1"), fulfilled("f2", "p2")});
  // d-3's pledge is outstanding, so d-3 is not a donor yet.
  EXPECT_EQ(s().donors, 2);
  EXPECT_EQ(s().donations, 3);
  EXPECT_EQ(s().received, MinorUnits(600));
  EXPECT_EQ(s().pledged, MinorUnits(400));
}

TEST_F(RulesTest, SecondFulfilmentIsRejectedPledgeNotOutstanding) {
  open_case(10000);
  apply_all({pledge("p1", "d-9", 5000), fulfilled("f1", "p1")});
  EXPECT_EQ(handle(fulfilled("f2", "p1")), rejected(RejectReason::kPledgeNotOutstanding));
  EXPECT_EQ(s().received, MinorUnits(5000));
  EXPECT_EQ(s().donations, 1);
  EXPECT_FALSE(donation_record("f2").has_value());
}

TEST_F(RulesTest, FulfilmentOfCancelledPledgeIsRejectedPledgeNotOutstanding) {
  open_case(10000);
  apply_all({pledge("p1", "d-9", 5000), cancelled("c1", "p1")});
  EXPECT_EQ(handle(fulfilled("f1", "p1")), rejected(RejectReason::kPledgeNotOutstanding));
  EXPECT_EQ(s().received, MinorUnits(0));
}

TEST_F(RulesTest, FulfilmentPushingReceivedBeyondInt64IsRejectedOverflow) {
  open_case(1000);
  apply_all({pledge("p1", "d-9", kAmountMax)});
  for (int i = 0; i < kMaxDonationsThatFit; ++i) {
    ASSERT_EQ(handle(donation(numbered("d", i), "d-1", kAmountMax)), kApplied) << i;
  }
  EXPECT_EQ(handle(fulfilled("f1", "p1")), rejected(RejectReason::kOverflow));
  EXPECT_EQ(pledge_record("p1")->state, PledgeState::kOutstanding);
  EXPECT_EQ(s().pledged, MinorUnits(kAmountMax));
  EXPECT_EQ(s().received, MinorUnits(kMaxDonationsThatFit * kAmountMax));
  EXPECT_FALSE(donation_record("f1").has_value());
}

TEST_F(RulesTest, FulfilmentOnClosedCaseIsAppliedAsSurplus) {
  open_case(1000);
  apply_all({pledge("p1", "d-9", 1500), closed("e3")});
  EXPECT_EQ(handle(fulfilled("f1", "p1")), kApplied);
  EXPECT_EQ(s().received, MinorUnits(1500));
  EXPECT_EQ(s().surplus(), MinorUnits(500));
  EXPECT_EQ(s().status(), CaseStatus::kClosed);
  EXPECT_EQ(s().fully_funded_at, std::nullopt);
}

// ----------------------------------------------------------- PledgeCancelled

TEST_F(RulesTest, CancelOnUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(cancelled("e1", "p1")), rejected(RejectReason::kUnknownCase));
}

TEST_F(RulesTest, CancelOfUnknownPledgeIsRejectedUnknownPledge) {
  open_case(1000);
  EXPECT_EQ(handle(cancelled("e2", "p1")), rejected(RejectReason::kUnknownPledge));
}

TEST_F(RulesTest, SecondCancelIsRejectedPledgeNotOutstanding) {
  open_case(1000);
  apply_all({pledge("p1", "d-9", 300), cancelled("c1", "p1")});
  EXPECT_EQ(handle(cancelled("c2", "p1")), rejected(RejectReason::kPledgeNotOutstanding));
  EXPECT_EQ(s().pledged, MinorUnits(0));
}

TEST_F(RulesTest, CancelAfterFulfilmentIsRejectedPledgeNotOutstanding) {
  open_case(1000);
  apply_all({pledge("p1", "d-9", 300), fulfilled("f1", "p1")});
  EXPECT_EQ(handle(cancelled("c1", "p1")), rejected(RejectReason::kPledgeNotOutstanding));
  EXPECT_EQ(s().received, MinorUnits(300));
  EXPECT_EQ(pledge_record("p1")->state, PledgeState::kFulfilled);
}

TEST_F(RulesTest, CancelReleasesThePledgedAmount) {
  open_case(10000);
  apply_all({pledge("p1", "d-1", 3000), pledge("p2", "d-2", 2000)});
  EXPECT_EQ(handle(cancelled("c1", "p1")), kApplied);
  EXPECT_EQ(s().pledged, MinorUnits(2000));
  EXPECT_EQ(s().received, MinorUnits(0));
  EXPECT_EQ(pledge_record("p1")->state, PledgeState::kCancelled);
  EXPECT_EQ(pledge_record("p2")->state, PledgeState::kOutstanding);
}

TEST_F(RulesTest, CancelOnClosedCaseIsApplied) {
  open_case(10000);
  apply_all({pledge("p1", "d-1", 3000), closed("e3")});
  EXPECT_EQ(handle(cancelled("c1", "p1")), kApplied);
  EXPECT_EQ(s().pledged, MinorUnits(0));
}

// -------------------------------------------------------------- RefundIssued

TEST_F(RulesTest, RefundOnUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(refund("e1", "e0", 100)), rejected(RejectReason::kUnknownCase));
}

TEST_F(RulesTest, RefundInAnotherCurrencyOfUnknownDonationIsCurrencyMismatch) {
  open_case(1000);
  EXPECT_EQ(handle(refund("r1", "nowhere", 100, RefundReason::kDonorRequest, kEur)),
            rejected(RejectReason::kCurrencyMismatch));
}

TEST_F(RulesTest, RefundOfUnknownDonationIsRejectedUnknownDonation) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 500)});
  EXPECT_EQ(handle(refund("r1", "e9", 100)), rejected(RejectReason::kUnknownDonation));
  EXPECT_EQ(s().refunded, MinorUnits(0));
  EXPECT_EQ(s().refunds, 0);
}

TEST_F(RulesTest, RefundNamingThePledgeInsteadOfItsFulfilmentIsUnknownDonation) {
  open_case(1000);
  apply_all({pledge("p1", "d-9", 500), fulfilled("f1", "p1")});
  EXPECT_EQ(handle(refund("r1", "p1", 100)), rejected(RejectReason::kUnknownDonation));
  EXPECT_EQ(handle(refund("r2", "f1", 100)), kApplied);
  EXPECT_EQ(donation_record("f1")->refunded, MinorUnits(100));
}

TEST_F(RulesTest, RefundBeyondWhatIsLeftOfTheDonationIsRejected) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 1000), donation("e3", "d-2", 5000)});
  EXPECT_EQ(handle(refund("r1", "e2", 600)), kApplied);
  EXPECT_EQ(handle(refund("r2", "e2", 401)), rejected(RejectReason::kRefundExceedsDonation));
  EXPECT_EQ(handle(refund("r3", "e2", 400)), kApplied);
  EXPECT_EQ(handle(refund("r4", "e2", 1)), rejected(RejectReason::kRefundExceedsDonation));
  EXPECT_EQ(donation_record("e2")->refunded, MinorUnits(1000));
  EXPECT_EQ(s().refunded, MinorUnits(1000));
  EXPECT_EQ(s().refunds, 2);
  EXPECT_EQ(s().net(), MinorUnits(5000));
  EXPECT_EQ(s().donations, 2);
}

TEST_F(RulesTest, RefundExceedingTheDonationWinsOverInsufficientFunds) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 1000), disbursement("e3", Category::kShelter, 800)});
  EXPECT_EQ(handle(refund("r1", "e2", 1001)), rejected(RejectReason::kRefundExceedsDonation));
}

TEST_F(RulesTest, RefundOverAvailableIsRejectedInsufficientFunds) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 1000), donation("e3", "d-2", 500),
             disbursement("e4", Category::kShelter, 1200)});
  EXPECT_EQ(s().available(), MinorUnits(300));
  EXPECT_EQ(handle(refund("r1", "e2", 301)), rejected(RejectReason::kInsufficientFunds));
  EXPECT_EQ(handle(refund("r2", "e2", 300)), kApplied);
  EXPECT_EQ(s().available(), MinorUnits(0));
  EXPECT_EQ(s().net(), MinorUnits(1200));
  EXPECT_EQ(s().refunded, MinorUnits(300));
}

TEST_F(RulesTest, EveryReasonButChargebackIsBoundByAvailable) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 1000), disbursement("e3", Category::kShelter, 800)});
  const RefundReason bound[] = {RefundReason::kDonorRequest, RefundReason::kCaseCancelled,
                                RefundReason::kOverfunded, RefundReason::kReallocated,
                                RefundReason::kError};
  int n = 0;
  for (const RefundReason reason : bound) {
    EXPECT_EQ(handle(refund(numbered("r", n++), "e2", 201, reason)),
              rejected(RejectReason::kInsufficientFunds))
        << events::to_string(reason);
  }
  EXPECT_EQ(s().refunded, MinorUnits(0));
}

TEST_F(RulesTest, ChargebackIsAppliedEvenBelowZeroAvailable) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 1000), disbursement("e3", Category::kShelter, 800)});
  EXPECT_EQ(handle(refund("r1", "e2", 1000, RefundReason::kDonorRequest)),
            rejected(RejectReason::kInsufficientFunds));
  EXPECT_EQ(handle(refund("r2", "e2", 1000, RefundReason::kChargeback)), kApplied);
  EXPECT_EQ(s().refunded, MinorUnits(1000));
  EXPECT_EQ(s().net(), MinorUnits(0));
  EXPECT_EQ(s().available(), MinorUnits(-800));
  EXPECT_EQ(s().remaining(), MinorUnits(10000));
  EXPECT_EQ(s().refunds, 1);
  // With a deficit nothing more can be disbursed.
  EXPECT_EQ(handle(disbursement("e4", Category::kShelter, 1)),
            rejected(RejectReason::kInsufficientFunds));
}

TEST_F(RulesTest, ChargebackCannotExceedTheDonation) {
  open_case(10000);
  apply_all({donation("e2", "d-1", 1000)});
  EXPECT_EQ(handle(refund("r1", "e2", 1001, RefundReason::kChargeback)),
            rejected(RejectReason::kRefundExceedsDonation));
}

TEST_F(RulesTest, RefundOfSurplusOnClosedCaseIsApplied) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 1300), closed("e3")});
  EXPECT_EQ(s().surplus(), MinorUnits(300));
  EXPECT_EQ(handle(refund("r1", "e2", 300, RefundReason::kOverfunded)), kApplied);
  EXPECT_EQ(s().surplus(), MinorUnits(0));
  EXPECT_EQ(s().net(), MinorUnits(1000));
}

// ------------------------------------------------------------ FundsDisbursed

TEST_F(RulesTest, DisbursementOnUnknownCaseIsRejectedUnknownCase) {
  EXPECT_EQ(handle(disbursement("e1", Category::kShelter, 100)),
            rejected(RejectReason::kUnknownCase));
}

TEST_F(RulesTest, DisbursementInAnotherCurrencyOverAvailableIsCurrencyMismatch) {
  open_case(1000);
  EXPECT_EQ(handle(disbursement("e2", Category::kShelter, 100, kJpy)),
            rejected(RejectReason::kCurrencyMismatch));
}

TEST_F(RulesTest, DisbursementOverAvailableIsRejectedInsufficientFunds) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 700)});
  EXPECT_EQ(handle(disbursement("e3", Category::kShelter, 701)),
            rejected(RejectReason::kInsufficientFunds));
  EXPECT_EQ(s().disbursed, MinorUnits(0));
  EXPECT_EQ(handle(disbursement("e4", Category::kShelter, 700)), kApplied);
  EXPECT_EQ(s().available(), MinorUnits(0));
}

TEST_F(RulesTest, DisbursementsAddUpPerCategory) {
  open_case(100000);
  apply_all({donation("e2", "d-1", 50000), disbursement("e3", Category::kShelter, 1000),
             disbursement("e4", Category::kMedical, 2000),
             disbursement("e5", Category::kShelter, 3000)});
  EXPECT_EQ(s().disbursed, MinorUnits(6000));
  EXPECT_EQ(s().disbursed_by_category[static_cast<size_t>(Category::kShelter)], MinorUnits(4000));
  EXPECT_EQ(s().disbursed_by_category[static_cast<size_t>(Category::kMedical)], MinorUnits(2000));
  EXPECT_EQ(s().disbursed_by_category[static_cast<size_t>(Category::kLegal)], MinorUnits(0));
  EXPECT_EQ(s().available(), MinorUnits(44000));
  EXPECT_EQ(s().net(), MinorUnits(50000));
}

TEST_F(RulesTest, DisbursementInUnplannedCategoryShowsWithPlannedZero) {
  apply_all({opened_with_budget("e1", {line(Category::kRepatriation, 40000)}),
             donation("e2", "d-1", 10000), disbursement("e3", Category::kPsychosocial, 2500)});
  EXPECT_TRUE(s().shows_in_budget(Category::kPsychosocial));
  EXPECT_EQ(s().planned[static_cast<size_t>(Category::kPsychosocial)], MinorUnits(0));
  EXPECT_TRUE(s().shows_in_budget(Category::kRepatriation));
  EXPECT_FALSE(s().shows_in_budget(Category::kMedical));
}

TEST_F(RulesTest, DisbursementOnClosedCaseIsApplied) {
  open_case(1000);
  apply_all({donation("e2", "d-1", 1000), closed("e3")});
  EXPECT_EQ(handle(disbursement("e4", Category::kShelter, 1000)), kApplied);
  EXPECT_EQ(s().available(), MinorUnits(0));
}

// ---------------------------------------------- status and fully_funded_at

TEST_F(RulesTest, StatusFollowsNetAndFullyFundedAtKeepsTheFirstTime) {
  open_case(1000);
  EXPECT_EQ(handle(at(donation("e2", "d-1", 600), june(2))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().fully_funded_at, std::nullopt);
  // net == goal is funded.
  EXPECT_EQ(handle(at(donation("e3", "d-2", 400), june(3))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kFunded);
  EXPECT_EQ(s().fully_funded_at, june(3));
  EXPECT_EQ(s().remaining(), MinorUnits(0));
  EXPECT_EQ(s().surplus(), MinorUnits(0));
  // A refund reopens the case but does not clear fully_funded_at.
  EXPECT_EQ(handle(at(refund("r1", "e2", 100), june(4))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().remaining(), MinorUnits(100));
  EXPECT_EQ(s().fully_funded_at, june(3));
  // Funded again later: the first time stays.
  EXPECT_EQ(handle(at(donation("e5", "d-3", 150), june(5))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kFunded);
  EXPECT_EQ(s().surplus(), MinorUnits(50));
  EXPECT_EQ(s().fully_funded_at, june(3));
}

TEST_F(RulesTest, FulfilledPledgeSetsFullyFundedAt) {
  open_case(1000);
  EXPECT_EQ(handle(at(pledge("p1", "d-1", 1000), june(2))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().fully_funded_at, std::nullopt);
  EXPECT_EQ(handle(at(fulfilled("f1", "p1"), june(4))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kFunded);
  EXPECT_EQ(s().fully_funded_at, june(4));
}

TEST_F(RulesTest, LoweredGoalSetsFullyFundedAt) {
  open_case(1000);
  apply_all({at(donation("e2", "d-1", 600), june(2))});
  EXPECT_EQ(handle(at(goal_changed("e3", 600), june(6))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kFunded);
  EXPECT_EQ(s().fully_funded_at, june(6));
  EXPECT_EQ(s().remaining(), MinorUnits(0));
}

TEST_F(RulesTest, RaisedGoalReopensButKeepsFullyFundedAt) {
  open_case(1000);
  apply_all({at(donation("e2", "d-1", 1000), june(2))});
  EXPECT_EQ(handle(at(goal_changed("e3", 2000), june(3))), kApplied);
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().remaining(), MinorUnits(1000));
  EXPECT_EQ(s().fully_funded_at, june(2));
}

TEST_F(RulesTest, ClosingKeepsFullyFundedAtAndShowsClosed) {
  open_case(1000);
  apply_all({at(donation("e2", "d-1", 1200), june(2)), at(closed("e3"), june(8))});
  EXPECT_EQ(s().status(), CaseStatus::kClosed);
  EXPECT_EQ(s().fully_funded_at, june(2));
  EXPECT_EQ(s().surplus(), MinorUnits(200));
}

TEST_F(RulesTest, FullyFundedAtUsesOccurredAtEvenWhenItGoesBackwards) {
  open_case(1000);
  // occurred_at need not grow with log order: the event's own time is used.
  apply_all({at(donation("e2", "d-1", 1000), plus_micros(kT0, -1'500'000))});
  EXPECT_EQ(s().fully_funded_at, plus_micros(kT0, -1'500'000));
}

// ------------------------------------------------------------------ counters

TEST_F(RulesTest, EventsBeforeCaseOpenedAreNotCountedInTheCase) {
  EXPECT_EQ(handle(donation("e1", "d-1", 100)), rejected(RejectReason::kUnknownCase));
  EXPECT_EQ(handle(goal_changed("e2", 100)), rejected(RejectReason::kUnknownCase));
  EXPECT_EQ(handle(donation("e1", "d-1", 100)), kDuplicate);
  EXPECT_EQ(s().events_applied, 0);
  EXPECT_EQ(s().duplicates, 0);
  EXPECT_EQ(s().events_rejected, 0);
  EXPECT_TRUE(ledger_.dirty.summary);

  EXPECT_EQ(handle(opened("e3", 1000)), kApplied);
  EXPECT_EQ(handle(donation("e4", "d-1", 100)), kApplied);
  EXPECT_EQ(handle(donation("e4", "d-1", 100)), kDuplicate);
  EXPECT_EQ(handle(refund("e5", "nowhere", 1)), rejected(RejectReason::kUnknownDonation));
  EXPECT_EQ(s().events_applied, 2);
  EXPECT_EQ(s().duplicates, 1);
  EXPECT_EQ(s().events_rejected, 1);
}

// ---------------------------------------------------------------- duplicates

TEST_F(RulesTest, IdenticalEventIsADuplicateWithNoEffect) {
  open_case(150000);
  apply_all({donation("e2", "d-17", 2500)});
  EXPECT_EQ(handle(donation("e2", "d-17", 2500)), kDuplicate);
  EXPECT_EQ(s().received, MinorUnits(2500));
  EXPECT_EQ(s().donations, 1);
  EXPECT_EQ(s().donors, 1);
  EXPECT_EQ(s().events_applied, 2);
  EXPECT_EQ(s().duplicates, 1);
  EXPECT_EQ(s().events_rejected, 0);
}

TEST_F(RulesTest, SameIdWithDifferentAmountIsConflictingDuplicate) {
  open_case(150000);
  apply_all({donation("e2", "d-17", 2500)});
  EXPECT_EQ(handle(donation("e2", "d-17", 2600)), rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(s().received, MinorUnits(2500));
  EXPECT_EQ(donation_record("e2")->amount, MinorUnits(2500));
  EXPECT_EQ(s().events_rejected, 1);
  EXPECT_EQ(s().duplicates, 0);
}

TEST_F(RulesTest, SameIdWithOtherTypeOrTimeIsConflictingDuplicate) {
  open_case(150000);
  apply_all({at(donation("e2", "d-17", 2500), june(2))});
  EXPECT_EQ(handle(at(donation("e2", "d-17", 2500), june(3))),
            rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(handle(at(pledge("e2", "d-17", 2500), june(2))),
            rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(ledger_.pledge_count(), 0u);
}

TEST_F(RulesTest, ConflictingDuplicateKeepsTheFirstFingerprint) {
  open_case(150000);
  const events::Event first = donation("e2", "d-17", 2500);
  apply_all({first});
  EXPECT_EQ(handle(donation("e2", "d-17", 9999)), rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(ledger_.handled_fingerprint("e2"), events::fingerprint(first));
  EXPECT_EQ(handle(first), kDuplicate);
  EXPECT_EQ(handle(donation("e2", "d-17", 9999)), rejected(RejectReason::kConflictingDuplicate));
}

TEST_F(RulesTest, RepeatOfRejectedEventIsADuplicateEvenWhenItWouldNowApply) {
  open_case(1000);
  EXPECT_EQ(handle(disbursement("e2", Category::kShelter, 500)),
            rejected(RejectReason::kInsufficientFunds));
  apply_all({donation("e3", "d-1", 1000)});
  EXPECT_EQ(handle(disbursement("e2", Category::kShelter, 500)), kDuplicate);
  EXPECT_EQ(s().disbursed, MinorUnits(0));
  EXPECT_EQ(handle(disbursement("e2", Category::kShelter, 400)),
            rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(s().disbursed, MinorUnits(0));
}

TEST_F(RulesTest, EventRejectedBeforeOpeningIsADuplicateWhenRepeatedAfter) {
  EXPECT_EQ(handle(donation("e1", "d-1", 100)), rejected(RejectReason::kUnknownCase));
  EXPECT_TRUE(ledger_.handled_fingerprint("e1").has_value());
  apply_all({opened("e0", 1000)});
  EXPECT_EQ(handle(donation("e1", "d-1", 100)), kDuplicate);
  EXPECT_EQ(handle(donation("e1", "d-1", 200)), rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(s().received, MinorUnits(0));
  // Handled once the case is opened, so these count in the case.
  EXPECT_EQ(s().duplicates, 1);
  EXPECT_EQ(s().events_rejected, 1);
}

TEST_F(RulesTest, RepeatedCaseOpenedIsADuplicateNotCaseExists) {
  apply_all({opened("e1", 1000)});
  EXPECT_EQ(handle(opened("e1", 1000)), kDuplicate);
  EXPECT_EQ(handle(opened("e1", 2000)), rejected(RejectReason::kConflictingDuplicate));
  EXPECT_EQ(s().goal, MinorUnits(1000));
}

TEST_F(RulesTest, SameEventIdInAnotherCaseIsNotADuplicate) {
  CaseLedger other = empty_ledger("case-yz");
  apply_all({opened("e1", 1000), donation("e2", "d-1", 500)});
  EXPECT_EQ(handle_event(other, in_case(opened("e1", 1000), "case-yz")).value(), kApplied);
  EXPECT_EQ(handle_event(other, in_case(donation("e2", "d-1", 500), "case-yz")).value(), kApplied);
  EXPECT_EQ(other.summary.received, MinorUnits(500));
  EXPECT_EQ(other.summary.duplicates, 0);
  EXPECT_EQ(s().received, MinorUnits(500));
}

// A case whose id tables are full cannot take an event that adds an id: the
// fold says so (no SPEC outcome fits) and leaves the ledger as it was, so the
// projector stops between two events with a clear error instead of aborting.
TEST(RulesLimitsTest, AFullIdTableIsAnErrorAndTheLedgerIsUnchanged) {
  CaseLedger ledger(IdTable::Limits{.max_ids = 2});
  ledger.case_id = kCase;
  const events::Event first = opened("e1", 1000);
  ASSERT_EQ(handle_event(ledger, first).value(), kApplied);
  ASSERT_EQ(handle_event(ledger, donation("e2", "d-1", 300)).value(), kApplied);
  const CaseLedger before = ledger;
  auto full = handle_event(ledger, donation("e3", "d-1", 200));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(full.error().message,
            "case " + ledger.case_id +
                ": its table of event ids is full (2 ids in 4 bytes; at most 2 ids in 4294967295 "
                "bytes fit), so event e3 cannot be handled; the case cannot take more events");
  EXPECT_TRUE(ledger.same_content(before));
  EXPECT_EQ(ledger.summary.received, MinorUnits(300));

  // The donors' table is checked too, before the event's id is remembered.
  CaseLedger donors(IdTable::Limits{.max_bytes = 4});
  donors.case_id = ledger.case_id;
  ASSERT_EQ(handle_event(donors, opened("e1", 1000)).value(), kApplied);
  const CaseLedger opened_only = donors;
  auto no_room = handle_event(donors, donation("e2", "donor-5", 300));
  ASSERT_FALSE(no_room.has_value());
  EXPECT_NE(no_room.error().message.find("its table of donors is full"), std::string::npos)
      << no_room.error().message;
  EXPECT_TRUE(donors.same_content(opened_only));
}

// ------------------------------------------------------------- dirty records

// The donor refs a dirty list of donor numbers names.
std::set<std::string> donor_names(const CaseLedger& ledger, const std::vector<uint32_t>& dirty) {
  std::set<std::string> refs;
  for (const uint32_t donor : dirty) refs.emplace(ledger.donor_ref(donor));
  return refs;
}

TEST_F(RulesTest, DirtyRecordsNameTheSummaryAndNewDonors) {
  open_case(10000);
  apply_all({donation("e2", "d-17", 2500)});
  EXPECT_TRUE(ledger_.dirty.summary);
  EXPECT_EQ(donor_names(ledger_, ledger_.dirty.new_donors), (std::set<std::string>{"d-17"}));
  EXPECT_EQ(donor_names(ledger_, ledger_.dirty.new_givers), (std::set<std::string>{"d-17"}));

  ledger_.dirty.clear();
  EXPECT_EQ(handle(donation("e2", "d-17", 2500)), kDuplicate);
  EXPECT_TRUE(ledger_.dirty.summary);  // the duplicates counter changed
  EXPECT_TRUE(ledger_.dirty.new_donors.empty());

  ledger_.dirty.clear();
  EXPECT_EQ(handle(donation("e3", "d-99", 100, kEur)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_TRUE(ledger_.dirty.summary);
  EXPECT_TRUE(ledger_.dirty.new_donors.empty());  // a rejected donation brings no donor
  EXPECT_TRUE(ledger_.dirty.new_givers.empty());

  ledger_.dirty.clear();
  apply_all({donation("e4", "d-17", 100), pledge("p1", "d-5", 300)});
  // d-17 was already a donor of this case; d-5 is new to it, but has not
  // given yet: the donor index leads to the case, the donor count does not.
  EXPECT_EQ(donor_names(ledger_, ledger_.dirty.new_donors), (std::set<std::string>{"d-5"}));
  EXPECT_TRUE(ledger_.dirty.new_givers.empty());
  EXPECT_EQ(s().donors, 1);

  ledger_.dirty.clear();
  apply_all({fulfilled("f1", "p1"), refund("r1", "e2", 100)});
  EXPECT_TRUE(ledger_.dirty.new_donors.empty());
  EXPECT_EQ(donor_names(ledger_, ledger_.dirty.new_givers), (std::set<std::string>{"d-5"}));
  EXPECT_EQ(s().donors, 2);
  EXPECT_EQ(donation_record("e2")->refunded, MinorUnits(100));
  EXPECT_EQ(pledge_record("p1")->state, PledgeState::kFulfilled);
}

TEST_F(RulesTest, HandledEventsKeepTheFingerprintOfEveryOutcome) {
  const events::Event early = donation("e1", "d-1", 100);
  EXPECT_EQ(handle(early), rejected(RejectReason::kUnknownCase));
  const events::Event open = opened("e2", 1000);
  apply_all({open});
  EXPECT_EQ(ledger_.handled_event_count(), 2u);
  EXPECT_EQ(ledger_.handled_fingerprint("e1"), events::fingerprint(early));
  EXPECT_EQ(ledger_.handled_fingerprint("e2"), events::fingerprint(open));
}

TEST_F(RulesTest, EventOfAnotherCaseIsAProgrammerError) {
  EXPECT_DEATH((void)handle(in_case(donation("e1", "d-1", 100), "case-other")), "case_id");
}

// -------------------------------------------------------- currency exponents

TEST_F(RulesTest, JpyCaseCountsWholeYen) {
  apply_all({opened("e1", 150000, kJpy)});  // ¥150,000
  EXPECT_EQ(s().currency.exponent, 0);
  EXPECT_EQ(handle(donation("e2", "d-1", 150000)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_EQ(handle(donation("e3", "d-1", 100000, kJpy)), kApplied);
  EXPECT_EQ(handle(donation("e4", "d-2", 50001, kJpy)), kApplied);
  EXPECT_EQ(s().received, MinorUnits(150001));
  EXPECT_EQ(s().surplus(), MinorUnits(1));
  EXPECT_EQ(s().status(), CaseStatus::kFunded);
}

TEST_F(RulesTest, KwdCaseCountsFils) {
  apply_all({opened("e1", 1'500'000, kKwd)});  // 1500.000 KWD
  EXPECT_EQ(s().currency.exponent, 3);
  apply_all({donation("e2", "d-1", 1250, kKwd),  // 1.250 KWD
             refund("r1", "e2", 5, RefundReason::kError, kKwd)});
  EXPECT_EQ(handle(refund("r2", "e2", 5)), rejected(RejectReason::kCurrencyMismatch));
  EXPECT_EQ(s().net(), MinorUnits(1245));
  EXPECT_EQ(s().remaining(), MinorUnits(1'498'755));
}

// ---------------------------------------------------------- the SPEC example

TEST_F(RulesTest, SpecExampleLinesGiveTheirFigures) {
  const TimestampMicros opened_at = plus_micros(june(1), 8 * 3600 * kMicrosPerSecond);
  EXPECT_EQ(handle(at(opened_with_budget("e1", {line(Category::kRepatriation, 40000),
                                                line(Category::kLivelihood, 110000)}),
                      opened_at)),
            kApplied);
  EXPECT_EQ(handle(at(donation("e2", "d-17", 2500), june(2))), kApplied);
  EXPECT_EQ(handle(at(refund("e3", "e2", 500), june(3))), kApplied);
  EXPECT_EQ(s().goal, MinorUnits(150000));
  EXPECT_EQ(s().received, MinorUnits(2500));
  EXPECT_EQ(s().refunded, MinorUnits(500));
  EXPECT_EQ(s().net(), MinorUnits(2000));
  EXPECT_EQ(s().available(), MinorUnits(2000));
  EXPECT_EQ(s().remaining(), MinorUnits(148000));
  EXPECT_EQ(s().surplus(), MinorUnits(0));
  EXPECT_EQ(s().donations, 1);
  EXPECT_EQ(s().donors, 1);
  EXPECT_EQ(s().refunds, 1);
  EXPECT_EQ(s().opened_at, opened_at);
  EXPECT_EQ(s().status(), CaseStatus::kOpen);
  EXPECT_EQ(s().events_applied, 3);
}

// ------------------------------------------------------------------ spelling

TEST(RejectReasonTest, SpellingsMatchSpecAndParseBack) {
  const std::string_view expected[kRejectReasonCount] = {"malformed",
                                                         "conflicting_duplicate",
                                                         "case_exists",
                                                         "unknown_case",
                                                         "case_closed",
                                                         "currency_mismatch",
                                                         "overflow",
                                                         "unknown_pledge",
                                                         "pledge_not_outstanding",
                                                         "unknown_donation",
                                                         "refund_exceeds_donation",
                                                         "insufficient_funds"};
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    const auto reason = static_cast<RejectReason>(i);
    EXPECT_EQ(to_string(reason), expected[i]);
    EXPECT_EQ(parse_reject_reason(expected[i]), reason);
  }
  EXPECT_EQ(parse_reject_reason("Unknown_case"), std::nullopt);
  EXPECT_EQ(parse_reject_reason("unknown_case "), std::nullopt);
  EXPECT_EQ(parse_reject_reason(""), std::nullopt);
}

}  // namespace
}  // namespace homeward::engine
