// The public view of SPEC section 8 on hand-made figures: the edges the
// generated streams of the HTTP tests rarely reach (a percent past 100, one
// that 64 bits cannot hold, a median dated before its CaseOpened, a budget
// category with disbursements only).
#include "projections/public_view.h"

#include <gtest/gtest.h>

#include "events/money.h"
#include "events/timestamp.h"

namespace homeward::projections {
namespace {

engine::CaseSummary usd_case(int64_t goal, int64_t received) {
  engine::CaseSummary s;
  s.opened = true;
  s.currency = *events::find_currency("USD");
  s.goal = MinorUnits(goal);
  s.received = MinorUnits(received);
  s.opened_at = *events::parse_timestamp("2015-06-01T23:59:59.5Z");
  return s;
}

TEST(PublicViewTest, PercentFundedIsFlooredAndNotCapped) {
  EXPECT_EQ(percent_funded(usd_case(300, 0)), 0);
  EXPECT_EQ(percent_funded(usd_case(300, 299)), 99);  // 99.67
  EXPECT_EQ(percent_funded(usd_case(300, 300)), 100);
  EXPECT_EQ(percent_funded(usd_case(300, 1000)), 333);
  // 100 × net passes 2^63: computed wide, clamped at the int64 maximum.
  EXPECT_EQ(percent_funded(usd_case(1, INT64_MAX)), INT64_MAX);
  EXPECT_EQ(percent_funded(usd_case(1'000'000, INT64_MAX)), INT64_MAX / 10'000);
}

TEST(PublicViewTest, ACaseShowsDaysAndOnlyTheLatestBudgetsPlannedAmounts) {
  engine::CaseSummary s = usd_case(150000, 40000);
  s.refunded = MinorUnits(1000);
  s.donors = 3;
  s.has_budget = true;
  s.planned[static_cast<size_t>(events::Category::kShelter)] = MinorUnits(100000);
  s.planned[static_cast<size_t>(events::Category::kEducation)] = MinorUnits(50000);
  // Disbursed for medical, which the latest budget does not plan.
  s.disbursed = MinorUnits(500);
  s.disbursed_by_category[static_cast<size_t>(events::Category::kMedical)] = MinorUnits(500);
  s.fully_funded_at = *events::parse_timestamp("2015-06-06T00:00:00.000001Z");
  const auto j = public_case_json("case-xf", s);
  EXPECT_EQ(j.dump(),
            R"({"case_id":"case-xf","currency":"USD","status":"open","goal":"1500.00",)"
            R"("raised":"390.00","remaining":"1110.00","percent_funded":26,"supporters":3,)"
            R"("opened_on":"2015-06-01","fully_funded_on":"2015-06-06","closed_on":null,)"
            R"("budget":{"shelter":"1000.00","education":"500.00"}})");
}

TEST(PublicViewTest, ImpactCarriesRaisedAndOpenGoalsPerCurrencyAndWholeDays) {
  engine::ImpactReport r;
  r.cases_total = 2;
  r.cases_open = 1;
  r.cases_closed = 1;
  r.donations = 58;
  r.refunds = 4;
  r.donors = 40;
  engine::CurrencyTotals usd;
  usd.net = 381900;
  usd.received = 390000;
  usd.goal_not_closed = 150000;
  r.by_currency["USD"] = usd;
  r.by_currency["JPY"] = engine::CurrencyTotals{};
  r.median_seconds_to_fully_funded = 5 * 86400 + 86399;
  EXPECT_EQ(public_impact_json(r).dump(),
            R"({"cases":{"total":2,"open":1,"funded":0,"closed":1,"ever_fully_funded":0},)"
            R"("donations":58,"donors":40,"by_currency":{"JPY":{"raised":"0","goal":"0"},)"
            R"("USD":{"raised":"3819.00","goal":"1500.00"}},"median_days_to_fully_funded":5})");
  // Money dated before its CaseOpened: a negative median rounds down too.
  r.median_seconds_to_fully_funded = -1;
  EXPECT_EQ(public_impact_json(r)["median_days_to_fully_funded"], -1);
  r.median_seconds_to_fully_funded = std::nullopt;
  EXPECT_TRUE(public_impact_json(r)["median_days_to_fully_funded"].is_null());
}

}  // namespace
}  // namespace homeward::projections
