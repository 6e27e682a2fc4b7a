// Tokens and limits of `homeward serve --tokens FILE`, over real TCP on
// 127.0.0.1: the auth matrix (every route without a token, with a token
// that lacks its scope, with a wrong token and with the right scope), the
// per-token rate (429 with Retry-After), `homeward token create`, and serve
// refusing a non-loopback address without a tokens file.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "connectors/http/tokens.h"
#include "tests/http/support/http_client.h"
#include "tests/http/support/serve_process.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;
using testing::HttpClient;
using testing::HttpRequest;
using testing::run_homeward;
using testing::ServeProcess;
using testing::TempDir;

const std::string kOpened =
    R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"case-a","currency":"USD","goal":"100.00"})";
const std::string kGift =
    R"({"type":"DonationReceived","event_id":"e2","occurred_at":"2015-06-02T09:30:00Z","case_id":"case-a","donor_ref":"d-1","amount":"25.00","currency":"USD"})";

struct Created {
  std::string token;
  std::string line;
};

Created create_token(const std::string& name, const std::vector<std::string>& scopes,
                     const std::filesystem::path& append) {
  std::vector<std::string> args{"token", "create", "--name", name, "--append", append.string()};
  for (const std::string& scope : scopes) {
    args.push_back("--scope");
    args.push_back(scope);
  }
  const auto run = run_homeward(args);
  EXPECT_EQ(run.code, 0) << run.err;
  std::istringstream out(run.out);
  Created created;
  std::getline(out, created.token);
  std::getline(out, created.line);
  return created;
}

struct RouteCase {
  std::string method;
  std::string path;
  std::string scope;  // "" for public
  std::string route;  // the pattern, for the OpenAPI record
};

const std::vector<RouteCase> kRoutes{
    {"GET", "/livez", "", "/livez"},
    {"GET", "/readyz", "", "/readyz"},
    {"GET", "/v1/public/cases", "", "/v1/public/cases"},
    {"GET", "/v1/public/cases/case-a", "", "/v1/public/cases/{case_id}"},
    {"GET", "/v1/public/stats", "", "/v1/public/stats"},
    {"GET", "/v1/info", "read", "/v1/info"},
    {"GET", "/v1/ops", "read", "/v1/ops"},
    {"GET", "/ops", "", "/ops"},
    {"GET", "/v1/cases", "read", "/v1/cases"},
    {"GET", "/v1/cases/case-a", "read", "/v1/cases/{case_id}"},
    {"GET", "/v1/stats", "read", "/v1/stats"},
    {"GET", "/v1/rejections", "read", "/v1/rejections"},
    {"GET", "/v1/donors/d-1", "audit", "/v1/donors/{donor_ref}"},
    {"POST", "/v1/events", "publish", "/v1/events"},
    {"GET", "/metrics", "metrics", "/metrics"},
    {"GET", "/openapi.json", "", "/openapi.json"},
};

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<std::string> scopes{"read", "publish", "audit", "metrics"};
    for (const std::string& scope : scopes) {
      tokens_[scope] = create_token("only-" + scope, {scope}, tokens_file_).token;
    }
    tokens_["all"] = create_token("all", {"read,publish", "audit", "metrics"}, tokens_file_).token;
    // A case and a gift, so that every read has something to find.
    const auto published =
        run_homeward({"--data", data_.string(), "publish", "-"}, kOpened + "\n" + kGift + "\n");
    ASSERT_EQ(published.code, 0) << published.err;
  }

  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"--tokens", tokens_file_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServeProcess>(data_, args, dir_.path() / "serve.err");
    ASSERT_FALSE(server_->address().empty()) << "serve did not start";
    ASSERT_TRUE(testing::wait_until_ready(server_->url(""))) << "serve never became ready";
  }

  testing::HttpResponse call(const RouteCase& route, const std::string& token) {
    HttpClient client;
    HttpRequest request{route.method, server_->url(route.path), "", {}, 60'000, route.route};
    if (route.method == "POST") {
      request.body = kGift + "\n";
      request.headers.push_back("Content-Type: application/x-ndjson");
    }
    if (!token.empty()) request.headers.push_back("Authorization: Bearer " + token);
    return client.send(request);
  }

  TempDir dir_;
  std::filesystem::path data_ = dir_.path() / "data";
  std::filesystem::path tokens_file_ = dir_.path() / "tokens";
  std::map<std::string, std::string> tokens_;  // scope -> a token with only it; "all"
  std::unique_ptr<ServeProcess> server_;
};

