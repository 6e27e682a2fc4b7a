// The public reads of `homeward serve` (SPEC section 8) over real TCP on
// 127.0.0.1 with libcurl, on a generated stream with every event type and
// rejection reason, on the embedded log and on a Kafka topic (mock cluster): each public case and
// the public impact report are checked field by field against the private documents (themselves the
// CLI's --json, http_read_test), with the arithmetic done here; and no
// public response carries a donor_ref, an event id, a rejection, a
// disbursement reference or a time finer than a day.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/ledger_stream.h"
#include "tests/http/support/serve_process.h"
#include "tests/http/support/test_log.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;
using testing::http_get;
using testing::run_homeward;
using testing::ServeProcess;
using testing::TempDir;

// "1234.56" -> 123456 (the test's own reading of an amount string).
__int128 minor_units(const std::string& amount) {
  __int128 value = 0;
  bool negative = false;
  for (const char c : amount) {
    if (c == '-') negative = true;
    if (c >= '0' && c <= '9') value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}
std::string wide_to_string(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  if (negative) v = -v;
  std::string s;
  while (v > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  return negative ? "-" + s : s;
}
// An amount in minor units as a string with `exponent` decimals.
std::string amount_text(__int128 minor, int exponent) {
  std::string digits = wide_to_string(minor < 0 ? -minor : minor);
  if (exponent > 0) {
    while (static_cast<int>(digits.size()) <= exponent) digits.insert(digits.begin(), '0');
    digits.insert(digits.end() - exponent, '.');
  }
  return (minor < 0 ? "-" : "") + digits;
}
int exponent_of(const std::string& amount) {
  const size_t dot = amount.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(amount.size() - dot - 1);
}
json day_of(const json& timestamp) {
  if (timestamp.is_null()) return nullptr;
  return timestamp.get<std::string>().substr(0, 10);
}

// The ledger of one log kind and the server that follows it, built once per
// test process by the first test of that kind.
struct PublicLedger {
  explicit PublicLedger(testing::LogKind kind) : log(kind, dir.path()) {}
  TempDir dir;
  testing::TestLog log;
  std::unique_ptr<ServeProcess> server;
  bool ready = false;
};

// Every test runs on the embedded log and on a Kafka topic (mock cluster).
class HttpPublicTest : public ::testing::TestWithParam<testing::LogKind> {
 protected:
  void SetUp() override {
    auto& slot = ledgers()[GetParam()];
    if (slot == nullptr) {
      slot = std::make_unique<PublicLedger>(GetParam());
      build(*slot);
    }
    server_ = slot->server.get();
    ASSERT_TRUE(slot->ready) << "the ledger could not be set up (see the first test)";
  }
  static void TearDownTestSuite() {
    for (auto& [kind, ledger] : ledgers()) {
      if (ledger->server == nullptr) continue;
      const int code = ledger->server->stop(SIGTERM);
      std::ifstream log(ledger->dir.path() / "serve.err");
      std::stringstream text;
      text << log.rdbuf();
      EXPECT_EQ(code, 0) << "serve's standard error:\n" << text.str();
    }
    ledgers().clear();
  }
  static std::map<testing::LogKind, std::unique_ptr<PublicLedger>>& ledgers() {
    static auto* all = new std::map<testing::LogKind, std::unique_ptr<PublicLedger>>();
    return *all;
  }

  static void build(PublicLedger& ledger) {
    const auto input = ledger.dir.path() / "events.ndjson";
    const std::string lines = testing::generated_lines(3000, 23) + testing::every_reason_lines();
    std::ofstream(input, std::ios::binary) << lines;
    const auto published = run_homeward(ledger.log.server_data_args({"publish", input.string()}));
    ASSERT_EQ(published.code, 3) << published.err;
    const std::string end = ledger.log.end_position();
    ASSERT_FALSE(end.empty());
    // What must never be public: every donor_ref, event id and reference of
    // the input, and every pledge, donation and refund id.
    secrets_->clear();
    std::istringstream in(lines);
    for (std::string line; std::getline(in, line);) {
      json event;
      try {
        event = json::parse(line);
      } catch (const json::exception&) {
        continue;  // the refused lines
      }
      if (!event.is_object()) continue;
      for (const char* field : {"event_id", "donor_ref", "reference", "pledge_id", "donation_id"}) {
        if (event.contains(field) && event[field].is_string()) {
          (*secrets_).insert(event[field].get<std::string>());
        }
      }
    }
    ledger.server = ledger.log.serve({}, ledger.dir.path() / "serve.err");
    ASSERT_FALSE(ledger.server->address().empty()) << "serve did not start";
    ASSERT_TRUE(testing::wait_until_ready(ledger.server->url(""))) << "serve never became ready";
    // Every record projected (on Kafka the first rounds may still be reading).
    const auto caught_up =
        http_get(ledger.server->url("/v1/stats?wait_ms=30000&min_position=" + end));
    ASSERT_EQ(caught_up.status, 200) << caught_up.body;
    ledger.ready = true;
  }

  // A public response, checked for what it must never carry.
  static testing::HttpResponse get_public(const std::string& path, const std::string& route) {
    auto response = http_get(server_->url(path), route);
    check_nothing_private(response);
    return response;
  }
  static void check_nothing_private(const testing::HttpResponse& response) {
    EXPECT_EQ(private_things(response), std::vector<std::string>{}) << response.body.substr(0, 200);
  }
  // What a response carries that no public one may: a time of day, a
  // position, an identifier of an event, a donor or a reference, a
  // rejection's fields.
  static std::vector<std::string> private_things(const testing::HttpResponse& response) {
    std::vector<std::string> found;
    static const std::regex time_of_day("[0-9]{2}:[0-9]{2}");
    if (std::regex_search(response.body, time_of_day)) found.push_back("a time of day");
    if (response.headers.count("homeward-position") > 0) found.push_back("Homeward-Position");
    if (response.status != 200) return found;
    std::vector<const json*> stack;
    const json document = response.json();
    stack.push_back(&document);
    while (!stack.empty()) {
      const json* j = stack.back();
      stack.pop_back();
      if (j->is_string() && secrets_->count(j->get<std::string>()) > 0) {
        found.push_back("the identifier " + j->get<std::string>());
      }
      if (j->is_object()) {
        for (const auto& [key, value] : j->items()) {
          if (secrets_->count(key) > 0) found.push_back("the identifier " + key);
          if (key == "reason" || key == "rejected" || key == "rejected_by_reason" ||
              key == "donor_ref" || key == "event_id" || key == "disbursed") {
            found.push_back("the field " + key);
          }
          stack.push_back(&value);
        }
      }
      if (j->is_array()) {
        for (const json& item : *j) stack.push_back(&item);
      }
    }
    return found;
  }

  static inline ServeProcess* server_ = nullptr;  // the server of this test's log kind
  static inline std::set<std::string>* secrets_ = new std::set<std::string>();
};

INSTANTIATE_TEST_SUITE_P(Logs, HttpPublicTest,
                         ::testing::Values(testing::LogKind::kEmbedded, testing::LogKind::kKafka),
                         testing::log_kind_name);

// SPEC section 8's public case from SPEC section 7's case document.
json expected_public_case(const json& c) {
  const std::string goal = c["goal"];
  const int exponent = exponent_of(goal);
  const __int128 net = minor_units(c["net"]);
  const __int128 goal_minor = minor_units(goal);
  __int128 percent = (100 * net) / goal_minor;
  if ((100 * net) % goal_minor != 0 && net < 0) percent -= 1;
  json budget = json::object();
  for (const auto& [category, line] : c["budget"].items()) {
    if (minor_units(line["planned"]) != 0) budget[category] = line["planned"];
  }
  return {{"case_id", c["case_id"]},
          {"currency", c["currency"]},
          {"status", c["status"]},
          {"goal", goal},
          {"raised", amount_text(net, exponent)},
          {"remaining", c["remaining"]},
          {"percent_funded", static_cast<int64_t>(percent)},
          {"supporters", c["donors"]},
          {"opened_on", day_of(c["opened_at"])},
          {"fully_funded_on", day_of(c["fully_funded_at"])},
          {"closed_on", day_of(c["closed_at"])},
          {"budget", budget}};
}

TEST_P(HttpPublicTest, EveryPublicCaseIsItsCaseFiguresFieldByField) {
  const json cases = http_get(server_->url("/v1/cases?limit=10000"), "/v1/cases").json();
  ASSERT_GT(cases.size(), 20u);
  const auto listed = get_public("/v1/public/cases?limit=10000", "/v1/public/cases");
  ASSERT_EQ(listed.status, 200) << listed.body;
  // Ordered: the keys must come in SPEC's order.
  const auto public_cases = nlohmann::ordered_json::parse(listed.body);
  ASSERT_EQ(public_cases.size(), cases.size());
  int with_budget = 0;
  int funded = 0;
  int closed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json expected = expected_public_case(cases[i]);
    SCOPED_TRACE(cases[i].dump());
    // The same keys in SPEC's order, and each value.
    std::vector<std::string> keys;
    for (const auto& [key, value] : public_cases[i].items()) keys.push_back(key);
    std::vector<std::string> expected_keys;
    for (const auto& [key, value] : expected.items()) expected_keys.push_back(key);
    EXPECT_EQ(keys,
              (std::vector<std::string>{"case_id", "currency", "status", "goal", "raised",
                                        "remaining", "percent_funded", "supporters", "opened_on",
                                        "fully_funded_on", "closed_on", "budget"}));
    for (const auto& [key, value] : expected.items()) {
      EXPECT_EQ(json(public_cases[i][key]), value) << key;
    }
    with_budget += public_cases[i]["budget"].empty() ? 0 : 1;
    funded += public_cases[i]["fully_funded_on"].is_null() ? 0 : 1;
    closed += public_cases[i]["closed_on"].is_null() ? 0 : 1;
    // The single case route gives the same document.
    const std::string id = cases[i]["case_id"];
    if (i % 25 == 0 || id == "r-usd" || id == "r-jpy") {
      const auto one = get_public("/v1/public/cases/" + id, "/v1/public/cases/{case_id}");
      ASSERT_EQ(one.status, 200) << one.body;
      EXPECT_EQ(nlohmann::ordered_json::parse(one.body), public_cases[i]);
    }
  }
  // The stream exercises every kind of field.
  EXPECT_GT(with_budget, 0);
  EXPECT_GT(funded, 0);
  EXPECT_GT(closed, 0);
}

TEST_P(HttpPublicTest, PublicStatsAreTheImpactReportsPublicFigures) {
  const json stats = http_get(server_->url("/v1/stats"), "/v1/stats").json();
  const json cases = http_get(server_->url("/v1/cases?limit=10000"), "/v1/cases").json();
  const auto answer = get_public("/v1/public/stats", "/v1/public/stats");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json pub = answer.json();

  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(answer.body);
  for (const auto& [key, value] : ordered.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"cases", "donations", "donors", "by_currency",
                                            "median_days_to_fully_funded"}));
  EXPECT_EQ(pub["cases"], stats["cases"]);
  EXPECT_EQ(pub["donations"], stats["donations"]);
  EXPECT_EQ(pub["donors"], stats["donors"]);
  // Per currency: raised is the sum of net; goal the sum of the goals of the
  // cases not closed (summed here from the cases).
  std::map<std::string, __int128> goals;
  std::map<std::string, int> exponents;
  for (const json& c : cases) {
    const std::string currency = c["currency"];
    exponents[currency] = exponent_of(c["goal"]);
    goals[currency] += c["status"] == "closed" ? 0 : minor_units(c["goal"]);
  }
  ASSERT_EQ(pub["by_currency"].size(), stats["by_currency"].size());
  ASSERT_GE(pub["by_currency"].size(), 2u);
  for (const auto& [code, figures] : stats["by_currency"].items()) {
    SCOPED_TRACE(code);
    EXPECT_EQ(
        pub["by_currency"][code],
        json({{"raised", figures["net"]}, {"goal", amount_text(goals[code], exponents[code])}}));
  }
  ASSERT_FALSE(stats["median_seconds_to_fully_funded"].is_null());
  const int64_t seconds = stats["median_seconds_to_fully_funded"];
  const int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  EXPECT_EQ(pub["median_days_to_fully_funded"], days);
  // Asked again at the same position: the same body.
  EXPECT_EQ(get_public("/v1/public/stats", "/v1/public/stats").body, answer.body);
}

