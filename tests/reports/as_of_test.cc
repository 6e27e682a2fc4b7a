// Point-in-time figures (--as-of) checked against the definition: the events
// with occurred_at <= T, in log order, published into a fresh log and
// projected into a fresh store, must give exactly the same case, cases and
// stats documents as the as-of view of the full store.
#include "projections/read_models/point_in_time.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "projections/json_output.h"
#include "tests/reports/reports_test_support.h"

namespace homeward::testing {
namespace {

using projections::case_as_of;
using projections::cases_as_of;
using projections::impact_as_of;

// The rich stream of the projector tests, interleaved: every event type,
// duplicates, conflicting duplicates, rejections, events before a case opens
// and a case that never opens. Times are hours after June 1st per case, so
// a cut at hour H splits every case somewhere.
std::vector<Event> full_stream() { return interleave(rich_case_streams(), 11); }

TEST(AsOf, EveryCutEqualsAFreshReplayOfTheTruncatedStream) {
  const std::vector<Event> stream = full_stream();
  // The live log also holds malformed records: they have no trustworthy time,
  // so no as-of view holds them (the fresh replay has none either).
  std::vector<AppendRequest> live_records = requests(stream);
  live_records.insert(live_records.begin() + 5,
                      AppendRequest{"case-1", "not flatbuffers", events::EventType::kCaseOpened});
  auto live = project_records(live_records);
  ASSERT_NE(live, nullptr);

  int cuts_with_cases = 0;
  for (const int h : {-1, 0, 1, 3, 7, 12, 20, 33, 1000}) {
    SCOPED_TRACE("cut at hour " + std::to_string(h));
    const TimestampMicros cut = hour(h);
    std::vector<Event> truncated;
    for (const Event& event : stream) {
      if (event.occurred_at <= cut) truncated.push_back(event);
    }
    auto fresh = project_records(requests(truncated));
    ASSERT_NE(fresh, nullptr);

    auto expected_cases = fresh->store->list_cases();
    auto actual_cases = cases_as_of(*live->store, cut);
    ASSERT_TRUE(expected_cases.has_value()) << expected_cases.error().message;
    ASSERT_TRUE(actual_cases.has_value()) << actual_cases.error().message;
    EXPECT_EQ(projections::cases_json(*actual_cases).dump(1),
              projections::cases_json(*expected_cases).dump(1));
    if (!expected_cases->empty()) ++cuts_with_cases;

    auto expected_impact = fresh->store->impact_report();
    auto actual_impact = impact_as_of(*live->store, cut);
    ASSERT_TRUE(expected_impact.has_value()) << expected_impact.error().message;
    ASSERT_TRUE(actual_impact.has_value()) << actual_impact.error().message;
    EXPECT_EQ(projections::impact_json(*actual_impact).dump(1),
              projections::impact_json(*expected_impact).dump(1));
    // Only the filtered events are counted, never the whole log.
    EXPECT_EQ(actual_impact->events.read(), static_cast<int64_t>(truncated.size()));

    for (const std::string case_id : {"case-0", "case-1", "case-2", "case-5", "ghost", "nope"}) {
      auto expected = fresh->store->find_case(case_id);
      auto actual = case_as_of(*live->store, case_id, cut);
      ASSERT_TRUE(expected.has_value()) << expected.error().message;
      ASSERT_TRUE(actual.has_value()) << actual.error().message;
      ASSERT_EQ(actual->has_value(), expected->has_value()) << case_id;
      if (expected->has_value()) {
        EXPECT_EQ(projections::case_json(case_id, **actual).dump(),
                  projections::case_json(case_id, **expected).dump());
      }
    }
  }
  // The cuts are not all trivial: some see cases, the first sees none.
  EXPECT_GE(cuts_with_cases, 5);
}

TEST(AsOf, AfterTheLastEventEqualsTheLiveFiguresExceptMalformedRecords) {
  const std::vector<Event> stream = full_stream();
  auto live = project_records(requests(stream));
  ASSERT_NE(live, nullptr);
  auto cases = cases_as_of(*live->store, hour(100000));
  auto now = live->store->list_cases();
  ASSERT_TRUE(cases.has_value() && now.has_value());
  EXPECT_EQ(projections::cases_json(*cases), projections::cases_json(*now));
  auto impact = impact_as_of(*live->store, hour(100000));
  auto impact_now = live->store->impact_report();
  ASSERT_TRUE(impact.has_value() && impact_now.has_value());
  EXPECT_EQ(projections::impact_json(*impact), projections::impact_json(*impact_now));
}

TEST(AsOf, RefundOfADonationAfterTheCutIsAnUnknownDonation) {
  const std::vector<Event> stream = {
      at(opened("o", 10'000), hour(0)),
      at(donation("d1", "donor-a", 2'000), hour(1)),
      at(refund("r1", "d1", 500, events::RefundReason::kDonorRequest), hour(3)),
      // Logged after r1 but occurred before it: the view at hour 2 holds d0
      // and not r1, although r1 comes first in the log.
      at(donation("d0", "donor-b", 1'000), hour(2)),
  };
  std::vector<Event> with_late_refund = stream;
  with_late_refund.push_back(
      at(refund("r0", "d9", 100, events::RefundReason::kDonorRequest), hour(0)));
  auto live = project_records(requests(with_late_refund));
  ASSERT_NE(live, nullptr);

  auto at_2 = case_as_of(*live->store, kCase, hour(2));
  ASSERT_TRUE(at_2.has_value() && at_2->has_value());
  EXPECT_EQ((*at_2)->received, MinorUnits(3'000));
  EXPECT_EQ((*at_2)->refunded, MinorUnits(0));
  // r0 (hour 0) is in every view from hour 0 on, and always unknown_donation.
  EXPECT_EQ((*at_2)->events_rejected, 1);

  auto impact = impact_as_of(*live->store, hour(0));
  ASSERT_TRUE(impact.has_value());
  EXPECT_EQ(impact->events.applied, 1);
  EXPECT_EQ(impact->events.rejected, 1);
  EXPECT_EQ(impact->events
                .rejected_by_reason[static_cast<size_t>(engine::RejectReason::kUnknownDonation)],
            1);

  auto at_3 = case_as_of(*live->store, kCase, hour(3));
  ASSERT_TRUE(at_3.has_value() && at_3->has_value());
  EXPECT_EQ((*at_3)->refunded, MinorUnits(500));
  EXPECT_EQ((*at_3)->net(), MinorUnits(2'500));

  auto before = case_as_of(*live->store, kCase, hour(-1));
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(before->has_value());
}

TEST(AsOf, AnInvalidCaseIdNamesNoCase) {
  auto live = project_records(requests({at(opened("o", 100), hour(0))}));
  ASSERT_NE(live, nullptr);
  for (const std::string& bad : std::vector<std::string>{"", "not valid!", std::string(200, 'a')}) {
    auto found = case_as_of(*live->store, bad, hour(5));
    ASSERT_TRUE(found.has_value()) << found.error().message;
    EXPECT_FALSE(found->has_value());
  }
}

}  // namespace
}  // namespace homeward::testing
