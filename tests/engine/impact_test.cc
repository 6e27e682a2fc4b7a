// The impact report of SPEC section 6 and the projector's event totals.
#include "engine/impact.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "engine/rules.h"
#include "tests/engine/event_builders.h"

namespace homeward::engine {
namespace {

using homeward::testing::kJpy;
using homeward::testing::kMicrosPerSecond;
using homeward::testing::kT0;
using homeward::testing::kUsd;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

CaseSummary opened_case(const events::Currency& currency, int64_t goal, int64_t received) {
  CaseSummary s;
  s.opened = true;
  s.currency = currency;
  s.goal = MinorUnits(goal);
  s.received = MinorUnits(received);
  s.opened_at = kT0;
  return s;
}

// A funded case that became fully funded `micros` after it was opened.
CaseSummary funded_after(int64_t micros) {
  CaseSummary s = opened_case(kUsd, 1000, 1000);
  s.fully_funded_at = TimestampMicros(kT0.value() + micros);
  return s;
}

ImpactReport report_of(const std::vector<CaseSummary>& cases, int64_t donors = 0,
                       const ProjectionTotals& totals = {}) {
  ImpactBuilder builder;
  for (const CaseSummary& s : cases) builder.add_case(s);
  return std::move(builder).finish(donors, totals);
}

std::optional<int64_t> median_of_offsets(const std::vector<int64_t>& micros) {
  std::vector<CaseSummary> cases;
  for (const int64_t m : micros) cases.push_back(funded_after(m));
  return report_of(cases).median_seconds_to_fully_funded;
}

TEST(ProjectionTotalsTest, CountsEachOutcome) {
  ProjectionTotals totals;
  for (int i = 0; i < 3; ++i) totals.count(Outcome::applied());
  totals.count(Outcome::duplicate());
  totals.count(Outcome::rejected(RejectReason::kUnknownCase));
  totals.count(Outcome::rejected(RejectReason::kUnknownCase));
  totals.count(Outcome::rejected(RejectReason::kOverflow));
  EXPECT_EQ(totals.applied, 3);
  EXPECT_EQ(totals.duplicates, 1);
  EXPECT_EQ(totals.rejected, 3);
  EXPECT_EQ(totals.read(), 7);
  for (size_t r = 0; r < kRejectReasonCount; ++r) {
    const auto reason = static_cast<RejectReason>(r);
    const int64_t expected = reason == RejectReason::kUnknownCase ? 2
                             : reason == RejectReason::kOverflow  ? 1
                                                                  : 0;
    EXPECT_EQ(totals.rejected_by_reason[r], expected) << to_string(reason);
  }
}

TEST(ImpactBuilderTest, CountsCasesByStatus) {
  CaseSummary open = opened_case(kUsd, 1000, 500);
  CaseSummary funded = funded_after(10 * kMicrosPerSecond);
  CaseSummary closed_funded = funded_after(20 * kMicrosPerSecond);
  closed_funded.close_reason = CloseReason::kCompleted;
  CaseSummary closed_short = opened_case(kUsd, 1000, 0);
  closed_short.close_reason = CloseReason::kCancelled;
  CaseSummary never_opened;  // only rejected events were seen for this case_id
  never_opened.received = MinorUnits(0);

  const ImpactReport r = report_of({open, funded, closed_funded, closed_short, never_opened});
  EXPECT_EQ(r.cases_total, 4);
  EXPECT_EQ(r.cases_open, 1);
  EXPECT_EQ(r.cases_funded, 1);
  EXPECT_EQ(r.cases_closed, 2);
  EXPECT_EQ(r.cases_ever_fully_funded, 2);
  // The goals still raised for: the open and the funded case, not the closed.
  EXPECT_TRUE(r.by_currency.at("USD").goal_not_closed == 2000);
}

TEST(ImpactBuilderTest, UnopenedSummariesAreIgnored) {
  CaseSummary never_opened;
  never_opened.currency = kJpy;
  never_opened.donations = 3;
  const ImpactReport r = report_of({never_opened});
  EXPECT_EQ(r.cases_total, 0);
  EXPECT_EQ(r.donations, 0);
  EXPECT_TRUE(r.by_currency.empty());
  EXPECT_EQ(r.median_seconds_to_fully_funded, std::nullopt);
}

TEST(ImpactBuilderTest, SumsSixFiguresPerCurrencyIncludingZeros) {
  CaseSummary a = opened_case(kUsd, 3000, 5000);
  a.refunded = MinorUnits(1000);
  a.pledged = MinorUnits(700);
  a.disbursed = MinorUnits(2000);
  CaseSummary b = opened_case(kUsd, 1000, 100);
  CaseSummary c = opened_case(kJpy, 150000, 0);

  const ImpactReport r = report_of({a, b, c});
  ASSERT_EQ(r.by_currency.size(), 2u);
  ASSERT_EQ(r.by_currency.count("USD"), 1u);
  ASSERT_EQ(r.by_currency.count("JPY"), 1u);
  const CurrencyTotals& usd = r.by_currency.at("USD");
  EXPECT_TRUE(usd.received == 5100);
  EXPECT_TRUE(usd.refunded == 1000);
  EXPECT_TRUE(usd.net == 4100);
  EXPECT_TRUE(usd.pledged == 700);
  EXPECT_TRUE(usd.disbursed == 2000);
  EXPECT_TRUE(usd.surplus == 1000);  // a: 4000 - 3000; b: none
  EXPECT_TRUE(usd.goal_not_closed == 4000);
  CurrencyTotals jpy_expected;
  jpy_expected.goal_not_closed = 150000;  // its goal; every sum is zero
  EXPECT_EQ(r.by_currency.at("JPY"), jpy_expected);
}

TEST(ImpactBuilderTest, SumsAcrossCasesGoBeyondInt64) {
  const CaseSummary big = opened_case(kUsd, 1, kInt64Max);
  const ImpactReport r = report_of({big, big, big});
  const events::WideMinorUnits three_max = events::WideMinorUnits{kInt64Max} * 3;
  EXPECT_TRUE(r.by_currency.at("USD").received == three_max);
  EXPECT_TRUE(r.by_currency.at("USD").net == three_max);
  EXPECT_TRUE(r.by_currency.at("USD").surplus == three_max - 3);
}

TEST(ImpactBuilderTest, DonationsAndRefundsAreSummedOverCases) {
  CaseSummary a = opened_case(kUsd, 1000, 0);
  a.donations = 40;
  a.refunds = 2;
  CaseSummary b = opened_case(kJpy, 1000, 0);
  b.donations = 18;
  b.refunds = 1;
  const ImpactReport r = report_of({a, b});
  EXPECT_EQ(r.donations, 58);
  EXPECT_EQ(r.refunds, 3);
}

TEST(ImpactBuilderTest, DonorsAndEventTotalsPassThrough) {
  ProjectionTotals totals;
  totals.applied = 70;
  totals.duplicates = 2;
  totals.rejected = 5;
  totals.rejected_by_reason[static_cast<size_t>(RejectReason::kMalformed)] = 5;
  const ImpactReport r = report_of({opened_case(kUsd, 1000, 0)}, 40, totals);
  EXPECT_EQ(r.donors, 40);
  EXPECT_EQ(r.events, totals);
}

TEST(ImpactBuilderTest, MedianOfAnOddCountIsTheMiddleValue) {
  EXPECT_EQ(
      median_of_offsets({30 * kMicrosPerSecond, 10 * kMicrosPerSecond, 20 * kMicrosPerSecond}), 20);
}

TEST(ImpactBuilderTest, MedianOfAnEvenCountIsTheLowerMiddleValue) {
  EXPECT_EQ(median_of_offsets({40 * kMicrosPerSecond, 10 * kMicrosPerSecond, 30 * kMicrosPerSecond,
                               20 * kMicrosPerSecond}),
            20);
}

TEST(ImpactBuilderTest, MedianIsNullWithoutFullyFundedCases) {
  EXPECT_EQ(report_of({opened_case(kUsd, 1000, 10)}).median_seconds_to_fully_funded, std::nullopt);
  EXPECT_EQ(report_of({}).median_seconds_to_fully_funded, std::nullopt);
}

TEST(ImpactBuilderTest, MedianCountsWholeSecondsRoundedDown) {
  EXPECT_EQ(median_of_offsets({2 * kMicrosPerSecond - 1}), 1);
  EXPECT_EQ(median_of_offsets({0}), 0);
  // Five days, as in the 6Degree pilot.
  EXPECT_EQ(median_of_offsets({5 * 86400 * kMicrosPerSecond + 999'999}), 432000);
}

TEST(ImpactBuilderTest, NegativeDurationsRoundDownToo) {
  EXPECT_EQ(median_of_offsets({-1'500'000}), -2);
  EXPECT_EQ(median_of_offsets({-1'000'000}), -1);
  EXPECT_EQ(median_of_offsets({-1}), -1);
  EXPECT_EQ(median_of_offsets({-3 * kMicrosPerSecond, 5 * kMicrosPerSecond}), -3);
}

TEST(ImpactBuilderTest, ReportOverFoldedCasesMatchesTheirFigures) {
  using namespace homeward::testing;  // NOLINT
  CaseLedger a = empty_ledger("case-a");
  CaseLedger b = empty_ledger("case-b");
  ProjectionTotals totals;
  const std::vector<events::Event> log = {
      in_case(at(opened("e1", 1000), june(1)), "case-a"),
      in_case(at(opened("e1", 5000, kJpy), june(1)), "case-b"),
      in_case(at(donation("e2", "d-1", 600), june(2)), "case-a"),
      in_case(at(donation("e3", "d-2", 400), june(3)), "case-a"),
      in_case(at(donation("e2", "d-1", 600), june(2)), "case-a"),
      in_case(donation("e2", "d-1", 5000, kJpy), "case-b"),
      in_case(refund("e4", "e2", 100), "case-b"),  // USD refund in a JPY case
  };
  for (const events::Event& e : log) {
    totals.count(handle_event(e.case_id == "case-a" ? a : b, e).value());
  }
  ImpactBuilder builder;
  builder.add_case(a.summary);
  builder.add_case(b.summary);
  const ImpactReport r = std::move(builder).finish(2, totals);
  EXPECT_EQ(r.cases_total, 2);
  EXPECT_EQ(r.cases_funded, 2);
  EXPECT_EQ(r.cases_ever_fully_funded, 2);
  EXPECT_EQ(r.donations, 3);
  EXPECT_EQ(r.refunds, 0);
  EXPECT_TRUE(r.by_currency.at("USD").received == 1000);
  EXPECT_TRUE(r.by_currency.at("JPY").received == 5000);
  // case-a: 2 days; case-b: fully funded at kT0 = june(1), 0 seconds.
  EXPECT_EQ(r.median_seconds_to_fully_funded, 0);
  EXPECT_EQ(r.events.applied, 5);
  EXPECT_EQ(r.events.duplicates, 1);
  EXPECT_EQ(r.events.rejected, 1);
  EXPECT_EQ(r.events.rejected_by_reason[static_cast<size_t>(RejectReason::kCurrencyMismatch)], 1);
}

}  // namespace
}  // namespace homeward::engine
