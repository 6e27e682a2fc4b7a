// The dashboard's HTTP side (docs/dashboard.md): the public page at / is
// HTML with its figures in it and headers that keep it to its own origin;
// the embedded assets answer with their content type, an ETag, a year of
// caching for a versioned URL and no-cache otherwise, 304 on If-None-Match;
// mistakes get problem documents. The page in a browser: tests/browser.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/serve_process.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using testing::http_get;
using testing::ServeProcess;
using testing::TempDir;

class HttpDashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto input = dir_->path() / "events.ndjson";
    std::ofstream(input, std::ios::binary)
        << R"({"type":"CaseOpened","event_id":"o1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c<1>","currency":"USD","goal":"100.00"})"
           "\n"
        << R"({"type":"CaseOpened","event_id":"o2","occurred_at":"2015-06-01T08:00:00Z","case_id":"case-b","currency":"JPY","budget":[{"category":"shelter","amount":"5000"}]})"
           "\n"
        << R"({"type":"DonationReceived","event_id":"d1","occurred_at":"2015-06-02T10:00:00Z","case_id":"case-b","donor_ref":"secret-donor","amount":"6000","currency":"JPY"})"
           "\n";
    const auto data = dir_->path() / "data";
    // c<1> is not an identifier: refused by stage 1 (exit 3), the rest appended.
    const auto published =
        testing::run_homeward({"--data", data.string(), "publish", input.string()});
    ASSERT_EQ(published.code, 3) << published.err;
    server_ = new ServeProcess(data, {}, dir_->path() / "serve.err");
    ASSERT_FALSE(server_->address().empty());
    ASSERT_TRUE(testing::wait_until_ready(server_->url("")));
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(SIGTERM), 0);
    }
    delete server_;
    delete dir_;
  }
  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* server_ = nullptr;
};

TEST_F(HttpDashboardTest, ThePublicPageIsHtmlWithItsFiguresAndStaysOnItsOrigin) {
  const auto page = http_get(server_->url("/"), "/");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  EXPECT_NE(page.header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.header("content-security-policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  // The case's figures as the API writes them, with no JavaScript needed.
  EXPECT_NE(page.body.find(R"(data-case-id="case-b")"), std::string::npos);
  EXPECT_NE(page.body.find(R"(<span class="amount" data-field="raised">6000</span>)"),
            std::string::npos);
  EXPECT_NE(page.body.find(R"(<span data-field="percent_funded">120</span>)"), std::string::npos);
  EXPECT_NE(page.body.find(R"(<span data-field="fully_funded_on">2015-06-02</span>)"),
            std::string::npos);
  EXPECT_NE(page.body.find(R"(<li data-category="shelter"><span class="category">shelter</span>)"),
            std::string::npos);
  EXPECT_EQ(page.body.find("secret-donor"), std::string::npos);
  EXPECT_EQ(page.body.find("d1"), std::string::npos);
  EXPECT_FALSE(std::regex_search(page.body, std::regex("[0-9]{2}:[0-9]{2}")));
  // Every script, style and icon is one of the server's own assets.
  const std::regex linked(R"re((src|href)="([^"]*)")re");
  int assets = 0;
  for (auto it = std::sregex_iterator(page.body.begin(), page.body.end(), linked);
       it != std::sregex_iterator(); ++it) {
    const std::string url = (*it)[2];
    EXPECT_TRUE(url.starts_with("/") || url.starts_with("#")) << url;
    if (!url.starts_with("/assets/")) continue;
    ++assets;
    const auto asset = http_get(server_->url(url), "/assets/{file}");
    EXPECT_EQ(asset.status, 200) << url;
    EXPECT_EQ(asset.header("cache-control"), "public, max-age=31536000, immutable") << url;
  }
  EXPECT_EQ(assets, 3);
  const auto fragment = http_get(server_->url("/fragments/raised"), "/fragments/raised");
  ASSERT_EQ(fragment.status, 200);
  EXPECT_NE(page.body.find(fragment.body), std::string::npos)
      << "the chart's fragment is the page's own chart section";
  EXPECT_EQ(http_get(server_->url("/?x=1"), "/").status, 400);
}

TEST_F(HttpDashboardTest, AssetsAreCachedByVersionAndRevalidatedOtherwise) {
  const auto css = http_get(server_->url("/assets/public.css"), "/assets/{file}");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(css.header("cache-control"), "no-cache");
  const std::string etag = css.header("etag");
  ASSERT_EQ(etag.size(), 66u) << etag;  // a quoted SHA-256
  const auto js = http_get(server_->url("/assets/public.js?v=0000000000000000"), "/assets/{file}");
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "no-cache") << "an old version must be revalidated";
  const auto again =
      http_get(server_->url("/assets/public.css"), "/assets/{file}", {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  EXPECT_EQ(again.header("etag"), etag);
  const auto changed =
      http_get(server_->url("/assets/public.css"), "/assets/{file}", {"If-None-Match: \"other\""});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, css.body);
  const auto missing = http_get(server_->url("/assets/nothing.js"), "/assets/{file}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("content-type"), "application/problem+json");
  EXPECT_EQ(http_get(server_->url("/assets/../public.css"), "/assets/{file}").status, 404);
  EXPECT_EQ(http_get(server_->url("/assets/public.css?w=1"), "/assets/{file}").status, 400);
}

}  // namespace
}  // namespace homeward
