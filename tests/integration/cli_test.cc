// The `homeward` command line, run in-process through run_cli against a real
// RocksDB data directory. The expected figures below were worked out by hand
// from SPEC sections 4 to 7 (see the comments next to each input line), not
// taken from the program's own output.
#include "connectors/cli/cli.h"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/embedded_log/embedded_log.h"
#include "engine/event_log.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;

using testing::CliRun;
using testing::run_homeward;

// The ledger scenario. Line numbers (1-based) matter: refusals name them.
// Offsets in the log count only appended lines, from 0.
const std::vector<std::string>
    kScenarioLines =
        {
            // 1: not JSON -> refused, no field.
            R"(this is not json)",
            // 2: unknown type -> refused on "type".
            R"({"type":"DonationMade","event_id":"x1","occurred_at":"2015-06-01T00:00:00Z","case_id":"usd-1","donor_ref":"d-a","amount":"1.00","currency":"USD"})",
            // 3 (offset 0): usd-1 opens; goal = budget sum 1000.00; opened_at 08:00Z.
            R"({"type":"CaseOpened","event_id":"u-open","occurred_at":"2015-06-01T15:00:00+07:00","case_id":"usd-1","source":"case-office","currency":"USD","budget":[{"category":"shelter","amount":"600.00"},{"category":"medical","amount":"400"}]})",
            // 4: three decimals for USD -> refused on "amount".
            R"({"type":"DonationReceived","event_id":"x2","occurred_at":"2015-06-01T00:00:00Z","case_id":"usd-1","donor_ref":"d-a","amount":"10.001","currency":"USD"})",
            // 5 (1): donation 300.00 from d-a; net 300.00.
            R"({"type":"DonationReceived","event_id":"u-d1","occurred_at":"2015-06-02T08:00:00.5Z","case_id":"usd-1","donor_ref":"d-a","amount":"300","currency":"USD"})",
            // 6 (2): donation 500.00 from d-b; net 800.00 < 1000.00.
            R"({"type":"DonationReceived","event_id":"u-d2","occurred_at":"2015-06-03T10:00:00Z","case_id":"usd-1","source":"portal-web","donor_ref":"d-b","amount":"500.00","currency":"USD"})",
            // 7: unknown extra field -> refused.
            R"({"type":"DonationReceived","event_id":"x3","occurred_at":"2015-06-01T00:00:00Z","case_id":"usd-1","donor_ref":"d-a","amount":"10.00","currency":"USD","colour":"red"})",
            // 8 (3): goal lowered to 800.00 without budget -> funded at 2015-06-04T02:00:00Z.
            R"({"type":"CaseGoalChanged","event_id":"u-g1","occurred_at":"2015-06-04T00:00:00-02:00","case_id":"usd-1","currency":"USD","goal":"800.00","reason":"flight donated"})",
            // 9 (4): goal raised to 1200.00 with a budget -> open again (unfunded).
            R"({"type":"CaseGoalChanged","event_id":"u-g2","occurred_at":"2015-06-05T00:00:00Z","case_id":"usd-1","currency":"USD","goal":"1200.00","budget":[{"category":"shelter","amount":"600.00"},{"category":"medical","amount":"400.00"},{"category":"legal","amount":"200.00"}]})",
            // 10 (5): pledge 50.00 from d-f, kept outstanding.
            R"({"type":"PledgeMade","event_id":"u-p3","occurred_at":"2015-06-05T12:00:00Z","case_id":"usd-1","donor_ref":"d-f","amount":"50.00","currency":"USD"})",
            // 11 (6): disbursed 250.00 for shelter; available 550.00.
            R"({"type":"FundsDisbursed","event_id":"u-x1","occurred_at":"2015-06-06T00:00:00Z","case_id":"usd-1","category":"shelter","amount":"250.00","currency":"USD","reference":"inv-77"})",
            // 12 (7): refund 100.00 of u-d1 after the disbursement; net 700.00, available 450.00.
            R"({"type":"RefundIssued","event_id":"u-r1","occurred_at":"2015-06-07T00:00:00Z","case_id":"usd-1","donation_id":"u-d1","amount":"100.00","currency":"USD","reason":"donor_request"})",
            // 13 (8): 250.00 more of u-d1, only 200.00 left -> refund_exceeds_donation.
            R"({"type":"RefundIssued","event_id":"u-r2","occurred_at":"2015-06-07T01:00:00Z","case_id":"usd-1","donation_id":"u-d1","amount":"250.00","currency":"USD","reason":"donor_request"})",
            // 14 (9): 500.00 of u-d2 but available is 450.00 -> insufficient_funds.
            R"({"type":"RefundIssued","event_id":"u-r3","occurred_at":"2015-06-07T02:00:00Z","case_id":"usd-1","donation_id":"u-d2","amount":"500.00","currency":"USD","reason":"overfunded"})",
            // 15 (10): line 6 again -> duplicate.
            R"({"type":"DonationReceived","event_id":"u-d2","occurred_at":"2015-06-03T10:00:00Z","case_id":"usd-1","source":"portal-web","donor_ref":"d-b","amount":"500.00","currency":"USD"})",
            // 16 (11): same id, other amount -> conflicting_duplicate.
            R"({"type":"DonationReceived","event_id":"u-d2","occurred_at":"2015-06-03T10:00:00Z","case_id":"usd-1","source":"portal-web","donor_ref":"d-b","amount":"5.00","currency":"USD"})",
            // 17 (12): disbursement in JPY on a USD case -> currency_mismatch.
            R"({"type":"FundsDisbursed","event_id":"u-x2","occurred_at":"2015-06-08T00:00:00Z","case_id":"usd-1","category":"medical","amount":"10","currency":"JPY"})",
            // 18 (13): opened again -> case_exists (counts in usd-1's events_rejected).
            R"({"type":"CaseOpened","event_id":"u-open2","occurred_at":"2015-06-09T00:00:00Z","case_id":"usd-1","currency":"USD","goal":"5.00"})",
            // 19: blank, skipped.
            "",
            // 20: XAU has no minor unit -> refused on "currency".
            R"({"type":"CaseOpened","event_id":"x4","occurred_at":"2015-06-01T00:00:00Z","case_id":"gold-1","currency":"XAU","goal":"1"})",
            // 21: budget sum 60.00 differs from goal 100.00 -> refused.
            R"({"type":"CaseOpened","event_id":"x5","occurred_at":"2015-06-01T00:00:00Z","case_id":"bad-1","currency":"USD","goal":"100.00","budget":[{"category":"shelter","amount":"60.00"}]})",
            // 22 (14): jpy-1 opens, goal 100000 (exponent 0), no budget.
            R"({"type":"CaseOpened","event_id":"j-open","occurred_at":"2015-07-01T00:00:00Z","case_id":"jpy-1","currency":"JPY","goal":"100000"})",
            // 23 (15), 24 (16): two pledges.
            R"({"type":"PledgeMade","event_id":"j-p1","occurred_at":"2015-07-02T00:00:00Z","case_id":"jpy-1","donor_ref":"d-c","amount":"30000","currency":"JPY"})",
            R"({"type":"PledgeMade","event_id":"j-p2","occurred_at":"2015-07-02T01:00:00Z","case_id":"jpy-1","donor_ref":"d-d","amount":"20000","currency":"JPY"})",
            // 25 (17): donation 80000 from d-c.
            R"({"type":"DonationReceived","event_id":"j-d1","occurred_at":"2015-07-03T00:00:00Z","case_id":"jpy-1","donor_ref":"d-c","amount":"80000","currency":"JPY"})",
            // 26 (18): j-p1 fulfilled -> received 110000 >= 100000: funded at 2015-07-04T12:00:00Z.
            R"({"type":"PledgeFulfilled","event_id":"j-f1","occurred_at":"2015-07-04T12:00:00Z","case_id":"jpy-1","pledge_id":"j-p1"})",
            // 27 (19): j-p2 cancelled -> pledged 0.
            R"({"type":"PledgeCancelled","event_id":"j-c1","occurred_at":"2015-07-05T00:00:00Z","case_id":"jpy-1","pledge_id":"j-p2","reason":"donor changed plans"})",
            // 28 (20): j-p2 is cancelled -> pledge_not_outstanding.
            R"({"type":"PledgeFulfilled","event_id":"j-f2","occurred_at":"2015-07-06T00:00:00Z","case_id":"jpy-1","pledge_id":"j-p2"})",
            // 29 (21): no such pledge -> unknown_pledge.
            R"({"type":"PledgeCancelled","event_id":"j-c2","occurred_at":"2015-07-06T01:00:00Z","case_id":"jpy-1","pledge_id":"j-missing"})",
            // 30 (22): closed at 2015-07-10T00:00:00.250000Z.
            R"({"type":"CaseClosed","event_id":"j-close","occurred_at":"2015-07-10T09:00:00.25+09:00","case_id":"jpy-1","reason":"completed"})",
            // 31 (23): a donation to the closed case is applied: surplus 15000.
            R"({"type":"DonationReceived","event_id":"j-d2","occurred_at":"2015-07-11T00:00:00Z","case_id":"jpy-1","donor_ref":"d-e","amount":"5000","currency":"JPY"})",
            // 32 (24), 33 (25), 34 (26): closed -> case_closed, three times.
            R"({"type":"PledgeMade","event_id":"j-p3","occurred_at":"2015-07-12T00:00:00Z","case_id":"jpy-1","donor_ref":"d-e","amount":"1000","currency":"JPY"})",
            R"({"type":"CaseGoalChanged","event_id":"j-g1","occurred_at":"2015-07-12T01:00:00Z","case_id":"jpy-1","currency":"JPY","goal":"200000"})",
            R"({"type":"CaseClosed","event_id":"j-close2","occurred_at":"2015-07-12T02:00:00Z","case_id":"jpy-1","reason":"other"})",
            // 35 (27): kwd-1 opens (exponent 3) at 2015-08-01T07:00:00.123456Z.
            R"({"type":"CaseOpened","event_id":"k-open","occurred_at":"2015-08-01T10:00:00.123456+03:00","case_id":"kwd-1","currency":"KWD","goal":"50.000","budget":[{"category":"repatriation","amount":"20.000"},{"category":"livelihood","amount":"30"}]})",
            // 36 (28): 60.000 from d-a -> funded at 2015-08-02T00:00:00Z (61199 s after opening).
            R"({"type":"DonationReceived","event_id":"k-d1","occurred_at":"2015-08-02T00:00:00Z","case_id":"kwd-1","donor_ref":"d-a","amount":"60.000","currency":"KWD"})",
            // 37 (29), 38 (30): disbursed 20.000 + 5.500 (other: not in the budget);
            // available 34.500.
            R"({"type":"FundsDisbursed","event_id":"k-x1","occurred_at":"2015-08-03T00:00:00Z","case_id":"kwd-1","category":"repatriation","amount":"20.000","currency":"KWD"})",
            R"({"type":"FundsDisbursed","event_id":"k-x2","occurred_at":"2015-08-03T01:00:00Z","case_id":"kwd-1","category":"other","amount":"5.5","currency":"KWD"})",
            // 39 (31): 40.000 > 34.500 -> insufficient_funds.
            R"({"type":"FundsDisbursed","event_id":"k-x3","occurred_at":"2015-08-04T00:00:00Z","case_id":"kwd-1","category":"livelihood","amount":"40.000","currency":"KWD"})",
            // 40 (32): chargeback 40.000 is applied anyway: net 20.000, available -5.500.
            R"({"type":"RefundIssued","event_id":"k-r1","occurred_at":"2015-08-05T00:00:00Z","case_id":"kwd-1","donation_id":"k-d1","amount":"40.000","currency":"KWD","reason":"chargeback"})",
            // 41 (33): a non-chargeback refund over available -> insufficient_funds.
            R"({"type":"RefundIssued","event_id":"k-r2","occurred_at":"2015-08-06T00:00:00Z","case_id":"kwd-1","donation_id":"k-d1","amount":"1","currency":"KWD","reason":"donor_request"})",
            // 42 (34): no such donation -> unknown_donation.
            R"({"type":"RefundIssued","event_id":"k-r3","occurred_at":"2015-08-06T01:00:00Z","case_id":"kwd-1","donation_id":"k-nope","amount":"1.000","currency":"KWD","reason":"error"})",
            // 43 (35), 44 (36): eur-1 funded exactly at its goal, 23400 s after opening.
            R"({"type":"CaseOpened","event_id":"e-open","occurred_at":"2015-09-01T00:00:00Z","case_id":"eur-1","currency":"EUR","goal":"100.00"})",
            R"({"type":"DonationReceived","event_id":"e-d1","occurred_at":"2015-09-01T06:30:00Z","case_id":"eur-1","donor_ref":"d-b","amount":"100.00","currency":"EUR"})",
            // 45 (37): a case that was never opened -> unknown_case.
            R"({"type":"DonationReceived","event_id":"g-d1","occurred_at":"2015-06-01T00:00:00Z","case_id":"ghost","donor_ref":"d-z","amount":"10.00","currency":"USD"})",
};

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  ASSERT_TRUE(file.good()) << path;
}

