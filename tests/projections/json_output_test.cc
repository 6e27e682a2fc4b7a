// The JSON documents of SPEC section 7, compared with JSON text written by
// hand from the SPEC (keys in SPEC order, amounts as strings with the
// currency's exponent digits, absent values null).
#include "projections/json_output.h"

#include <gtest/gtest.h>

#include <string>

namespace homeward::projections {
namespace {

using engine::CaseSummary;
using events::Category;

constexpr int64_t kSecond = 1'000'000;
// 2015-06-01T08:00:00Z and friends, in microseconds.
constexpr int64_t kJune1At8 = 1433145600 * kSecond;
constexpr int64_t kJune5At1030 = 1433500200 * kSecond;
constexpr int64_t kJune10AtNoon = 1433937600 * kSecond;
constexpr int64_t kJuly1 = 1435708800 * kSecond;

size_t idx(Category c) { return static_cast<size_t>(c); }

CaseSummary jpy_case() {
  CaseSummary s;
  s.opened = true;
  s.currency = events::Currency{{'J', 'P', 'Y'}, 0};
  s.goal = MinorUnits(150000);
  s.has_budget = true;
  s.planned[idx(Category::kShelter)] = MinorUnits(50000);
  s.planned[idx(Category::kRepatriation)] = MinorUnits(100000);
  s.disbursed_by_category[idx(Category::kRepatriation)] = MinorUnits(30000);
  s.received = MinorUnits(160000);
  s.refunded = MinorUnits(5000);
  s.pledged = MinorUnits(2000);
  s.disbursed = MinorUnits(30000);
  s.donations = 3;
  s.donors = 2;
  s.refunds = 1;
  s.opened_at = TimestampMicros(kJune1At8);
  s.fully_funded_at = TimestampMicros(kJune5At1030 + 250000);
  s.events_applied = 7;
  s.duplicates = 1;
  s.events_rejected = 2;
  return s;
}

// Closed, goal without a budget, one disbursement: the budget shows only the
// disbursed category, with planned zero.
CaseSummary kwd_case() {
  CaseSummary s;
  s.opened = true;
  s.currency = events::Currency{{'K', 'W', 'D'}, 3};
  s.goal = MinorUnits(1000000);
  s.has_budget = false;
  s.disbursed_by_category[idx(Category::kMedical)] = MinorUnits(500);
  s.received = MinorUnits(1234567);
  s.disbursed = MinorUnits(500);
  s.donations = 4;
  s.donors = 4;
  s.opened_at = TimestampMicros(kJune1At8);
  s.fully_funded_at = TimestampMicros(kJune10AtNoon);
  s.closed_at = TimestampMicros(kJuly1);
  s.close_reason = events::CloseReason::kCompleted;
  s.events_applied = 6;
  return s;
}

// A chargeback after a disbursement left `available` negative.
CaseSummary usd_case() {
  CaseSummary s;
  s.opened = true;
  s.currency = events::Currency{{'U', 'S', 'D'}, 2};
  s.goal = MinorUnits(150000);
  s.has_budget = true;
  s.planned[idx(Category::kRepatriation)] = MinorUnits(40000);
  s.planned[idx(Category::kLivelihood)] = MinorUnits(110000);
  s.disbursed_by_category[idx(Category::kRepatriation)] = MinorUnits(4000);
  s.received = MinorUnits(5000);
  s.refunded = MinorUnits(2250);
  s.disbursed = MinorUnits(4000);
  s.donations = 2;
  s.donors = 1;
  s.refunds = 1;
  s.opened_at = TimestampMicros(kJune1At8 + 1);
  s.events_applied = 5;
  return s;
}

// No budget and no disbursement: an empty budget object.
CaseSummary eur_case() {
  CaseSummary s;
  s.opened = true;
  s.currency = events::Currency{{'E', 'U', 'R'}, 2};
  s.goal = MinorUnits(100);
  s.opened_at = TimestampMicros(kJune1At8);
  s.events_applied = 1;
  return s;
}

TEST(JsonOutput, JpyCaseHasNoDecimalsAndMicrosecondTimestamps) {
  EXPECT_EQ(case_json("case-jp", jpy_case()).dump(),
            R"({"case_id":"case-jp","currency":"JPY","status":"funded","goal":"150000",)"
            R"("received":"160000","refunded":"5000","net":"155000","pledged":"2000",)"
            R"("disbursed":"30000","available":"125000","remaining":"0","surplus":"5000",)"
            R"("donations":3,"donors":2,"refunds":1,"opened_at":"2015-06-01T08:00:00Z",)"
            R"("fully_funded_at":"2015-06-05T10:30:00.250000Z","closed_at":null,)"
            R"("close_reason":null,"budget":{"shelter":{"planned":"50000","disbursed":"0"},)"
            R"("repatriation":{"planned":"100000","disbursed":"30000"}},"events_applied":7,)"
            R"("duplicates":1,"events_rejected":2})");
}

TEST(JsonOutput, ClosedKwdCaseHasThreeDecimalsAndUnplannedDisbursement) {
  EXPECT_EQ(case_json("case-kw", kwd_case()).dump(),
            R"({"case_id":"case-kw","currency":"KWD","status":"closed","goal":"1000.000",)"
            R"("received":"1234.567","refunded":"0.000","net":"1234.567","pledged":"0.000",)"
            R"("disbursed":"0.500","available":"1234.067","remaining":"0.000",)"
            R"("surplus":"234.567","donations":4,"donors":4,"refunds":0,)"
            R"("opened_at":"2015-06-01T08:00:00Z","fully_funded_at":"2015-06-10T12:00:00Z",)"
            R"("closed_at":"2015-07-01T00:00:00Z","close_reason":"completed",)"
            R"("budget":{"medical":{"planned":"0.000","disbursed":"0.500"}},)"
            R"("events_applied":6,"duplicates":0,"events_rejected":0})");
}

TEST(JsonOutput, UsdCaseShowsNegativeAvailableAndBudgetInCategoryOrder) {
  EXPECT_EQ(case_json("case-us", usd_case()).dump(),
            R"({"case_id":"case-us","currency":"USD","status":"open","goal":"1500.00",)"
            R"("received":"50.00","refunded":"22.50","net":"27.50","pledged":"0.00",)"
            R"("disbursed":"40.00","available":"-12.50","remaining":"1472.50",)"
            R"("surplus":"0.00","donations":2,"donors":1,"refunds":1,)"
            R"("opened_at":"2015-06-01T08:00:00.000001Z","fully_funded_at":null,)"
            R"("closed_at":null,"close_reason":null,)"
            R"("budget":{"repatriation":{"planned":"400.00","disbursed":"40.00"},)"
            R"("livelihood":{"planned":"1100.00","disbursed":"0.00"}},)"
            R"("events_applied":5,"duplicates":0,"events_rejected":0})");
}

TEST(JsonOutput, CasesArrayKeepsTheGivenOrderAndEmptyBudgetIsAnObject) {
  std::vector<CaseView> views = {{"a", eur_case()}, {"b", eur_case()}};
  const std::string one =
      R"("currency":"EUR","status":"open","goal":"1.00","received":"0.00",)"
      R"("refunded":"0.00","net":"0.00","pledged":"0.00","disbursed":"0.00",)"
      R"("available":"0.00","remaining":"1.00","surplus":"0.00","donations":0,"donors":0,)"
      R"("refunds":0,"opened_at":"2015-06-01T08:00:00Z","fully_funded_at":null,)"
      R"("closed_at":null,"close_reason":null,"budget":{},"events_applied":1,)"
      R"("duplicates":0,"events_rejected":0})";
  EXPECT_EQ(cases_json(views).dump(),
            R"([{"case_id":"a",)" + one + R"(,{"case_id":"b",)" + one + "]");
  EXPECT_EQ(cases_json({}).dump(), "[]");
}

TEST(JsonOutput, ImpactReportShape) {
  engine::ImpactReport r;
  r.cases_total = 3;
  r.cases_open = 1;
  r.cases_funded = 1;
  r.cases_closed = 1;
  r.cases_ever_fully_funded = 2;
  r.donations = 58;
  r.refunds = 2;
  r.donors = 40;
  engine::CurrencyTotals usd;
  // Cross-case sums are 128-bit: four times the int64 maximum still prints.
  usd.received = static_cast<events::WideMinorUnits>(INT64_MAX) * 4;
  usd.refunded = 100;
  usd.net = usd.received - 100;
  usd.pledged = 0;
  usd.disbursed = 381900;
  usd.surplus = 5;
  engine::CurrencyTotals jpy;
  jpy.received = 1500;
  jpy.net = 1500;
  r.by_currency["USD"] = usd;
  r.by_currency["JPY"] = jpy;
  r.median_seconds_to_fully_funded = 432000;
  r.events.applied = 64;
  r.events.duplicates = 1;
  r.events.rejected = 6;
  r.events.rejected_by_reason[static_cast<size_t>(engine::RejectReason::kInsufficientFunds)] = 1;
  r.events.rejected_by_reason[static_cast<size_t>(engine::RejectReason::kMalformed)] = 2;
  r.events.rejected_by_reason[static_cast<size_t>(engine::RejectReason::kUnknownCase)] = 3;

  EXPECT_EQ(impact_json(r).dump(),
            R"({"cases":{"total":3,"open":1,"funded":1,"closed":1,"ever_fully_funded":2},)"
            R"("donations":58,"refunds":2,"donors":40,"by_currency":{)"
            R"("JPY":{"received":"1500","refunded":"0","net":"1500","pledged":"0",)"
            R"("disbursed":"0","surplus":"0"},)"
            R"("USD":{"received":"368934881474191032.28","refunded":"1.00",)"
            R"("net":"368934881474191031.28","pledged":"0.00","disbursed":"3819.00",)"
            R"("surplus":"0.05"}},"median_seconds_to_fully_funded":432000,)"
            R"("events":{"applied":64,"duplicates":1,"rejected":6,)"
            R"("rejected_by_reason":{"malformed":2,"unknown_case":3,"insufficient_funds":1}}})");
}

TEST(JsonOutput, EmptyImpactReportHasNullMedianAndEmptyObjects) {
  EXPECT_EQ(impact_json(engine::ImpactReport{}).dump(),
            R"({"cases":{"total":0,"open":0,"funded":0,"closed":0,"ever_fully_funded":0},)"
            R"("donations":0,"refunds":0,"donors":0,"by_currency":{},)"
            R"("median_seconds_to_fully_funded":null,)"
            R"("events":{"applied":0,"duplicates":0,"rejected":0,"rejected_by_reason":{}}})");
}

TEST(JsonOutput, RejectionsUseNullForWhatAMalformedRecordHid) {
  std::vector<engine::RejectionRecord> rejections = {
      {"", "", std::nullopt, engine::RejectReason::kMalformed, Partition(0), Offset(4),
       "detail is not printed"},
      {"case-a", "", std::nullopt, engine::RejectReason::kMalformed, Partition(2), Offset(5), ""},
      {"case-a", "e9", events::EventType::kRefundIssued,
       engine::RejectReason::kRefundExceedsDonation, Partition(2), Offset(12345678901), ""},
  };
  EXPECT_EQ(rejections_json(rejections).dump(),
            R"([{"case_id":null,"event_id":null,"type":null,"reason":"malformed",)"
            R"("partition":0,"offset":4},)"
            R"({"case_id":"case-a","event_id":null,"type":null,"reason":"malformed",)"
            R"("partition":2,"offset":5},)"
            R"({"case_id":"case-a","event_id":"e9","type":"RefundIssued",)"
            R"("reason":"refund_exceeds_donation","partition":2,"offset":12345678901}])");
  EXPECT_EQ(rejections_json({}).dump(), "[]");
}

}  // namespace
}  // namespace homeward::projections
