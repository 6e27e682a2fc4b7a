// GET /v1/ops and GET /ops (issue 13 item 2) over real TCP on 127.0.0.1, with
// a tokens file and --audit-dir: /v1/ops needs the read scope (401 without a
// token, 403 with another scope); /ops answers its sign-in page to anyone and
// it holds no figure; the figures count exactly what the ledger counts
// (outcomes and rejections by reason equal /v1/stats of a stream with every
// reason), the latest rejected events are the newest of /v1/rejections, the
// lag is per partition (also in /metrics), requests are seen, and the audit
// is report.json's: none, a damaged one, then a real one.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/ledger_stream.h"
#include "tests/http/support/serve_process.h"
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

std::string create_token(const std::string& name, const std::string& scope,
                         const std::filesystem::path& file) {
  const auto run = run_homeward(
      {"--quiet", "token", "create", "--name", name, "--scope", scope, "--append", file.string()});
  EXPECT_EQ(run.code, 0) << run.err;
  std::istringstream out(run.out);
  std::string token;
  std::getline(out, token);
  return token;
}

// The position /v1/info reports now.
json stats_position(const ServeProcess& server, const std::string& read) {
  return http_get(server.url("/v1/info"), "/v1/info", {"Authorization: Bearer " + read})
      .json()["position"];
}