const json kEur1 = json::parse(R"({
  "case_id": "eur-1", "currency": "EUR", "status": "funded", "goal": "100.00",
  "received": "100.00", "refunded": "0.00", "net": "100.00", "pledged": "0.00",
  "disbursed": "0.00", "available": "100.00", "remaining": "0.00", "surplus": "0.00",
  "donations": 1, "donors": 1, "refunds": 0,
  "opened_at": "2015-09-01T00:00:00Z", "fully_funded_at": "2015-09-01T06:30:00Z",
  "closed_at": null, "close_reason": null, "budget": {},
  "events_applied": 2, "duplicates": 0, "events_rejected": 0})");

const json kJpy1 = json::parse(R"({
  "case_id": "jpy-1", "currency": "JPY", "status": "closed", "goal": "100000",
  "received": "115000", "refunded": "0", "net": "115000", "pledged": "0",
  "disbursed": "0", "available": "115000", "remaining": "0", "surplus": "15000",
  "donations": 3, "donors": 2, "refunds": 0,
  "opened_at": "2015-07-01T00:00:00Z", "fully_funded_at": "2015-07-04T12:00:00Z",
  "closed_at": "2015-07-10T00:00:00.250000Z", "close_reason": "completed", "budget": {},
  "events_applied": 8, "duplicates": 0, "events_rejected": 5})");

