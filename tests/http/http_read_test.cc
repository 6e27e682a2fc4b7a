// The read routes of `homeward serve`, over real TCP on 127.0.0.1 with
// libcurl, on the embedded log and on a Kafka topic (librdkafka's mock
// cluster): every document is byte for byte the CLI's --json output for the
// same log (a generated stream with every event type, every rejection reason,
// refused lines and a malformed record), pages walk every case exactly once,
// and bad requests get their problem documents while the server goes on
// serving.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
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

// The ledger of one log kind: its log, the server that follows it, and the
// CLI's documents of the same log. Built once per test process (ctest runs
// each test in a process of its own), by the first test of that kind.
struct ReadLedger {
  explicit ReadLedger(testing::LogKind kind) : log(kind, dir.path()) {}
  TempDir dir;
  testing::TestLog log;
  std::unique_ptr<ServeProcess> server;
  std::map<std::vector<std::string>, std::string> cli_outputs;
  std::string cli_cases, cli_stats, cli_rejections;
  std::string end_position;  // the end of the log once everything is appended
  bool ready = false;
};

// Every test runs on the embedded log and on a Kafka topic (mock cluster):
// the server's documents are the CLI's --json of the same log, byte for byte.
class HttpReadTest : public ::testing::TestWithParam<testing::LogKind> {
 protected:
  void SetUp() override {
    auto& slot = ledgers()[GetParam()];
    if (slot == nullptr) {
      slot = std::make_unique<ReadLedger>(GetParam());
      build(*slot);
    }
    ledger_ = slot.get();
    ASSERT_TRUE(ledger_->ready) << "the ledger could not be set up (see the first test)";
  }
  static void TearDownTestSuite() {
    for (auto& [kind, ledger] : ledgers()) {
      if (ledger->server != nullptr) {
        EXPECT_EQ(ledger->server->stop(SIGTERM), 0);
      }
    }
    ledgers().clear();
  }

  static std::map<testing::LogKind, std::unique_ptr<ReadLedger>>& ledgers() {
    static auto* all = new std::map<testing::LogKind, std::unique_ptr<ReadLedger>>();
    return *all;
  }

  // Publishes a generated stream, every rejection reason and refused lines,
  // puts a malformed record on the log, takes the CLI's documents and
  // starts the server, waiting until it has projected the whole log.
  static void build(ReadLedger& ledger) {
    const auto input = ledger.dir.path() / "events.ndjson";
    {
      std::ofstream file(input, std::ios::binary);
      file << testing::generated_lines(3000, 11) << testing::every_reason_lines();
    }
    const auto published = run_homeward(ledger.log.server_data_args({"publish", input.string()}));
    ASSERT_EQ(published.code, 3) << published.err;  // some lines refused, the rest appended
    ledger.log.append_malformed_record();
    ledger.end_position = ledger.log.end_position();
    ASSERT_FALSE(ledger.end_position.empty());
    // The CLI's documents, with its projections brought up to date. On the
    // embedded log they are the server's data directory, which the server
    // then takes as its writer: every document the tests compare is taken
    // before it starts. On Kafka the CLI has a directory of its own and runs
    // when a test asks.
    ledger.cli_cases = cli(ledger, {"cases", "--json"});
    ledger.cli_stats = cli(ledger, {"stats", "--json"});
    ledger.cli_rejections = cli(ledger, {"rejections", "--json"});
    if (!ledger.log.is_kafka()) {
      for (const std::string& id : case_ids(ledger.cli_cases)) cli(ledger, {"case", id, "--json"});
      for (const std::vector<std::string>& args : kCliDocuments) cli(ledger, args);
    }
    ledger.server = ledger.log.serve({}, ledger.dir.path() / "serve.err");
    ASSERT_FALSE(ledger.server->address().empty()) << "serve did not start";
    ASSERT_TRUE(testing::wait_until_ready(ledger.server->url(""))) << "serve never became ready";
    // Every record projected (on Kafka the first rounds may still be reading).
    const auto caught_up =
        http_get(ledger.server->url("/v1/stats?wait_ms=30000&min_position=" + ledger.end_position));
    ASSERT_EQ(caught_up.status, 200) << caught_up.body;
    ledger.ready = true;
  }