TEST_F(HttpAuthTest, EveryRouteWithoutATokenWithAWrongScopeAndWithTheRightOne) {
  start();
  for (const RouteCase& route : kRoutes) {
    SCOPED_TRACE(route.method + " " + route.path);
    const auto anonymous = call(route, "");
    const auto forged = call(route, "hw_not-a-token-anyone-made");
    if (route.scope.empty()) {
      EXPECT_EQ(anonymous.status, 200) << anonymous.body;
      EXPECT_EQ(forged.status, 200) << forged.body;  // public: a token is not even read
      continue;
    }
    EXPECT_EQ(anonymous.status, 401) << anonymous.body;
    EXPECT_EQ(anonymous.header("content-type"), "application/problem+json");
    EXPECT_EQ(anonymous.header("www-authenticate"), "Bearer realm=\"homeward\"");
    EXPECT_EQ(anonymous.json()["type"], "https://homeward.example/problems/unauthorized");
    EXPECT_EQ(forged.status, 401) << forged.body;
    for (const auto& [scope, token] : tokens_) {
      const auto answer = call(route, token);
      if (scope == route.scope || scope == "all") {
        EXPECT_EQ(answer.status, 200) << scope << ": " << answer.body;
      } else {
        EXPECT_EQ(answer.status, 403) << scope << ": " << answer.body;
        EXPECT_EQ(answer.json()["type"], "https://homeward.example/problems/forbidden");
        EXPECT_EQ(answer.json()["scope"], route.scope);
      }
    }
  }
  // A scheme other than Bearer is no token.
  HttpClient client;
  const auto basic = client.send(HttpRequest{"GET",
                                             server_->url("/v1/stats"),
                                             "",
                                             {"Authorization: Basic " + tokens_["read"]},
                                             60'000,
                                             "/v1/stats"});
  EXPECT_EQ(basic.status, 401);
}

TEST_F(HttpAuthTest, ATokenOverItsRateGets429WithRetryAfter) {
  // 0.2 requests per second in bursts of one: the second request within five
  // seconds is over the rate.
  start({"--token-rate", "0.2"});
  const RouteCase stats{"GET", "/v1/stats", "read", "/v1/stats"};
  std::vector<long> statuses;
  testing::HttpResponse limited;
  for (int i = 0; i < 5; ++i) {
    const auto answer = call(stats, tokens_["read"]);
    statuses.push_back(answer.status);
    if (answer.status == 429) {
      limited = answer;
      break;
    }
  }
  ASSERT_EQ(limited.status, 429) << "statuses: " << fmt::format("{}", fmt::join(statuses, ","));
  EXPECT_GE(std::stoi(limited.header("retry-after")), 1);
  EXPECT_EQ(limited.json()["type"], "https://homeward.example/problems/too-many-requests");
  // Another token has its own rate; public routes have none.
  EXPECT_EQ(call(stats, tokens_["all"]).status, 200);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call({"GET", "/v1/public/stats", "", "/v1/public/stats"}, "").status, 200);
  }
}

TEST_F(HttpAuthTest, TokenCreatePrintsATokenAndALineWithOnlyItsHash) {
  const Created created = create_token("portal", {"publish", "read"}, dir_.path() / "t2");
  EXPECT_TRUE(created.token.starts_with("hw_"));
  EXPECT_EQ(created.token.size(), 46u);
  EXPECT_TRUE(created.line.starts_with("portal publish,read sha256:")) << created.line;
  EXPECT_EQ(created.line.find(created.token.substr(3)), std::string::npos);
  // The appended file is that line, readable by its owner only.
  std::ifstream file(dir_.path() / "t2");
  std::string line;
  std::getline(file, line);
  EXPECT_EQ(line, created.line);
  const auto perms = std::filesystem::status(dir_.path() / "t2").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::group_all, std::filesystem::perms::none);
  EXPECT_EQ(perms & std::filesystem::perms::others_all, std::filesystem::perms::none);
  // The table finds the token by it, and nothing else.
  auto table = connectors::http::TokenTable::parse(line);
  ASSERT_TRUE(table.has_value()) << table.error().message;
  const auto* identity = table->find(created.token);
  ASSERT_NE(identity, nullptr);
  EXPECT_EQ(identity->name, "portal");
  EXPECT_TRUE(identity->has(connectors::http::Scope::kPublish));
  EXPECT_FALSE(identity->has(connectors::http::Scope::kAudit));
  EXPECT_EQ(table->find(created.token + "x"), nullptr);
  EXPECT_EQ(table->find(""), nullptr);
  // Two tokens are never the same.
  EXPECT_NE(create_token("other", {"read"}, dir_.path() / "t3").token, created.token);
  EXPECT_EQ(run_homeward({"token", "create", "--name", "x", "--scope", "root"}).code, 2);
  EXPECT_EQ(run_homeward({"token", "create", "--name", "a b", "--scope", "read"}).code, 2);
}

TEST_F(HttpAuthTest, ABadTokensFileIsRefusedWithItsLine) {
  for (const std::string& text :
       {std::string("# only a comment\n"), std::string("a read sha256:abc\n"),
        std::string("a root sha256:" + std::string(64, '0') + "\n"),
        std::string("a read sha256:" + std::string(64, '0') +
                    "\na read sha256:" + std::string(64, '1') + "\n")}) {
    auto table = connectors::http::TokenTable::parse(text);
    EXPECT_FALSE(table.has_value()) << text;
  }
  const auto file = dir_.path() / "bad-tokens";
  std::ofstream(file) << "portal read\n";
  const auto run = run_homeward(
      {"--data", data_.string(), "serve", "--tokens", file.string(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("line 1"), std::string::npos) << run.err;
}

TEST_F(HttpAuthTest, ANonLoopbackAddressNeedsATokensFile) {
  const auto run = run_homeward({"--data", data_.string(), "serve", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("--tokens"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace homeward