const json kKwd1 = json::parse(R"({
  "case_id": "kwd-1", "currency": "KWD", "status": "open", "goal": "50.000",
  "received": "60.000", "refunded": "40.000", "net": "20.000", "pledged": "0.000",
  "disbursed": "25.500", "available": "-5.500", "remaining": "30.000", "surplus": "0.000",
  "donations": 1, "donors": 1, "refunds": 1,
  "opened_at": "2015-08-01T07:00:00.123456Z", "fully_funded_at": "2015-08-02T00:00:00Z",
  "closed_at": null, "close_reason": null,
  "budget": {"repatriation": {"planned": "20.000", "disbursed": "20.000"},
             "livelihood": {"planned": "30.000", "disbursed": "0.000"},
             "other": {"planned": "0.000", "disbursed": "5.500"}},
  "events_applied": 5, "duplicates": 0, "events_rejected": 3})");

const json kUsd1 = json::parse(R"({
  "case_id": "usd-1", "currency": "USD", "status": "open", "goal": "1200.00",
  "received": "800.00", "refunded": "100.00", "net": "700.00", "pledged": "50.00",
  "disbursed": "250.00", "available": "450.00", "remaining": "500.00", "surplus": "0.00",
  "donations": 2, "donors": 2, "refunds": 1,
  "opened_at": "2015-06-01T08:00:00Z", "fully_funded_at": "2015-06-04T02:00:00Z",
  "closed_at": null, "close_reason": null,
  "budget": {"shelter": {"planned": "600.00", "disbursed": "250.00"},
             "medical": {"planned": "400.00", "disbursed": "0.00"},
             "legal": {"planned": "200.00", "disbursed": "0.00"}},
  "events_applied": 8, "duplicates": 1, "events_rejected": 5})");

