// Donor statements on a small hand-written stream; the expected documents
// were worked out by hand from SPEC sections 4 and 5 (see the comments).
#include "projections/read_models/donor_statement.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/reports/reports_test_support.h"

namespace homeward::testing {
namespace {

using nlohmann::ordered_json;
using projections::donor_statement;
using projections::donor_statement_json;

Event in(const char* case_id, int h, Event event) {
  return at(in_case(std::move(event), case_id), hour(h));
}

std::vector<Event> stream() {
  return {
      in("case-a", 0, opened("a-open", 10'000)),                // goal 100.00 USD
      in("case-a", 1, donation("a-d1", "donor-17", 3'000)),     // net 30.00
      in("case-a", 2, donation("a-d2", "donor-99", 2'000)),     // net 50.00
      in("case-a", 3, pledge("a-p1", "donor-17", 4'000)),       // pledged 40.00
      in("case-a", 4, refund("a-r1", "a-d1", 1'000)),           // net 40.00; a-d1 refunded 10.00
      in("case-a", 5, fulfilled("a-f1", "a-p1")),               // net 80.00
      in("case-a", 5, donation("a-x", "donor-17", 100, kEur)),  // currency_mismatch: not listed
      in("case-a", 6, donation("a-d3", "donor-99", 2'000)),  // net 100.00: fully funded at hour 6
      in("case-b", 7, opened("b-open", 5'000, kEur)),        // goal 50.00 EUR
      in("case-b", 8, pledge("b-p1", "donor-17", 1'000, kEur)),
      in("case-b", 9, cancelled("b-c1", "b-p1")),
      in("case-b", 10, donation("b-d1", "donor-17", 500, kEur)),  // net 5.00 EUR
      in("case-a", 11, refund("a-r2", "a-d2", 500)),  // donor-99's: net 95.00, open again
      in("case-b", 12,
         refund("b-r1", "b-d1", 600, events::RefundReason::kDonorRequest,
                kEur)),  // refund_exceeds_donation
      in("case-c", 12, opened("c-open", 10'000)),
      in("case-c", 13, donation("c-d1", "donor-99", 700)),
      in("case-d", 13, opened("d-open", 20'000)),
      in("case-d", 14, pledge("d-p1", "donor-17", 700)),  // outstanding
  };
}

TEST(DonorStatement, ListsTheDonorsAppliedEventsAndTheirCases) {
  auto p = project_events(stream());
  ASSERT_NE(p, nullptr);
  auto statement = donor_statement(*p->store, "donor-17");
  ASSERT_TRUE(statement.has_value()) << statement.error().message;

  const ordered_json expected = ordered_json::parse(R"({
    "donor_ref": "donor-17",
    "donations": [
      {"case_id": "case-a", "donation_id": "a-d1", "occurred_at": "2015-06-01T01:00:00Z",
       "currency": "USD", "amount": "30.00", "refunded": "10.00", "pledge_id": null},
      {"case_id": "case-a", "donation_id": "a-f1", "occurred_at": "2015-06-01T05:00:00Z",
       "currency": "USD", "amount": "40.00", "refunded": "0.00", "pledge_id": "a-p1"},
      {"case_id": "case-b", "donation_id": "b-d1", "occurred_at": "2015-06-01T10:00:00Z",
       "currency": "EUR", "amount": "5.00", "refunded": "0.00", "pledge_id": null}
    ],
    "refunds": [
      {"case_id": "case-a", "refund_id": "a-r1", "donation_id": "a-d1",
       "occurred_at": "2015-06-01T04:00:00Z", "currency": "USD", "amount": "10.00",
       "reason": "donor_request"}
    ],
    "pledges": [
      {"case_id": "case-a", "pledge_id": "a-p1", "made_at": "2015-06-01T03:00:00Z",
       "currency": "USD", "amount": "40.00", "state": "fulfilled",
       "settled_at": "2015-06-01T05:00:00Z"},
      {"case_id": "case-b", "pledge_id": "b-p1", "made_at": "2015-06-01T08:00:00Z",
       "currency": "EUR", "amount": "10.00", "state": "cancelled",
       "settled_at": "2015-06-01T09:00:00Z"},
      {"case_id": "case-d", "pledge_id": "d-p1", "made_at": "2015-06-01T14:00:00Z",
       "currency": "USD", "amount": "7.00", "state": "outstanding", "settled_at": null}
    ],
    "cases": [
      {"case_id": "case-a", "opened": true, "currency": "USD", "status": "open",
       "goal": "100.00", "net": "95.00", "remaining": "5.00", "fully_funded": true,
       "fully_funded_at": "2015-06-01T06:00:00Z", "closed_at": null, "given": "60.00",
       "helped_fully_fund": true},
      {"case_id": "case-b", "opened": true, "currency": "EUR", "status": "open",
       "goal": "50.00", "net": "5.00", "remaining": "45.00", "fully_funded": false,
       "fully_funded_at": null, "closed_at": null, "given": "5.00",
       "helped_fully_fund": false},
      {"case_id": "case-d", "opened": true, "currency": "USD", "status": "open",
       "goal": "200.00", "net": "0.00", "remaining": "200.00", "fully_funded": false,
       "fully_funded_at": null, "closed_at": null, "given": "0.00",
       "helped_fully_fund": false}
    ]
  })");
  EXPECT_EQ(donor_statement_json(*statement).dump(1), expected.dump(1));
}

TEST(DonorStatement, AnotherDonorSeesOnlyTheirOwnGifts) {
  auto p = project_events(stream());
  ASSERT_NE(p, nullptr);
  auto statement = donor_statement(*p->store, "donor-99");
  ASSERT_TRUE(statement.has_value()) << statement.error().message;
  ASSERT_EQ(statement->donations.size(), 3U);  // a-d2, a-d3, c-d1
  EXPECT_EQ(statement->donations[0].donation_id, "a-d2");
  EXPECT_EQ(statement->donations[0].refunded, MinorUnits(500));
  EXPECT_EQ(statement->donations[2].donation_id, "c-d1");
  ASSERT_EQ(statement->refunds.size(), 1U);
  EXPECT_EQ(statement->refunds[0].refund_id, "a-r2");
  EXPECT_TRUE(statement->pledges.empty());
  ASSERT_EQ(statement->cases.size(), 2U);
  EXPECT_EQ(statement->cases[0].case_id, "case-a");
  EXPECT_EQ(statement->cases[0].given, MinorUnits(3'500));  // 20.00 - 5.00 + 20.00
  EXPECT_TRUE(statement->cases[0].helped_fully_fund);       // a-d3 made it fully funded
  EXPECT_EQ(statement->cases[1].case_id, "case-c");
  EXPECT_FALSE(statement->cases[1].helped_fully_fund);
}

TEST(DonorStatement, AnUnknownOrInvalidDonorIsNotFound) {
  auto p = project_events(stream());
  ASSERT_NE(p, nullptr);
  for (const std::string& donor : std::vector<std::string>{"donor-1", "", "bad donor!"}) {
    auto statement = donor_statement(*p->store, donor);
    ASSERT_FALSE(statement.has_value()) << donor;
    EXPECT_EQ(statement.error().code, ErrorCode::kNotFound);
  }
  // A donor whose only event was rejected is not in the ledger either.
  auto rejected_only = project_events({in("case-z", 0, donation("z-1", "donor-5", 100))});
  ASSERT_NE(rejected_only, nullptr);
  auto statement = donor_statement(*rejected_only->store, "donor-5");
  ASSERT_FALSE(statement.has_value());
  EXPECT_EQ(statement.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace homeward::testing