  // The CLI's output for `args`, run once (on the embedded log, before the
  // server started).
  static std::string cli(ReadLedger& ledger, const std::vector<std::string>& args) {
    const auto cached = ledger.cli_outputs.find(args);
    if (cached != ledger.cli_outputs.end()) return cached->second;
    EXPECT_TRUE(ledger.log.is_kafka() || ledger.server == nullptr)
        << "on the embedded log the CLI runs before the server starts";
    const auto run = run_homeward(ledger.log.cli_args(args));
    EXPECT_EQ(run.code, 0) << run.err;
    ledger.cli_outputs[args] = run.out;
    return run.out;
  }
  std::string cli(const std::vector<std::string>& args) { return cli(*ledger_, args); }
  static inline const std::vector<std::vector<std::string>> kCliDocuments = {
      {"stats", "--json", "--as-of", "2015-06-01T08:00:00Z"},
      {"cases", "--json", "--as-of", "2015-06-01T08:00:00Z"},
      {"case", "r-usd", "--json", "--as-of", "2015-06-01T08:00:00Z"},
      {"donor", "d-1", "--json"},
      {"cases", "--json", "--status", "funded", "--limit", "3"},
      {"stats", "--json", "--as-of", "2015-06-01"}};
  std::string url(const std::string& path) const { return ledger_->server->url(path); }
  static std::vector<std::string> case_ids(const std::string& cases) {
    std::vector<std::string> ids;
    for (const auto& c : json::parse(cases)) ids.push_back(c["case_id"]);
    return ids;
  }
  std::vector<std::string> case_ids() const { return case_ids(ledger_->cli_cases); }

  ReadLedger* ledger_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Logs, HttpReadTest,
                         ::testing::Values(testing::LogKind::kEmbedded, testing::LogKind::kKafka),
                         testing::log_kind_name);

TEST_P(HttpReadTest, TheStreamHasEveryRejectionReason) {
  const json stats = json::parse(ledger_->cli_stats);
  const std::vector<std::string> reasons = {"malformed",
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
  for (const std::string& reason : reasons) {
    EXPECT_TRUE(stats["events"]["rejected_by_reason"].contains(reason)) << reason;
  }
  EXPECT_GT(stats["events"]["duplicates"].get<int64_t>(), 0);
}

TEST_P(HttpReadTest, CasesStatsAndRejectionsAreTheCliDocumentsByteForByte) {
  // One page of every case: the default page is larger than this ledger.
  auto cases = http_get(url("/v1/cases?limit=10000"), "/v1/cases");
  EXPECT_EQ(cases.status, 200);
  EXPECT_EQ(cases.header("content-type"), "application/json");
  EXPECT_EQ(cases.body, ledger_->cli_cases);
  auto stats = http_get(url("/v1/stats"), "/v1/stats");
  EXPECT_EQ(stats.status, 200);
  EXPECT_EQ(stats.body, ledger_->cli_stats);
  auto rejections = http_get(url("/v1/rejections?limit=10000"), "/v1/rejections");
  EXPECT_EQ(rejections.status, 200);
  EXPECT_EQ(rejections.body, ledger_->cli_rejections);
}

TEST_P(HttpReadTest, EveryCaseIsTheCliCaseDocumentByteForByte) {
  for (const std::string& id : case_ids()) {
    auto response = http_get(url("/v1/cases/" + id), "/v1/cases/{case_id}");
    ASSERT_EQ(response.status, 200) << id;
    EXPECT_EQ(response.body, cli({"case", id, "--json"})) << id;
  }
}

TEST_P(HttpReadTest, AsOfGivesTheCliAsOfDocuments) {
  const std::string at = "2015-06-01T08:00:00Z";
  EXPECT_EQ(http_get(url("/v1/stats?as_of=" + at), "/v1/stats").body,
            cli({"stats", "--json", "--as-of", at}));
  EXPECT_EQ(http_get(url("/v1/cases?limit=10000&as_of=" + at), "/v1/cases").body,
            cli({"cases", "--json", "--as-of", at}));
  EXPECT_EQ(http_get(url("/v1/cases/r-usd?as_of=" + at), "/v1/cases/{case_id}").body,
            cli({"case", "r-usd", "--json", "--as-of", at}));
  // A date is the end of that day, as for the CLI's --as-of.
  EXPECT_EQ(http_get(url("/v1/stats?as_of=2015-06-01"), "/v1/stats").body,
            cli({"stats", "--json", "--as-of", "2015-06-01"}));
  auto bad = http_get(url("/v1/stats?as_of=yesterday"), "/v1/stats");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("content-type"), "application/problem+json");
  EXPECT_EQ(bad.json()["parameter"], "as_of");
}

TEST_P(HttpReadTest, DonorStatementIsTheCliDocument) {
  auto response = http_get(url("/v1/donors/d-1"), "/v1/donors/{donor_ref}");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, cli({"donor", "d-1", "--json"}));
  EXPECT_EQ(response.header("cache-control"), "no-store");
  auto unknown = http_get(url("/v1/donors/nobody"), "/v1/donors/{donor_ref}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json()["type"], "https://homeward.example/problems/unknown-donor");
}