// Medians: seconds to fully funded are 23400 (eur), 61199 (kwd), 237600 (usd),
// 302400 (jpy); with an even count the lower middle value, 61199.
const json kStats = json::parse(R"({
  "cases": {"total": 4, "open": 2, "funded": 1, "closed": 1, "ever_fully_funded": 4},
  "donations": 7, "refunds": 2, "donors": 4,
  "by_currency": {
    "EUR": {"received": "100.00", "refunded": "0.00", "net": "100.00", "pledged": "0.00",
            "disbursed": "0.00", "surplus": "0.00"},
    "JPY": {"received": "115000", "refunded": "0", "net": "115000", "pledged": "0",
            "disbursed": "0", "surplus": "15000"},
    "KWD": {"received": "60.000", "refunded": "40.000", "net": "20.000", "pledged": "0.000",
            "disbursed": "25.500", "surplus": "0.000"},
    "USD": {"received": "800.00", "refunded": "100.00", "net": "700.00", "pledged": "50.00",
            "disbursed": "250.00", "surplus": "0.00"}},
  "median_seconds_to_fully_funded": 61199,
  "events": {"applied": 23, "duplicates": 1, "rejected": 14,
             "rejected_by_reason": {"unknown_case": 1, "case_exists": 1,
                                    "conflicting_duplicate": 1, "currency_mismatch": 1,
                                    "refund_exceeds_donation": 1, "insufficient_funds": 3,
                                    "pledge_not_outstanding": 1, "unknown_pledge": 1,
                                    "case_closed": 3, "unknown_donation": 1}}})");

const json kRejections = json::parse(R"([
  {"case_id": "ghost", "event_id": "g-d1", "type": "DonationReceived", "reason": "unknown_case", "partition": 0, "offset": 37},
  {"case_id": "jpy-1", "event_id": "j-f2", "type": "PledgeFulfilled", "reason": "pledge_not_outstanding", "partition": 0, "offset": 20},
  {"case_id": "jpy-1", "event_id": "j-c2", "type": "PledgeCancelled", "reason": "unknown_pledge", "partition": 0, "offset": 21},
  {"case_id": "jpy-1", "event_id": "j-p3", "type": "PledgeMade", "reason": "case_closed", "partition": 0, "offset": 24},
  {"case_id": "jpy-1", "event_id": "j-g1", "type": "CaseGoalChanged", "reason": "case_closed", "partition": 0, "offset": 25},
  {"case_id": "jpy-1", "event_id": "j-close2", "type": "CaseClosed", "reason": "case_closed", "partition": 0, "offset": 26},
  {"case_id": "kwd-1", "event_id": "k-x3", "type": "FundsDisbursed", "reason": "insufficient_funds", "partition": 0, "offset": 31},
  {"case_id": "kwd-1", "event_id": "k-r2", "type": "RefundIssued", "reason": "insufficient_funds", "partition": 0, "offset": 33},
  {"case_id": "kwd-1", "event_id": "k-r3", "type": "RefundIssued", "reason": "unknown_donation", "partition": 0, "offset": 34},
  {"case_id": "usd-1", "event_id": "u-r2", "type": "RefundIssued", "reason": "refund_exceeds_donation", "partition": 0, "offset": 8},
  {"case_id": "usd-1", "event_id": "u-r3", "type": "RefundIssued", "reason": "insufficient_funds", "partition": 0, "offset": 9},
  {"case_id": "usd-1", "event_id": "u-d2", "type": "DonationReceived", "reason": "conflicting_duplicate", "partition": 0, "offset": 11},
  {"case_id": "usd-1", "event_id": "u-x2", "type": "FundsDisbursed", "reason": "currency_mismatch", "partition": 0, "offset": 12},
  {"case_id": "usd-1", "event_id": "u-open2", "type": "CaseOpened", "reason": "case_exists", "partition": 0, "offset": 13}
])");

// SPEC does not say whether reasons with a zero count are listed; the
// comparison ignores them and checks every non-zero count exactly.
json without_zero_reasons(json stats) {
  json& by_reason = stats["events"]["rejected_by_reason"];
  json kept = json::object();
  for (auto it = by_reason.begin(); it != by_reason.end(); ++it) {
    if (it.value() != 0) kept[it.key()] = it.value();
  }
  by_reason = kept;
  return stats;
}