TEST_P(HttpPublicTest, WalkingPublicPagesGivesEveryCaseOnceAndKeepsTheFilter) {
  const json all = get_public("/v1/public/cases?limit=10000", "/v1/public/cases").json();
  for (const std::string status : {"", "open", "funded", "closed"}) {
    SCOPED_TRACE(status);
    std::vector<std::string> walked;
    std::string url = "/v1/public/cases?limit=7" + (status.empty() ? "" : "&status=" + status);
    for (int page = 0; page < 1000 && !url.empty(); ++page) {
      const auto answer = get_public(url, "/v1/public/cases");
      ASSERT_EQ(answer.status, 200) << answer.body;
      for (const json& c : answer.json()) {
        if (!status.empty()) {
          EXPECT_EQ(c["status"], status);
        }
        walked.push_back(c["case_id"]);
      }
      const std::string next = answer.header("homeward-next-cursor");
      url = next.empty() ? "" : "/v1/public/cases?limit=7&cursor=" + next;
    }
    std::vector<std::string> expected;
    for (const json& c : all) {
      if (status.empty() || c["status"] == status) expected.push_back(c["case_id"]);
    }
    EXPECT_EQ(walked, expected);
  }
}

TEST_P(HttpPublicTest, TheLeakCheckFindsWhatThePrivateDocumentsCarry) {
  // The check above is only worth something if it catches the private
  // documents' contents.
  EXPECT_GT(secrets_->size(), 1000u);
  const auto rejections = http_get(server_->url("/v1/rejections"), "/v1/rejections");
  const auto cases = http_get(server_->url("/v1/cases"), "/v1/cases");
  const auto stats = http_get(server_->url("/v1/stats"), "/v1/stats");
  const auto donor = http_get(server_->url("/v1/donors/donor-1"), "/v1/donors/{donor_ref}");
  for (const auto* response : {&rejections, &cases, &stats, &donor}) {
    ASSERT_EQ(response->status, 200) << response->body;
    EXPECT_FALSE(private_things(*response).empty()) << response->body.substr(0, 200);
  }
}