TEST_P(HttpReadTest, EveryResponseCarriesThePositionItWasReadAt) {
  auto response = http_get(url("/v1/stats"), "/v1/stats");
  // Every record of the log is below it, in each partition ...
  EXPECT_EQ(response.header("homeward-position"), ledger_->end_position);
  // ... and those are the records the stats count.
  const json stats = json::parse(ledger_->cli_stats);
  const int64_t records = stats["events"]["applied"].get<int64_t>() +
                          stats["events"]["duplicates"].get<int64_t>() +
                          stats["events"]["rejected"].get<int64_t>();
  int64_t offsets = 0;
  std::istringstream pairs(ledger_->end_position);
  for (std::string pair; std::getline(pairs, pair, ',');) {
    offsets += std::stoll(pair.substr(pair.find(':') + 1));
  }
  EXPECT_EQ(offsets, records);
  if (!ledger_->log.is_kafka()) {
    EXPECT_EQ(ledger_->end_position, "0:" + std::to_string(records));
  }
}

TEST_P(HttpReadTest, MinPositionAnswersAtOnceWhenReachedAndWaitsBoundedOtherwise) {
  const std::string at = http_get(url("/v1/stats")).header("homeward-position");
  auto reached = http_get(url("/v1/stats?min_position=" + at), "/v1/stats");
  EXPECT_EQ(reached.status, 200);
  EXPECT_EQ(reached.body, ledger_->cli_stats);
  auto ahead = http_get(url("/v1/stats?min_position=0:999999999&wait_ms=50"), "/v1/stats");
  EXPECT_EQ(ahead.status, 503);
  EXPECT_EQ(ahead.json()["type"], "https://homeward.example/problems/position-not-reached");
  EXPECT_EQ(ahead.header("retry-after"), "1");
  auto bad = http_get(url("/v1/stats?min_position=zero"), "/v1/stats");
  EXPECT_EQ(bad.status, 400);
  auto too_long = http_get(url("/v1/stats?min_position=0:1&wait_ms=99999999"), "/v1/stats");
  EXPECT_EQ(too_long.status, 400);
}

TEST_P(HttpReadTest, WalkingEveryPageGivesEveryCaseExactlyOnce) {
  const std::vector<std::string> all = case_ids();
  for (const int limit : {1, 7, 64, 1000}) {
    std::vector<std::string> seen;
    std::string next = "/v1/cases?limit=" + std::to_string(limit);
    for (int pages = 0; !next.empty() && pages < 10'000; ++pages) {
      auto page = http_get(url(next), "/v1/cases");
      ASSERT_EQ(page.status, 200) << page.body;
      for (const auto& c : page.json()) seen.push_back(c["case_id"]);
      EXPECT_LE(page.json().size(), static_cast<size_t>(limit));
      const std::string cursor = page.header("homeward-next-cursor");
      next = cursor.empty() ? "" : "/v1/cases?limit=" + std::to_string(limit) + "&cursor=" + cursor;
    }
    EXPECT_EQ(seen, all) << "limit " << limit;
  }
}

TEST_P(HttpReadTest, TheStatusFilterIsKeptByTheCursor) {
  std::vector<std::string> expected;
  for (const auto& c : json::parse(ledger_->cli_cases)) {
    if (c["status"] == "funded") expected.push_back(c["case_id"]);
  }
  ASSERT_FALSE(expected.empty());
  std::vector<std::string> seen;
  std::string next = "/v1/cases?status=funded&limit=3";
  for (int pages = 0; !next.empty() && pages < 10'000; ++pages) {
    auto page = http_get(url(next), "/v1/cases");
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& c : page.json()) {
      EXPECT_EQ(c["status"], "funded");
      seen.push_back(c["case_id"]);
    }
    const std::string cursor = page.header("homeward-next-cursor");
    next = cursor.empty() ? "" : "/v1/cases?limit=3&cursor=" + cursor;
  }
  EXPECT_EQ(seen, expected);
  // The first page is the CLI's page of the same filter and limit.
  const json cli_page = json::parse(cli({"cases", "--json", "--status", "funded", "--limit", "3"}));
  EXPECT_EQ(http_get(url("/v1/cases?status=funded&limit=3"), "/v1/cases").json(),
            cli_page["cases"]);
  auto bad = http_get(url("/v1/cases?status=pending"), "/v1/cases");
  EXPECT_EQ(bad.status, 400);
  auto forged = http_get(url("/v1/cases?cursor=!!"), "/v1/cases");
  EXPECT_EQ(forged.status, 400);
  EXPECT_EQ(forged.json()["parameter"], "cursor");
}