// Parses the one JSON document a --json command printed, failing the test
// when the output is not exactly one document and a newline.
json parse_document(const CliRun& run) {
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_FALSE(run.out.empty());
  if (run.out.empty()) return json();
  EXPECT_EQ(run.out.back(), '\n');
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << "more than one line: " << run.out;
  return json::parse(run.out);
}

class CliTest : public ::testing::Test {
 protected:
  std::string data() const { return (dir_.path() / "data").string(); }
  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }

  // Publishes the scenario and checks its summary.
  void publish_scenario(const std::string& data_dir) {
    write_file(file("scenario.ndjson"), join_lines(kScenarioLines));
    CliRun run = run_homeward({"--data", data_dir, "publish", file("scenario.ndjson").string()});
    ASSERT_EQ(run.code, 3) << run.err;
    ASSERT_EQ(run.out, "appended 38, refused 6\n");
  }

  struct Documents {
    json cases;
    json stats;
    json rejections;
  };
  Documents documents(const std::string& data_dir) {
    return {parse_document(run_homeward({"--data", data_dir, "cases", "--json"})),
            parse_document(run_homeward({"--data", data_dir, "stats", "--json"})),
            parse_document(run_homeward({"--data", data_dir, "rejections", "--json"}))};
  }

  testing::TempDir dir_;
};

TEST_F(CliTest, PublishReportsRefusalsWithLineNumbersAndFields) {
  write_file(file("scenario.ndjson"), join_lines(kScenarioLines));
  CliRun run = run_homeward({"publish", "--data", data(), file("scenario.ndjson").string()});
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.out, "appended 38, refused 6\n");
  std::istringstream err(run.err);
  std::vector<std::string> lines;
  for (std::string line; std::getline(err, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 6u) << run.err;
  EXPECT_EQ(lines[0].rfind("line 1: ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("line 2: type: ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("line 4: amount: ", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("line 7: ", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find("colour"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4].rfind("line 20: currency: ", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("line 21: ", 0), 0u) << lines[5];
}

TEST_F(CliTest, PublishJsonListsRefusals) {
  write_file(file("scenario.ndjson"), join_lines(kScenarioLines));
  CliRun run =
      run_homeward({"--data", data(), "publish", "--json", file("scenario.ndjson").string()});
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << run.out;
  const json report = json::parse(run.out);
  EXPECT_EQ(report["appended"], 38);
  EXPECT_EQ(report["failed"], json::array());
  ASSERT_EQ(report["refused"].size(), 6u);
  std::vector<int> refused_lines;
  for (const json& r : report["refused"]) refused_lines.push_back(r["line"].get<int>());
  EXPECT_EQ(refused_lines, (std::vector<int>{1, 2, 4, 7, 20, 21}));
  EXPECT_EQ(report["refused"][0]["field"], "");
  EXPECT_EQ(report["refused"][2]["field"], "amount");
  EXPECT_EQ(report["refused"][4]["field"], "currency");
  EXPECT_FALSE(report["refused"][2]["reason"].get<std::string>().empty());
}

TEST_F(CliTest, CasesJsonMatchesHandComputedFigures) {
  publish_scenario(data());
  const json cases = parse_document(run_homeward({"--data", data(), "cases", "--json"}));
  EXPECT_EQ(cases, json::array({kEur1, kJpy1, kKwd1, kUsd1})) << cases.dump(2);
}

TEST_F(CliTest, CaseJsonOfEachCaseMatchesHandComputedFigures) {
  publish_scenario(data());
  EXPECT_EQ(parse_document(run_homeward({"--data", data(), "case", "usd-1", "--json"})), kUsd1);
  EXPECT_EQ(parse_document(run_homeward({"--data", data(), "case", "jpy-1", "--json"})), kJpy1);
  EXPECT_EQ(parse_document(run_homeward({"--data", data(), "case", "kwd-1", "--json"})), kKwd1);
  EXPECT_EQ(parse_document(run_homeward({"--data", data(), "case", "eur-1", "--json"})), kEur1);
}

TEST_F(CliTest, CaseJsonKeysComeInSpecOrder) {
  publish_scenario(data());
  CliRun run = run_homeward({"--data", data(), "case", "eur-1", "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  const auto ordered = nlohmann::ordered_json::parse(run.out);
  std::vector<std::string> keys;
  for (auto it = ordered.begin(); it != ordered.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"case_id",      "currency",        "status",
                                            "goal",         "received",        "refunded",
                                            "net",          "pledged",         "disbursed",
                                            "available",    "remaining",       "surplus",
                                            "donations",    "donors",          "refunds",
                                            "opened_at",    "fully_funded_at", "closed_at",
                                            "close_reason", "budget",          "events_applied",
                                            "duplicates",   "events_rejected"}));
}

TEST_F(CliTest, StatsJsonMatchesHandComputedImpactReport) {
  publish_scenario(data());
  const json stats = parse_document(run_homeward({"--data", data(), "stats", "--json"}));
  EXPECT_EQ(without_zero_reasons(stats), kStats) << stats.dump(2);
}

TEST_F(CliTest, RejectionsJsonListsEveryRejectionInCaseThenLogOrder) {
  publish_scenario(data());
  const json rejections = parse_document(run_homeward({"--data", data(), "rejections", "--json"}));
  EXPECT_EQ(rejections, kRejections) << rejections.dump(2);
}

TEST_F(CliTest, UnknownCaseExitsOneWithMessage) {
  publish_scenario(data());
  CliRun unknown = run_homeward({"--data", data(), "case", "nope", "--json"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.out, "");
  EXPECT_EQ(unknown.err, "homeward: case nope is unknown\n");
  // Events arrived for "ghost", but it was never opened.
  CliRun ghost = run_homeward({"--data", data(), "case", "ghost"});
  EXPECT_EQ(ghost.code, 1);
  EXPECT_EQ(ghost.err, "homeward: case ghost is unknown\n");
}

TEST_F(CliTest, CleanInputExitsZero) {
  const std::string text = kScenarioLines[2] + "\n" + kScenarioLines[4] + "\n";
  write_file(file("clean.ndjson"), text);
  CliRun run = run_homeward({"--data", data(), "publish", file("clean.ndjson").string()});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "appended 2, refused 0\n");
  EXPECT_EQ(run.err, "");
}

TEST_F(CliTest, PublishReadsStandardInputForDash) {
  const std::string text = kScenarioLines[2] + "\n" + kScenarioLines[4] + "\n";
  CliRun run = run_homeward({"--data", data(), "publish", "-"}, text);
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "appended 2, refused 0\n");
  const json usd = parse_document(run_homeward({"--data", data(), "case", "usd-1", "--json"}));
  EXPECT_EQ(usd["received"], "300.00");
  EXPECT_EQ(usd["donors"], 1);
}

TEST_F(CliTest, AllOrNothingAppendsNothingWhenALineIsRefused) {
  write_file(file("scenario.ndjson"), join_lines(kScenarioLines));
  CliRun run = run_homeward(
      {"--data", data(), "publish", "--all-or-nothing", file("scenario.ndjson").string()});
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.out, "appended 0, refused 6\n");
  EXPECT_EQ(parse_document(run_homeward({"--data", data(), "cases", "--json"})), json::array());
  const json stats = parse_document(run_homeward({"--data", data(), "stats", "--json"}));
  EXPECT_EQ(stats["events"]["applied"], 0);
  EXPECT_EQ(stats["cases"]["total"], 0);
}

TEST_F(CliTest, UnreadableInputExitsOne) {
  CliRun missing =
      run_homeward({"--data", data(), "publish", file("does-not-exist.ndjson").string()});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err.rfind("homeward: error: cannot read ", 0), 0u) << missing.err;
  CliRun directory = run_homeward({"--data", data(), "publish", dir_.path().string()});
  EXPECT_EQ(directory.code, 1);
  EXPECT_EQ(directory.err.rfind("homeward: error: ", 0), 0u) << directory.err;
}

TEST_F(CliTest, QueryOfAMissingDataDirectoryExitsOne) {
  CliRun run = run_homeward({"--data", data(), "cases", "--json"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err.rfind("homeward: error: no ledger in ", 0), 0u) << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "data"));
}