TEST_P(HttpPublicTest, UnknownAndHostileIdsGetProblemDocuments) {
  // r-ghost only had a rejected event: it names no case.
  for (const std::string id :
       {"r-ghost", "nope", "%2e%2e", "a%2Fb", "%00", "x%20y", "%2e%2e%2fetc"}) {
    SCOPED_TRACE(id);
    const auto answer = get_public("/v1/public/cases/" + id, "/v1/public/cases/{case_id}");
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(answer.header("content-type"), "application/problem+json");
    EXPECT_EQ(answer.json()["type"], "https://homeward.example/problems/unknown-case");
  }
  for (const std::string query :
       {"?as_of=2015-06-01", "?min_position=0:1", "?limit=0", "?status=lost", "?cursor=zz"}) {
    SCOPED_TRACE(query);
    const auto answer = get_public("/v1/public/cases" + query, "/v1/public/cases");
    EXPECT_EQ(answer.status, 400);
    EXPECT_EQ(answer.json()["type"], "https://homeward.example/problems/bad-parameter");
  }
  EXPECT_EQ(get_public("/v1/public/stats?as_of=2015-06-01", "/v1/public/stats").status, 400);
  EXPECT_EQ(http_get(server_->url("/livez")).status, 200);
}

TEST_P(HttpPublicTest, MoneyRaisedPerDayAddsUpToEachCurrencysRaised) {
  const json stats = get_public("/v1/public/stats", "/v1/public/stats").json();
  const auto answer = get_public("/v1/public/raised", "/v1/public/raised");
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json raised = answer.json()["by_currency"];
  // Every currency a case uses, no other.
  std::vector<std::string> codes;
  std::vector<std::string> expected_codes;
  for (const auto& [code, series] : raised.items()) codes.push_back(code);
  for (const auto& [code, figures] : stats["by_currency"].items()) expected_codes.push_back(code);
  EXPECT_EQ(codes, expected_codes);
  static const std::regex day_pattern("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  for (const auto& [code, series] : raised.items()) {
    SCOPED_TRACE(code);
    ASSERT_FALSE(series.empty());
    const int exponent = exponent_of(stats["by_currency"][code]["raised"]);
    __int128 total = 0;
    std::string previous;
    for (const json& day : series) {
      const std::string text = day["day"];
      EXPECT_TRUE(std::regex_match(text, day_pattern)) << text;
      EXPECT_LT(previous, text) << "days in order, each once";
      previous = text;
      total += minor_units(day["raised"]);
      EXPECT_EQ(day["total"], amount_text(total, exponent)) << text;
      EXPECT_EQ(exponent_of(day["raised"]), exponent);
    }
    // Summed over its days, a currency's series is its public raised (the sum of net).
    EXPECT_EQ(series.back()["total"], stats["by_currency"][code]["raised"]);
  }
  EXPECT_EQ(get_public("/v1/public/raised", "/v1/public/raised").body, answer.body);
  EXPECT_EQ(get_public("/v1/public/raised?as_of=2015-06-01", "/v1/public/raised").status, 400);
}