TEST(HttpOpsTest, OperatorFiguresNeedReadScopeAndAreTheLedgersOwn) {
  TempDir dir;
  const auto tokens = dir.path() / "tokens";
  const std::string read = create_token("ops", "read", tokens);
  const std::string metrics = create_token("scraper", "metrics", tokens);
  const std::string publish = create_token("portal", "publish", tokens);
  const auto audit_dir = dir.path() / "audit";
  std::filesystem::create_directories(audit_dir);
  ServeProcess server(dir.path() / "data",
                      {"--tokens", tokens.string(), "--audit-dir", audit_dir.string()},
                      dir.path() / "serve.err");
  ASSERT_FALSE(server.address().empty());
  ASSERT_TRUE(testing::wait_until_ready(server.url("")));
  const auto bearer = [](const std::string& token) { return "Authorization: Bearer " + token; };

  // Access: the figures need the read scope; the page itself is anyone's.
  EXPECT_EQ(http_get(server.url("/v1/ops"), "/v1/ops").status, 401);
  EXPECT_EQ(http_get(server.url("/v1/ops"), "/v1/ops", {bearer(metrics)}).status, 403);
  EXPECT_EQ(http_get(server.url("/v1/ops?x=1"), "/v1/ops", {bearer(read)}).status, 400);
  const auto page = http_get(server.url("/ops"), "/ops");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form id=\"login-form\">"), std::string::npos);
  EXPECT_NE(page.body.find("type=\"password\""), std::string::npos);
  // The page carries no figure: its data-ops fields are empty.
  EXPECT_EQ(page.body.find("data-ops=\"handled.applied\"></dd>") == std::string::npos, false);
  EXPECT_NE(page.header("content-security-policy").find("default-src 'none'"), std::string::npos);

  // No report yet: the audit says so.
  auto ops = http_get(server.url("/v1/ops"), "/v1/ops", {bearer(read)});
  ASSERT_EQ(ops.status, 200) << ops.body;
  EXPECT_EQ(ops.header("cache-control"), "no-store");
  EXPECT_TRUE(ops.json()["audit"]["result"].is_null());
  EXPECT_NE(ops.json()["audit"]["error"].get<std::string>().find("no audit report"),
            std::string::npos);

  const std::string input = testing::generated_lines(400, 5) + testing::every_reason_lines();
  const auto posted = http_post(server.url("/v1/events?wait=outcome&wait_ms=30000"), input,
                                "application/x-ndjson", "/v1/events", {bearer(publish)});
  ASSERT_EQ(posted.status, 200) << posted.body;
  const json stats = http_get(server.url("/v1/stats"), "/v1/stats", {bearer(read)}).json();
  const json rejections =
      http_get(server.url("/v1/rejections"), "/v1/rejections", {bearer(read)}).json();

  // The lag per partition comes with the round after the outcomes: read
  // again (at most 200 times) until the round is in.
  json figures;
  for (int i = 0; i < 200; ++i) {
    ops = http_get(server.url("/v1/ops"), "/v1/ops", {bearer(read)});
    ASSERT_EQ(ops.status, 200);
    figures = ops.json();
    if (figures["position"] == stats_position(server, read)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(figures["handled"]["applied"], stats["events"]["applied"]);
  EXPECT_EQ(figures["handled"]["duplicate"], stats["events"]["duplicates"]);
  EXPECT_EQ(figures["handled"]["rejected"], stats["events"]["rejected"]);
  int64_t reasons_total = 0;
  for (const auto& [reason, count] : figures["rejections"].items()) {
    const json expected = stats["events"]["rejected_by_reason"].value(reason, json(0));
    EXPECT_EQ(count, expected) << reason;
    reasons_total += count.get<int64_t>();
  }
  EXPECT_EQ(reasons_total, stats["events"]["rejected"].get<int64_t>());
  for (const auto& [reason, count] : stats["events"]["rejected_by_reason"].items()) {
    EXPECT_TRUE(figures["rejections"].contains(reason)) << reason;
  }
  // The latest rejected events: the newest (at most 20) by log position, newest first.
  ASSERT_GE(rejections.size(), 12u);  // every reason at least once
  const json& latest = figures["latest_rejections"];
  ASSERT_EQ(latest.size(), std::min<size_t>(20, rejections.size()));
  std::vector<std::string> expected_positions;
  for (const auto& r : rejections) {
    expected_positions.push_back(std::to_string(r["partition"].get<int64_t>()) + ":" +
                                 std::to_string(r["offset"].get<int64_t>()));
  }
  std::sort(expected_positions.begin(), expected_positions.end(),
            [](const std::string& a, const std::string& b) {
              return std::stoll(a.substr(a.find(':') + 1)) > std::stoll(b.substr(b.find(':') + 1));
            });
  for (size_t i = 0; i < latest.size(); ++i) {
    EXPECT_EQ(latest[i]["position"], expected_positions[i]) << i;
  }
  ASSERT_GE(figures["lag"].size(), 1u);
  for (const auto& partition : figures["lag"]) EXPECT_EQ(partition["events"], 0);
  EXPECT_GT(figures["http"]["requests_in_window"].get<int64_t>(), 0);
  EXPECT_FALSE(figures["http"]["p99_ms"].is_null());
  EXPECT_GT(figures["events_per_second"].get<double>(), 0.0);

  // /metrics: the lag per partition too.
  const auto text = http_get(server.url("/metrics"), "/metrics", {bearer(metrics)}).body;
  EXPECT_NE(text.find("homeward_projection_partition_lag_events{partition=\"0\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("homeward_projection_partition_lag_seconds{partition=\"0\"} 0"),
            std::string::npos);

  // A damaged report, then a real one (homeward audit --out beside serve).
  { std::ofstream(audit_dir / "report.json") << "{not json"; }
  figures = http_get(server.url("/v1/ops"), "/v1/ops", {bearer(read)}).json();
  EXPECT_TRUE(figures["audit"]["result"].is_null());
  EXPECT_NE(figures["audit"]["error"].get<std::string>().find("not a homeward audit report"),
            std::string::npos);
  // An audit writes only into an empty directory (it never overwrites evidence).
  std::filesystem::remove(audit_dir / "report.json");
  const auto audited = run_homeward(
      {"--data", (dir.path() / "data").string(), "--quiet", "audit", "--out", audit_dir.string()});
  ASSERT_EQ(audited.code, 0) << audited.err;
  std::ifstream in(audit_dir / "report.json");
  const json report = json::parse(in);
  figures = http_get(server.url("/v1/ops"), "/v1/ops", {bearer(read)}).json();
  EXPECT_EQ(figures["audit"]["result"], "pass");
  EXPECT_EQ(figures["audit"]["state_digest"], report["state_digest"]["value"]);
  EXPECT_EQ(figures["audit"]["generated_at"], report["generated_at"]);
  EXPECT_TRUE(figures["audit"]["error"].is_null());
  EXPECT_EQ(figures["audit"]["dir"], audit_dir.string());
}

}  // namespace
}  // namespace homeward
