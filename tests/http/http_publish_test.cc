// POST /v1/events over real TCP on 127.0.0.1 with libcurl: the same stage-1
// answers as `homeward publish` (line, field, reason), one result per event
// in input order, the same ledger afterwards; atomic=true appends nothing
// when one event is refused; wait=outcome gives the stage-2 outcome that the
// projector recorded; a retried request is counted once; an `appended`
// answer survives a SIGKILL of the server. Each on the embedded log and on
// a Kafka topic (librdkafka's mock cluster).
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
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
using testing::http_post;
using testing::run_homeward;
using testing::ServeProcess;
using testing::TempDir;

constexpr const char* kNdjson = "application/x-ndjson";

std::string opened(const std::string& id, const std::string& case_id,
                   const std::string& goal = "100.00") {
  return fmt::format(
      R"({{"type":"CaseOpened","event_id":"{}","occurred_at":"2015-06-01T08:00:00Z","case_id":"{}","currency":"USD","goal":"{}"}})",
      id, case_id, goal);
}
std::string gift(const std::string& id, const std::string& case_id,
                 const std::string& amount = "25.00", const std::string& donor = "d-1") {
  return fmt::format(
      R"({{"type":"DonationReceived","event_id":"{}","occurred_at":"2015-06-02T09:30:00Z","case_id":"{}","donor_ref":"{}","amount":"{}","currency":"USD"}})",
      id, case_id, donor, amount);
}

// A server on a fresh log and data directory, ready; every test runs on the
// embedded log and on a Kafka topic (mock cluster), where an answer waits for
// every delivery report.
class HttpPublishTest : public ::testing::TestWithParam<testing::LogKind> {
 protected:
  void SetUp() override {
    log_ = std::make_unique<testing::TestLog>(GetParam(), dir_.path());
    start();
  }

  void start() {
    server_ = log_->serve({}, dir_.path() / "serve.err");
    ASSERT_FALSE(server_->address().empty()) << "serve did not start";
    ASSERT_TRUE(testing::wait_until_ready(server_->url(""))) << "serve never became ready";
  }

  testing::HttpResponse post(const std::string& query, const std::string& body,
                             const std::string& type = kNdjson) {
    return http_post(server_->url("/v1/events" + query), body, type, "/v1/events");
  }

  // The CLI's `publish --json` report for `input` into a directory of its own.
  json cli_publish(const std::string& input, const std::filesystem::path& data) {
    const auto file = dir_.path() / "cli-input.ndjson";
    std::ofstream(file, std::ios::binary) << input;
    const auto run = run_homeward({"--data", data.string(), "publish", "--json", file.string()});
    EXPECT_TRUE(run.code == 0 || run.code == 3) << run.err;
    return json::parse(run.out);
  }

  // A `--json` document of the CLI on the server's log, once the server has
  // stopped: on Kafka from the CLI's own projections of the topic (an
  // independent fold), on the embedded log from the store the server wrote.
  json cli_after_the_server(const std::vector<std::string>& args) {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(SIGTERM), 0);
      server_.reset();
    }
    const auto run = run_homeward(log_->cli_args(args));
    EXPECT_EQ(run.code, 0) << run.err;
    return run.code == 0 ? json::parse(run.out) : json();
  }

  TempDir dir_;
  std::unique_ptr<testing::TestLog> log_;
  std::unique_ptr<ServeProcess> server_;
};

INSTANTIATE_TEST_SUITE_P(Logs, HttpPublishTest,
                         ::testing::Values(testing::LogKind::kEmbedded, testing::LogKind::kKafka),
                         testing::log_kind_name);