TEST_F(CliTest, SecondWriterOfTheLogExitsFiveNamingTheHolderWhileQueriesStillAnswer) {
  publish_scenario(data());
  CliRun before = run_homeward({"--data", data(), "cases", "--json"});
  ASSERT_EQ(before.code, 0) << before.err;
  auto held = connectors::EmbeddedLog::open(dir_.path() / "data" / "log",
                                            connectors::EmbeddedLogMode::kWrite, "homeward test");
  ASSERT_TRUE(held.has_value()) << held.error().message;

  CliRun run = run_homeward({"--data", data(), "publish", "-"}, kScenarioLines[2] + "\n");
  EXPECT_EQ(run.code, 5) << "busy is not 1, which also means an unknown case";
  EXPECT_NE(run.err.find("is being written by another homeward process (pid " +
                         std::to_string(::getpid()) + ": homeward test)"),
            std::string::npos)
      << run.err;

  CliRun during = run_homeward({"--data", data(), "cases", "--json"});
  EXPECT_EQ(during.code, 0) << during.err;
  EXPECT_EQ(during.out, before.out);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run_homeward({}).code, 2);
  EXPECT_EQ(run_homeward({"frobnicate"}).code, 2);
  EXPECT_EQ(run_homeward({"publish"}).code, 2);
  EXPECT_EQ(run_homeward({"case"}).code, 2);
  EXPECT_EQ(run_homeward({"cases", "--no-such-option"}).code, 2);
  EXPECT_EQ(run_homeward({"--log-level", "loud", "cases"}).code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "data"));
}