// A small ledger whose days are known: the series counts applied donations,
// fulfilled pledges and refunds on their own UTC day, nothing rejected, no
// pledge before it is kept, no disbursement.
TEST(HttpPublicRaisedTest, EachDayIsItsAppliedDonationsLessRefunds) {
  TempDir dir;
  const auto input = dir.path() / "events.ndjson";
  std::ofstream(input, std::ios::binary)
      << R"({"type":"CaseOpened","event_id":"o1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c1","currency":"USD","goal":"100.00"})"
         "\n"
      << R"({"type":"CaseOpened","event_id":"o2","occurred_at":"2015-06-01T08:00:00Z","case_id":"c2","currency":"JPY","goal":"5000"})"
         "\n"
      << R"({"type":"DonationReceived","event_id":"d1","occurred_at":"2015-06-01T23:59:59Z","case_id":"c1","donor_ref":"x1","amount":"10.50","currency":"USD"})"
         "\n"
      << R"({"type":"DonationReceived","event_id":"d2","occurred_at":"2015-06-02T07:00:00+09:00","case_id":"c1","donor_ref":"x2","amount":"4.00","currency":"USD"})"
         "\n"
      << R"({"type":"PledgeMade","event_id":"p1","occurred_at":"2015-06-02T10:00:00Z","case_id":"c1","donor_ref":"x3","amount":"20.00","currency":"USD"})"
         "\n"
      << R"({"type":"DonationReceived","event_id":"d3","occurred_at":"2015-06-03T10:00:00Z","case_id":"c1","donor_ref":"x1","amount":"5.00","currency":"EUR"})"
         "\n"
      << R"({"type":"PledgeFulfilled","event_id":"p1f","occurred_at":"2015-06-04T10:00:00Z","case_id":"c1","pledge_id":"p1"})"
         "\n"
      << R"({"type":"RefundIssued","event_id":"r1","occurred_at":"2015-06-04T11:00:00Z","case_id":"c1","donation_id":"d1","amount":"30.00","currency":"USD","reason":"donor_request"})"
         "\n"
      << R"({"type":"RefundIssued","event_id":"r2","occurred_at":"2015-06-05T11:00:00Z","case_id":"c1","donation_id":"d1","amount":"10.50","currency":"USD","reason":"error"})"
         "\n"
      << R"({"type":"FundsDisbursed","event_id":"f1","occurred_at":"2015-06-06T11:00:00Z","case_id":"c1","category":"shelter","amount":"5.00","currency":"USD"})"
         "\n";
  const auto data = dir.path() / "data";
  const auto published = run_homeward({"--data", data.string(), "publish", input.string()});
  ASSERT_EQ(published.code, 0) << published.err;
  ServeProcess server(data, {}, dir.path() / "serve.err");
  ASSERT_FALSE(server.address().empty());
  ASSERT_TRUE(testing::wait_until_ready(server.url("")));
  const auto answer = http_get(server.url("/v1/public/raised"), "/v1/public/raised");
  ASSERT_EQ(answer.status, 200) << answer.body;
  // d2 is 2015-06-01 in UTC; d3 (EUR on a USD case) and r1 (more than d1)
  // are rejected; p1 counts on the day it is kept; the disbursement spends.
  EXPECT_EQ(
      answer.body,
      R"({"by_currency":{"JPY":[],"USD":[{"day":"2015-06-01","raised":"14.50","total":"14.50"},)"
      R"({"day":"2015-06-04","raised":"20.00","total":"34.50"},)"
      R"({"day":"2015-06-05","raised":"-10.50","total":"24.00"}]}})"
      "\n");
  const json stats = http_get(server.url("/v1/public/stats"), "/v1/public/stats").json();
  EXPECT_EQ(stats["by_currency"]["USD"]["raised"], "24.00");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace homeward