// The answer is written as every JSON body is (json_body): the members in
// their order, on one line, one newline at the end; the results are written
// without a JSON document, so this holds them to the same text.
void expect_written_as_json_body(const testing::HttpResponse& answer) {
  const auto document = nlohmann::ordered_json::parse(answer.body);
  EXPECT_EQ(answer.body,
            document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

TEST_P(HttpPublishTest, NdjsonGetsTheCliPublishAnswersLineByLineAndTheSameLedger) {
  const std::string input = testing::generated_lines(600, 7) + "\n" + "not json\n" +
                            R"({"type":"DonationReceived","event_id":"x1"})" + "\n" +
                            gift("x2", "case-q", "1.001") + "\n";
  const auto answer = post("", input);
  ASSERT_EQ(answer.status, 200) << answer.body;
  expect_written_as_json_body(answer);
  const json body = answer.json();

  // The CLI on the same input, into another directory.
  const auto cli_data = dir_.path() / "cli";
  const json cli = cli_publish(input, cli_data);
  EXPECT_EQ(body["appended"], cli["appended"]);
  EXPECT_EQ(body["refused"].get<size_t>(), cli["refused"].size());
  json refused = json::array();
  int64_t last_line = 0;
  int64_t appended = 0;
  for (const json& r : body["results"]) {
    EXPECT_GT(r["line"].get<int64_t>(), last_line) << "results are in input order";
    last_line = r["line"].get<int64_t>();
    if (r["result"] == "refused") {
      refused.push_back({{"line", r["line"]}, {"field", r["field"]}, {"reason", r["reason"]}});
    } else {
      EXPECT_EQ(r["result"], "appended");
      EXPECT_TRUE(r.contains("position"));
      ++appended;
    }
  }
  EXPECT_EQ(refused, cli["refused"]);
  EXPECT_EQ(appended, cli["appended"].get<int64_t>());
  // The blank line has no result; every other line has one.
  EXPECT_EQ(body["results"].size(), static_cast<size_t>(appended) + refused.size());

  // The same ledger: the server's cases (read at the publish's position) are
  // the CLI's.
  const auto cases = http_get(
      server_->url("/v1/cases?limit=10000&min_position=" + body["min_position"].get<std::string>()),
      "/v1/cases");
  ASSERT_EQ(cases.status, 200) << cases.body;
  const auto cli_cases = run_homeward({"--data", cli_data.string(), "cases", "--json"});
  EXPECT_EQ(cases.body, cli_cases.out);
}

TEST_P(HttpPublishTest, AJsonArrayGetsTheSameResultsAsTheSameEventsAsNdjson) {
  const std::vector<std::string> events{opened("e1", "case-a"), gift("e2", "case-a"),
                                        R"({"type":"Nope","event_id":"e3"})", "7",
                                        gift("e4", "case-a", "0")};
  std::string ndjson;
  std::string array = "[\n";
  for (size_t i = 0; i < events.size(); ++i) {
    ndjson += events[i] + "\n";
    // Pretty-printed elements: line breaks between tokens are allowed.
    std::string pretty = events[i];
    if (pretty.front() == '{') pretty.insert(1, "\n  ");
    array += (i > 0 ? ",\n" : "") + pretty;
  }
  array += "\n]";
  const auto from_array = post("", array, "application/json");
  ASSERT_EQ(from_array.status, 200) << from_array.body;
  const json results = from_array.json()["results"];
  ASSERT_EQ(results.size(), events.size());

  // The NDJSON answers of a CLI publish of the same events.
  const json cli = cli_publish(ndjson, dir_.path() / "cli");
  json refused = json::array();
  for (const json& r : results) {
    if (r["result"] == "refused") {
      refused.push_back({{"line", r["line"]}, {"field", r["field"]}, {"reason", r["reason"]}});
    }
  }
  EXPECT_EQ(refused, cli["refused"]);
  EXPECT_EQ(results[0]["result"], "appended");
  EXPECT_EQ(results[1]["result"], "appended");
  EXPECT_EQ(results[2]["result"], "refused");
  EXPECT_EQ(results[3]["result"], "refused");
  EXPECT_EQ(results[4]["result"], "refused");
  EXPECT_EQ(results[4]["field"], "amount");
}

TEST_P(HttpPublishTest, AtomicWithARefusedEventAppendsNothing) {
  const std::string input = opened("e1", "case-a") + "\n" + gift("e2", "case-a", "-1") + "\n";
  const auto answer = post("?atomic=true", input);
  ASSERT_EQ(answer.status, 422) << answer.body;
  EXPECT_EQ(answer.header("content-type"), "application/problem+json");
  const json body = answer.json();
  EXPECT_EQ(body["type"], "https://homeward.example/problems/events-refused");
  EXPECT_EQ(body["appended"], 0);
  ASSERT_EQ(body["results"].size(), 2u);
  EXPECT_EQ(body["results"][0]["result"], "not_appended");
  EXPECT_EQ(body["results"][1]["result"], "refused");
  EXPECT_EQ(body["results"][1]["field"], "amount");
  // Nothing reached the log.
  const auto stats = http_get(server_->url("/v1/stats"), "/v1/stats");
  EXPECT_EQ(stats.json()["cases"]["total"], 0);

  // The same lines without atomic: the good one is appended.
  const auto partial = post("?atomic=false", input);
  ASSERT_EQ(partial.status, 200) << partial.body;
  EXPECT_EQ(partial.json()["appended"], 1);
  EXPECT_EQ(partial.json()["results"][0]["result"], "appended");
}

TEST_P(HttpPublishTest, OutcomesAreTheOnesTheProjectorRecorded) {
  const std::string input = testing::generated_lines(500, 5) + testing::every_reason_lines();
  const auto answer = post("?wait=outcome&wait_ms=30000", input);
  ASSERT_EQ(answer.status, 200) << answer.body;
  expect_written_as_json_body(answer);
  const json body = answer.json();
  EXPECT_EQ(body["pending"], 0);

  // Every rejected outcome is in /v1/rejections with the same reason at the
  // same position, and nothing else is; applied and duplicates add up to the
  // stats' counts.
  std::map<std::string, std::string> rejected;  // position -> reason
  int64_t applied = 0;
  int64_t duplicates = 0;
  for (const json& r : body["results"]) {
    if (r["result"] != "appended") continue;
    const std::string outcome = r["outcome"];
    if (outcome == "applied") ++applied;
    if (outcome == "duplicate") ++duplicates;
    if (outcome == "rejected") rejected[r["position"]] = r["rejection_reason"];
  }
  std::map<std::string, std::string> recorded;
  for (const json& r :
       http_get(server_->url("/v1/rejections?limit=10000"), "/v1/rejections").json()) {
    recorded[fmt::format("{}:{}", r["partition"].get<int>(), r["offset"].get<int64_t>())] =
        r["reason"];
  }
  EXPECT_EQ(rejected, recorded);
  std::set<std::string> reasons;
  for (const auto& [position, reason] : rejected) reasons.insert(reason);
  EXPECT_EQ(reasons.size(), 11u) << "every reason but malformed";
  const json stats = http_get(server_->url("/v1/stats"), "/v1/stats").json();
  EXPECT_EQ(stats["events"]["applied"], applied);
  EXPECT_EQ(stats["events"]["duplicates"], duplicates);
  EXPECT_EQ(stats["events"]["rejected"].get<int64_t>(), static_cast<int64_t>(rejected.size()));

  // The same in the CLI's documents of the log.
  const json cli_rejections = cli_after_the_server({"rejections", "--json"});
  std::map<std::string, std::string> in_cli;
  for (const json& r : cli_rejections) {
    in_cli[fmt::format("{}:{}", r["partition"].get<int>(), r["offset"].get<int64_t>())] =
        r["reason"];
  }
  EXPECT_EQ(rejected, in_cli);
  const json cli_stats = cli_after_the_server({"stats", "--json"});
  EXPECT_EQ(cli_stats["events"]["applied"], applied);
  EXPECT_EQ(cli_stats["events"]["duplicates"], duplicates);
}

TEST_P(HttpPublishTest, ARetriedRequestIsCountedOnce) {
  std::string input = opened("e1", "case-a", "1000.00") + "\n";
  for (int i = 0; i < 20; ++i) input += gift(fmt::format("g{}", i), "case-a", "10.00") + "\n";
  const auto first = post("?wait=outcome", input);
  ASSERT_EQ(first.status, 200) << first.body;
  // Held in a variable: a range-for over a member of a temporary reads freed
  // memory (ASan: heap-use-after-free), since only the member's reference lives on.
  const json first_body = first.json();
  for (const json& r : first_body["results"]) EXPECT_EQ(r["outcome"], "applied");
  // The portal never got the answer and sends the same request again.
  const auto again = post("?wait=outcome", input);
  ASSERT_EQ(again.status, 200) << again.body;
  const json again_body = again.json();
  for (const json& r : again_body["results"]) EXPECT_EQ(r["outcome"], "duplicate");
  const json the_case = http_get(server_->url("/v1/cases/case-a?min_position=" +
                                              again.json()["min_position"].get<std::string>()),
                                 "/v1/cases/{case_id}")
                            .json();
  EXPECT_EQ(the_case["donations"], 20);
  EXPECT_EQ(the_case["received"], "200.00");
  EXPECT_EQ(the_case["duplicates"], 21);
  // The CLI's fold of the same log counts the same.
  const json cli_case = cli_after_the_server({"case", "case-a", "--json"});
  EXPECT_EQ(cli_case, the_case);
  EXPECT_EQ(cli_after_the_server({"stats", "--json"})["events"]["duplicates"], 21);
}

TEST_P(HttpPublishTest, AWaitThatEndsBeforeTheProjectionsIsPendingNotLost) {
  // wait_ms=0: the answer comes at once; an outcome not yet known is pending
  // (202), and the events are appended either way.
  std::string input;
  for (int i = 0; i < 200; ++i)
    input += opened(fmt::format("o{}", i), fmt::format("c{}", i)) + "\n";
  const auto answer = post("?wait=outcome&wait_ms=0", input);
  ASSERT_TRUE(answer.status == 200 || answer.status == 202) << answer.body;
  expect_written_as_json_body(answer);
  const json body = answer.json();
  EXPECT_EQ(body["appended"], 200);
  int64_t pending = 0;
  for (const json& r : body["results"]) pending += r["outcome"] == "pending" ? 1 : 0;
  EXPECT_EQ(body["pending"], pending);
  EXPECT_EQ(answer.status == 202, pending > 0);
  const auto stats =
      http_get(server_->url("/v1/stats?min_position=" + body["min_position"].get<std::string>()),
               "/v1/stats");
  EXPECT_EQ(stats.json()["cases"]["total"], 200);
}

TEST_P(HttpPublishTest, BadBodiesGetTheirProblemDocuments) {
  struct Case {
    std::string query, body, type;
    long status;
    std::string problem;
  };
  std::string many;
  for (int i = 0; i < 10'001; ++i) many += "{}\n";
  const std::vector<Case> cases{
      {"", gift("e1", "c"), "text/plain", 415, "unsupported-media-type"},
      {"", gift("e1", "c"), "", 415, "unsupported-media-type"},
      {"", "{\"not\":\"an array\"}", "application/json", 400, "bad-body"},
      {"", "[" + gift("e1", "c") + ",]", "application/json", 400, "bad-body"},
      {"", "[" + gift("e1", "c"), "application/json", 400, "bad-body"},
      {"", "[" + gift("e1", "c") + "] x", "application/json", 400, "bad-body"},
      {"", "[]", "application/json", 400, "no-events"},
      {"", "\n \n", kNdjson, 400, "no-events"},
      {"", many, kNdjson, 413, "too-many-events"},
      {"?atomic=maybe", gift("e1", "c"), kNdjson, 400, "bad-parameter"},
      {"?wait=forever", gift("e1", "c"), kNdjson, 400, "bad-parameter"},
      {"?wait_ms=-1", gift("e1", "c"), kNdjson, 400, "bad-parameter"},
      {"?limit=3", gift("e1", "c"), kNdjson, 400, "bad-parameter"},
      {"", "not json at all", kNdjson, 422, "events-refused"},
      {"", "\xff\xfe{\"type\":1}", kNdjson, 422, "events-refused"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query + " " + c.type + " " + c.body.substr(0, 40));
    testing::HttpClient client;
    std::vector<std::string> headers;
    // An empty type: no Content-Type at all.
    headers.push_back(c.type.empty() ? "Content-Type:" : "Content-Type: " + c.type);
    const auto answer = client.send(testing::HttpRequest{
        "POST", server_->url("/v1/events" + c.query), c.body, headers, 60'000, "/v1/events"});
    EXPECT_EQ(answer.status, c.status) << answer.body;
    EXPECT_EQ(answer.header("content-type"), "application/problem+json");
    EXPECT_EQ(answer.json()["type"], "https://homeward.example/problems/" + c.problem);
  }
  // Nothing of it reached the log, and the server goes on.
  const auto stats = http_get(server_->url("/v1/stats"), "/v1/stats");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.json()["events"]["applied"], 0);
  EXPECT_EQ(stats.json()["events"]["rejected"], 0);
}

TEST_P(HttpPublishTest, EveryAppendedAnswerSurvivesAKillOfTheServer) {
  ASSERT_EQ(post("", opened("open", "case-k", "1000000.00") + "\n").status, 200);
  // A stream of POSTs (bounded: at most 400 requests of 25 gifts), killed
  // with SIGKILL once 40 were answered.
  std::atomic<int> answered{0};
  std::vector<std::string> answered_ids;
  std::mutex mutex;
  std::thread poster([&] {
    for (int request = 0; request < 400; ++request) {
      std::string body;
      std::vector<std::string> ids;
      for (int i = 0; i < 25; ++i) {
        ids.push_back(fmt::format("k{}-{}", request, i));
        body += gift(ids.back(), "case-k", "1.00", fmt::format("d-{}", i)) + "\n";
      }
      const auto answer = post("", body);
      if (answer.status != 200) break;  // the server is gone
      const json results = answer.json()["results"];
      std::lock_guard lock(mutex);
      for (size_t i = 0; i < results.size(); ++i) {
        if (results[i]["result"] == "appended") answered_ids.push_back(ids[i]);
      }
      answered.fetch_add(1);
    }
  });
  for (int i = 0; i < 6000 && answered.load() < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->stop(SIGKILL), 128 + SIGKILL);
  poster.join();
  ASSERT_GE(answered.load(), 1);

  // Every answered event is in the log exactly once ...
  const auto exported = run_homeward(log_->server_data_args({"export"}));
  ASSERT_EQ(exported.code, 0) << exported.err;
  std::map<std::string, int> in_log;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) ++in_log[json::parse(line)["event_id"].get<std::string>()];
  }
  for (const std::string& id : answered_ids) EXPECT_EQ(in_log[id], 1) << id;
  // ... and, after a restart, projected once: the case counts every gift in
  // the log (answered or not, each once).
  const std::string end = log_->end_position();
  start();
  const json the_case = http_get(server_->url("/v1/cases/case-k?wait_ms=30000&min_position=" + end),
                                 "/v1/cases/{case_id}")
                            .json();
  EXPECT_EQ(the_case["donations"].get<size_t>(), in_log.size() - 1);
  EXPECT_GE(the_case["donations"].get<size_t>(), answered_ids.size());
  EXPECT_EQ(the_case["duplicates"], 0);
}

}  // namespace
}  // namespace homeward