TEST_F(CliTest, HelpOfEveryCommandExitsZero) {
  for (const char* command :
       {"publish", "project", "case", "cases", "stats", "rejections", "export", "demo"}) {
    CliRun run = run_homeward({command, "--help"});
    EXPECT_EQ(run.code, 0) << command << ": " << run.err;
    EXPECT_NE(run.out.find(command), std::string::npos) << run.out;
  }
  CliRun top = run_homeward({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("publish"), std::string::npos);
  CliRun version = run_homeward({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("homeward ", 0), 0u) << version.out;
}

TEST_F(CliTest, GlobalOptionsWorkAfterTheCommand) {
  publish_scenario(data());
  CliRun run = run_homeward({"case", "eur-1", "--json", "--quiet", "--data", data()});
  EXPECT_EQ(parse_document(run), kEur1);
}

TEST_F(CliTest, ExportThenPublishIntoAFreshDirectoryGivesTheSameJson) {
  publish_scenario(data());
  CliRun exported = run_homeward({"--data", data(), "export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  // Every appended event, one per line: 38 lines.
  EXPECT_EQ(std::count(exported.out.begin(), exported.out.end(), '\n'), 38);
  write_file(file("export.ndjson"), exported.out);

  const std::string fresh = (dir_.path() / "fresh").string();
  CliRun republished = run_homeward({"--data", fresh, "publish", file("export.ndjson").string()});
  EXPECT_EQ(republished.code, 0) << republished.err;
  EXPECT_EQ(republished.out, "appended 38, refused 0\n");

  const Documents original = documents(data());
  const Documents copy = documents(fresh);
  EXPECT_EQ(copy.cases, original.cases);
  EXPECT_EQ(copy.stats, original.stats);
  EXPECT_EQ(copy.rejections, original.rejections);
  EXPECT_EQ(copy.cases, json::array({kEur1, kJpy1, kKwd1, kUsd1}));

  // Exporting to a file writes the same lines and says how many.
  CliRun to_file = run_homeward({"--data", fresh, "export", file("again.ndjson").string()});
  EXPECT_EQ(to_file.code, 0) << to_file.err;
  EXPECT_EQ(to_file.out, "exported 38 events to " + file("again.ndjson").string() + "\n");
  std::ifstream again(file("again.ndjson"), std::ios::binary);
  const std::string again_text((std::istreambuf_iterator<char>(again)),
                               std::istreambuf_iterator<char>());
  EXPECT_EQ(again_text, exported.out);
}

TEST_F(CliTest, ExportWritesCanonicalUtcTimestampsAndAmounts) {
  write_file(file("one.ndjson"), kScenarioLines[34] + "\n");  // k-open
  ASSERT_EQ(run_homeward({"--data", data(), "publish", file("one.ndjson").string()}).code, 0);
  CliRun exported = run_homeward({"--data", data(), "export", "-"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  const json event = json::parse(exported.out);
  EXPECT_EQ(event["occurred_at"], "2015-08-01T07:00:00.123456Z");
  EXPECT_EQ(event["goal"], "50.000");
  EXPECT_EQ(event["budget"][0]["category"], "repatriation");
  EXPECT_EQ(event["budget"][0]["amount"], "20.000");
  EXPECT_EQ(event["budget"][1]["amount"], "30.000");
}

TEST_F(CliTest, ProjectRebuildGivesTheSameJson) {
  publish_scenario(data());
  CliRun project = run_homeward({"--data", data(), "project"});
  EXPECT_EQ(project.code, 0) << project.err;
  EXPECT_EQ(project.out, "read 38 events; the projections are up to date\n");
  CliRun again = run_homeward({"--data", data(), "project"});
  EXPECT_EQ(again.out, "read 0 events; the projections are up to date\n");
  const Documents before = documents(data());

  CliRun rebuild = run_homeward({"--data", data(), "project", "--rebuild"});
  EXPECT_EQ(rebuild.code, 0) << rebuild.err;
  EXPECT_EQ(rebuild.out, "rebuilt the projections: read 38 events from the whole log\n");
  const Documents after = documents(data());
  EXPECT_EQ(after.cases, before.cases);
  EXPECT_EQ(after.stats, before.stats);
  EXPECT_EQ(after.rejections, before.rejections);
  EXPECT_EQ(without_zero_reasons(after.stats), kStats);
}

TEST_F(CliTest, MalformedRecordsAreSkippedByExportAndRejectedByProjection) {
  write_file(file("one.ndjson"), kScenarioLines[21] + "\n");  // j-open
  ASSERT_EQ(run_homeward({"--data", data(), "publish", file("one.ndjson").string()}).code, 0);
  {
    // Another producer wrote bytes that are not an event (offset 1).
    auto log = connectors::EmbeddedLog::open(dir_.path() / "data" / "log");
    ASSERT_TRUE(log.has_value()) << log.error().message;
    const std::vector<engine::AppendRequest> requests = {
        {"jpy-1", "definitely not flatbuffers", events::EventType::kDonationReceived}};
    auto appended = (*log)->append(requests);
    ASSERT_TRUE(appended.has_value()) << appended.error().message;
    ASSERT_TRUE((*appended)[0].has_value());
  }
  CliRun exported = run_homeward({"--data", data(), "export"});
  EXPECT_EQ(exported.code, 3);
  EXPECT_EQ(std::count(exported.out.begin(), exported.out.end(), '\n'), 1);
  EXPECT_EQ(exported.err.rfind("offset 1: malformed: ", 0), 0u) << exported.err;

  const json rejections = parse_document(run_homeward({"--data", data(), "rejections", "--json"}));
  ASSERT_EQ(rejections.size(), 1u) << rejections.dump();
  EXPECT_EQ(rejections[0]["reason"], "malformed");
  EXPECT_EQ(rejections[0]["offset"], 1);
  EXPECT_EQ(rejections[0]["partition"], 0);
  const json stats = parse_document(run_homeward({"--data", data(), "stats", "--json"}));
  EXPECT_EQ(stats["events"]["applied"], 1);
  EXPECT_EQ(stats["events"]["rejected"], 1);
  EXPECT_EQ(stats["events"]["rejected_by_reason"]["malformed"], 1);
}

TEST_F(CliTest, HumanTablesShowTheSameFigures) {
  publish_scenario(data());
  CliRun cases = run_homeward({"--data", data(), "cases"});
  EXPECT_EQ(cases.code, 0) << cases.err;
  EXPECT_EQ(cases.out.rfind("case_id", 0), 0u) << cases.out;
  // eur-1: funded, EUR, goal, net, remaining, surplus, pledged, disbursed, available,
  // donations, donors.
  EXPECT_NE(cases.out.find("eur-1    funded  EUR"), std::string::npos) << cases.out;
  EXPECT_NE(cases.out.find("-5.500"), std::string::npos) << cases.out;

  CliRun kwd = run_homeward({"--data", data(), "case", "kwd-1"});
  EXPECT_EQ(kwd.code, 0) << kwd.err;
  EXPECT_NE(kwd.out.find("available        -5.500 KWD\n"), std::string::npos) << kwd.out;
  EXPECT_NE(kwd.out.find("opened_at        2015-08-01T07:00:00.123456Z\n"), std::string::npos)
      << kwd.out;
  EXPECT_NE(kwd.out.find("other           0.000      5.500\n"), std::string::npos) << kwd.out;

  CliRun stats = run_homeward({"--data", data(), "stats"});
  EXPECT_EQ(stats.code, 0) << stats.err;
  EXPECT_NE(stats.out.find("Money by currency"), std::string::npos) << stats.out;
  // Human tables group thousands (JSON keeps SPEC's digits).
  EXPECT_NE(stats.out.find("JPY        115,000         0  115,000"), std::string::npos)
      << stats.out;
  EXPECT_NE(stats.out.find("0d 16:59:59 (61,199 s)"), std::string::npos) << stats.out;

  CliRun rejections = run_homeward({"--data", data(), "rejections"});
  EXPECT_EQ(rejections.code, 0) << rejections.err;
  EXPECT_NE(rejections.out.find("refund_exceeds_donation"), std::string::npos);
  EXPECT_EQ(std::count(rejections.out.begin(), rejections.out.end(), '\n'), 2 + 14);
}

TEST_F(CliTest, DemoRunsTheEmbeddedScenarioFromAnyDirectory) {
  CliRun run = run_homeward({"demo", "--keep", (dir_.path() / "demo").string()});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("Homeward demo: ", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("Money by currency"), std::string::npos);
  EXPECT_NE(run.out.find("case_id"), std::string::npos);
  // The kept directory is a normal data directory.
  const json cases =
      parse_document(run_homeward({"--data", (dir_.path() / "demo").string(), "cases", "--json"}));
  EXPECT_FALSE(cases.empty());
}

// Points TMPDIR somewhere else for the life of the object.
class ScopedTmpdir {
 public:
  explicit ScopedTmpdir(const std::string& value) {
    const char* old = std::getenv("TMPDIR");
    if (old != nullptr) old_ = old;
    setenv("TMPDIR", value.c_str(), 1);
  }
  ~ScopedTmpdir() {
    if (old_) {
      setenv("TMPDIR", old_->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST_F(CliTest, DemoTakesAnotherScenarioAndRemovesItsTemporaryDirectory) {
  write_file(file("scenario.ndjson"), join_lines(kScenarioLines));
  const std::filesystem::path tmp = dir_.path() / "tmp";
  {
    // The demo builds its ledger under TMPDIR: a missing one makes it fail.
    ScopedTmpdir missing(tmp.string());
    CliRun failed = run_homeward({"demo"});
    EXPECT_EQ(failed.code, 1);
    EXPECT_EQ(failed.err.rfind("homeward: error: cannot create a temporary directory", 0), 0u)
        << failed.err;
  }
  std::filesystem::create_directory(tmp);
  ScopedTmpdir scoped(tmp.string());
  CliRun run = run_homeward({"demo", "--scenario", file("scenario.ndjson").string()});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
  EXPECT_NE(run.out.find("published: appended 38, refused 6\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("kwd-1"), std::string::npos) << run.out;
  // --keep refuses a directory that already holds something.
  CliRun busy = run_homeward({"demo", "--keep", dir_.path().string()});
  EXPECT_EQ(busy.code, 1);
  EXPECT_EQ(busy.err.rfind("homeward: error: --keep ", 0), 0u) << busy.err;
}

}  // namespace
}  // namespace homeward
