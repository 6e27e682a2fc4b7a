// GET /metrics over real TCP on 127.0.0.1: the Prometheus text of a server
// that published and projected a generated stream with every rejection
// reason counts exactly what the ledger's own report counts (events by
// outcome, rejections by reason, appended and refused), the HTTP requests by
// route and status, and carries no case id or donor ref in any label.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/ledger_stream.h"
#include "tests/http/support/serve_process.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;
using testing::http_get;
using testing::http_post;
using testing::ServeProcess;
using testing::TempDir;

// "name{labels}" -> value, from the text exposition (comments skipped).
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

TEST(HttpMetricsTest, CountsAreTheLedgersOwnAndNoLabelNamesACaseOrDonor) {
  TempDir dir;
  ServeProcess server(dir.path() / "data", {}, dir.path() / "serve.err");
  ASSERT_FALSE(server.address().empty());
  ASSERT_TRUE(testing::wait_until_ready(server.url("")));
  const std::string input = testing::generated_lines(500, 3) + testing::every_reason_lines();
  const auto posted = http_post(server.url("/v1/events?wait=outcome&wait_ms=30000"), input,
                                "application/x-ndjson", "/v1/events");
  ASSERT_EQ(posted.status, 200) << posted.body;
  const json stats = http_get(server.url("/v1/stats"), "/v1/stats").json();
  ASSERT_EQ(http_get(server.url("/v1/cases/nope"), "/v1/cases/{case_id}").status, 404);

  // A request is counted once its answer is written, which the client may
  // see first; the lag once the round after the outcomes is done. So the
  // metrics are read again (at most 200 times) until both are in.
  testing::HttpResponse metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = http_get(server.url("/metrics"), "/metrics");
    ASSERT_EQ(metrics.status, 200);
    const auto now = samples(metrics.body);
    const auto counted = now.find(
        R"(homeward_http_requests_total{code="404",method="GET",route="/v1/cases/{case_id}"})");
    const auto lag = now.find("homeward_projection_lag_events");
    if (counted != now.end() && lag != now.end() && lag->second == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto s = samples(metrics.body);
  EXPECT_EQ(s.at("homeward_events_appended_total"), posted.json()["appended"].get<double>());
  EXPECT_EQ(s.at("homeward_events_refused_total"), posted.json()["refused"].get<double>());
  EXPECT_EQ(s.at(R"(homeward_events_handled_total{outcome="applied"})"),
            stats["events"]["applied"].get<double>());
  EXPECT_EQ(s.at(R"(homeward_events_handled_total{outcome="duplicate"})"),
            stats["events"]["duplicates"].get<double>());
  EXPECT_EQ(s.at(R"(homeward_events_handled_total{outcome="rejected"})"),
            stats["events"]["rejected"].get<double>());
  for (const auto& [reason, count] : stats["events"]["rejected_by_reason"].items()) {
    EXPECT_EQ(s.at("homeward_rejections_total{reason=\"" + reason + "\"}"), count.get<double>())
        << reason;
  }
  EXPECT_EQ(s.at(R"(homeward_http_requests_total{code="200",method="POST",route="/v1/events"})"),
            1);
  EXPECT_EQ(
      s.at(R"(homeward_http_requests_total{code="404",method="GET",route="/v1/cases/{case_id}"})"),
      1);
  EXPECT_GE(s.at(R"(homeward_http_request_duration_seconds_count{route="/v1/stats"})"), 1);
  EXPECT_GE(s.at("homeward_projector_round_duration_seconds_count"), 1);
  EXPECT_EQ(s.at("homeward_projection_lag_events"), 0);
  EXPECT_EQ(s.at("homeward_sse_clients"), 0);
  EXPECT_EQ(s.count(R"(homeward_build_info{schema_version="1",version="0.1.0"})"), 1u)
      << metrics.body.substr(0, 400);
  // No case id, donor ref or event id anywhere (the generator's and the
  // stream's own spellings).
  static const std::regex private_id(R"((case-[0-9]|donor-[0-9]|r-usd|r-jpy|d-[0-9]|ev-[0-9]))");
  EXPECT_FALSE(std::regex_search(metrics.body, private_id));
  // A request with an odd method is counted as "other", never by its name.
  testing::HttpClient client;
  client.send(testing::HttpRequest{"BREW", server.url("/v1/stats"), "", {}, 60'000, ""});
  std::string after;
  for (int i = 0; i < 200; ++i) {  // counted once its answer is written (above)
    after = http_get(server.url("/metrics")).body;
    if (after.find(R"(method="other")") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(after.find("BREW"), std::string::npos);
  EXPECT_NE(after.find(R"(method="other")"), std::string::npos);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace homeward