TEST_P(HttpReadTest, RejectionPagesWalkEveryRejectionOnce) {
  const json all = json::parse(ledger_->cli_rejections);
  json seen = json::array();
  std::string next = "/v1/rejections?limit=5";
  for (int pages = 0; !next.empty() && pages < 10'000; ++pages) {
    auto page = http_get(url(next), "/v1/rejections");
    ASSERT_EQ(page.status, 200);
    for (const auto& r : page.json()) seen.push_back(r);
    const std::string cursor = page.header("homeward-next-cursor");
    next = cursor.empty() ? "" : "/v1/rejections?limit=5&cursor=" + cursor;
  }
  EXPECT_EQ(seen, all);
}

TEST_P(HttpReadTest, HostileIdsGetProblemDocumentsAndTheServerGoesOn) {
  // Sent as written (the client leaves dot segments alone): an id that is
  // not an identifier names no case or donor; a path of more segments, or
  // with `..` or an empty segment, is no route and never resolves to another
  // one; no asset name reaches outside the compiled-in assets.
  struct Hostile {
    std::string path;
    std::string route;  // for the OpenAPI check; empty for no route
    std::string problem;
  };
  const std::vector<Hostile> hostile{
      {"/v1/cases/..", "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/cases/a%2Fb", "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/cases/%00", "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/cases/%2e%2e%2fetc", "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/cases/" + std::string(300, 'x'), "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/cases/caf%C3%A9", "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/cases/%ff%fe", "/v1/cases/{case_id}", "unknown-case"},
      {"/v1/donors/..", "/v1/donors/{donor_ref}", "unknown-donor"},
      {"/v1/donors/a%2Fb", "/v1/donors/{donor_ref}", "unknown-donor"},
      {"/v1/donors/%00", "/v1/donors/{donor_ref}", "unknown-donor"},
      {"/v1/cases/../stats", "", "not-found"},
      {"/v1/cases/a/b", "", "not-found"},
      {"/./v1/stats", "", "not-found"},
      {"//v1/stats", "", "not-found"},
      {"/assets/../../etc/passwd", "/assets/{file}", "not-found"},
      {"/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/{file}", "not-found"},
      {"/assets/..%2f..%2fetc%2fpasswd", "/assets/{file}", "not-found"},
      {"/assets/%00", "/assets/{file}", "not-found"},
  };
  for (const Hostile& h : hostile) {
    SCOPED_TRACE(h.path);
    auto response = http_get(url(h.path), h.route);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.header("content-type"), "application/problem+json");
    EXPECT_EQ(response.json()["type"], "https://homeward.example/problems/" + h.problem);
    EXPECT_EQ(response.body.find("root:"), std::string::npos);
  }
  auto bad_escape = http_get(url("/v1/cases/%zz"));
  EXPECT_EQ(bad_escape.status, 400);
  EXPECT_EQ(http_get(url("/v1/nothing-here")).status, 404);
  auto wrong_method = testing::http_post(url("/v1/stats"), "{}", "application/json");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("allow"), "GET");
  EXPECT_EQ(http_get(url("/v1/stats"), "/v1/stats").body, ledger_->cli_stats);
}

TEST_P(HttpReadTest, ManyConcurrentKeepAliveClientsOfWorkerRoutesAllGetTheirDocuments) {
  // 32 clients at once, each on one keep-alive connection, 100 requests of
  // a worker route each (bounded); every answer is the CLI's document. (A
  // worker's hand-back to the connection once used freed memory under such
  // load.)
  const std::vector<std::string> ids = case_ids();
  std::map<std::string, std::string> expected;
  for (const std::string& id : ids) expected[id] = cli({"case", id, "--json"});
  std::vector<int> wrong(32, 0);
  std::vector<std::string> first_wrong(32);
  std::vector<std::thread> clients;
  for (int c = 0; c < 32; ++c) {
    clients.emplace_back([&, c] {
      testing::HttpClient client;
      for (int i = 0; i < 100; ++i) {
        const std::string& id = ids[static_cast<size_t>(c * 100 + i) % ids.size()];
        const auto answer =
            client.send(testing::HttpRequest{"GET", url("/v1/cases/" + id), "", {}, 60'000, ""});
        if (answer.status == 200 && answer.body == expected.at(id)) continue;
        if (wrong[c]++ == 0) {
          first_wrong[c] =
              id + ": status " + std::to_string(answer.status) + " " + answer.body + answer.error;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  for (int c = 0; c < 32; ++c)
    EXPECT_EQ(wrong[c], 0) << "client " << c << ", first: " << first_wrong[c];
  EXPECT_EQ(http_get(url("/livez")).status, 200);
}

TEST_P(HttpReadTest, HealthAndInfoAnswer) {
  EXPECT_EQ(http_get(url("/livez"), "/livez").status, 200);
  auto ready = http_get(url("/readyz"), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json()["lag_events"], 0);
  auto info = http_get(url("/v1/info"), "/v1/info");
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(info.json()["schema_version"], 1);
  EXPECT_EQ(info.json()["listen"], ledger_->server->address());
}

}  // namespace
}  // namespace homeward
