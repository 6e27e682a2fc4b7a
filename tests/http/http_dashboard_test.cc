// The dashboard's HTTP side (docs/dashboard.md): the public page at / is
// HTML with its figures in it and headers that keep it to its own origin;
// the embedded assets answer with their content type, an ETag, a year of
// caching for a versioned URL and no-cache otherwise, 304 on If-None-Match;
// mistakes get problem documents. The page in a browser: tests/browser.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <fmt/core.h>
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

// A suite's ledger: its events published into dir_/data (exit code
// `published_code`), then served until the suite ends.
class ServedLedgerTest : public ::testing::Test {
 protected:
  static void serve_published(const std::filesystem::path& input, int published_code) {
    const auto data = dir_->path() / "data";
    const auto published =
        testing::run_homeward({"--data", data.string(), "publish", input.string()});
    ASSERT_EQ(published.code, published_code) << published.err;
    server_ = new ServeProcess(data, {}, dir_->path() / "serve.err");
    ASSERT_FALSE(server_->address().empty());
    ASSERT_TRUE(testing::wait_until_ready(server_->url("")));
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(SIGTERM), 0);
    }
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  static inline TempDir* dir_ = nullptr;
  static inline ServeProcess* server_ = nullptr;
};

class HttpDashboardTest : public ServedLedgerTest {
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
    // c<1> is not an identifier: refused by stage 1 (exit 3), the rest appended.
    serve_published(input, 3);
  }
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
  EXPECT_EQ(assets, 4);
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

// 300 cases, every third fully funded: a ledger whose every card on one page
// would weigh 600 KB.
class HttpDashboardPagingTest : public ServedLedgerTest {
 protected:
  static constexpr int kCases = 300;
  static std::string case_id(int i) { return fmt::format("case-{:04}", i); }
  static bool funded(int i) { return i % 3 == 0; }

  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto input = dir_->path() / "events.ndjson";
    std::ofstream out(input, std::ios::binary);
    for (int i = 0; i < kCases; ++i) {
      out << fmt::format(
          R"({{"type":"CaseOpened","event_id":"o{0}","occurred_at":"2015-06-01T08:00:00Z","case_id":"{1}","currency":"USD","budget":[{{"category":"shelter","amount":"60.00"}},{{"category":"repatriation","amount":"30.00"}},{{"category":"education","amount":"10.00"}}]}})"
          "\n",
          i, case_id(i));
      out << fmt::format(
          R"({{"type":"DonationReceived","event_id":"d{0}","occurred_at":"2015-06-03T10:00:00Z","case_id":"{1}","donor_ref":"donor-{0}","amount":"{2}","currency":"USD"}})"
          "\n",
          i, case_id(i), funded(i) ? "100.00" : "25.00");
    }
    out.close();
    serve_published(input, 0);
  }

  // Follows the "Next cases" links from `first`: the case ids of the cards
  // of each page visited, in order.
  static std::vector<std::vector<std::string>> walk(const std::string& first) {
    std::vector<std::vector<std::string>> pages;
    const std::regex card(
        R"re(<li class="case status-[a-z]+" id="[^"]+" data-case-id="([^"]+)")re");
    const std::regex next(R"re(<a rel="next" href="([^"#]+)#cases">)re");
    std::string url = first;
    while (!url.empty() && pages.size() <= kCases) {
      const auto page = http_get(server_->url(url), "/");
      EXPECT_EQ(page.status, 200) << url << ": " << page.body;
      EXPECT_LT(page.body.size(), 200u * 1024) << url;
      std::vector<std::string> ids;
      // The cards before the blank card of the <template> that public.js copies.
      const std::string list = page.body.substr(0, page.body.find("<template"));
      for (auto it = std::sregex_iterator(list.begin(), list.end(), card);
           it != std::sregex_iterator(); ++it) {
        ids.push_back((*it)[1]);
      }
      pages.push_back(ids);
      std::smatch link;
      url = std::regex_search(page.body, link, next)
                ? std::regex_replace(link[1].str(), std::regex("&amp;"), "&")
                : "";
    }
    return pages;
  }
};

TEST_F(HttpDashboardPagingTest, EachPageShowsAtMost24CardsAndItsLinksVisitEveryCaseOnceInOrder) {
  const auto pages = walk("/");
  ASSERT_EQ(pages.size(), 13u);  // 12 pages of 24, then 12
  std::vector<std::string> seen;
  for (const auto& page : pages) {
    EXPECT_LE(page.size(), 24u);
    seen.insert(seen.end(), page.begin(), page.end());
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kCases; ++i) expected.push_back(case_id(i));
  EXPECT_EQ(seen, expected);
  // The first page names the API's page of its cards for public.js, and a
  // later page the cursor that continues after the case before it.
  const auto first = http_get(server_->url("/"), "/");
  EXPECT_NE(first.body.find(R"(data-source="/v1/public/cases?limit=24")"), std::string::npos);
  EXPECT_NE(first.body.find(R"(data-last="case-0023")"), std::string::npos);
  EXPECT_EQ(first.body.find("First cases"), std::string::npos);
  const auto second = http_get(server_->url("/?after=case-0023"), "/");
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(second.body.find(R"(<a href="/#cases">First cases</a>)"), std::string::npos);
  const std::regex source(R"re(data-source="([^"]+)")re");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(second.body, match, source));
  const auto api_page =
      http_get(server_->url(std::regex_replace(match[1].str(), std::regex("&amp;"), "&")),
               "/v1/public/cases");
  ASSERT_EQ(api_page.status, 200) << api_page.body;
  const auto cases = nlohmann::json::parse(api_page.body);
  ASSERT_EQ(cases.size(), 24u);
  EXPECT_EQ(cases.front().at("case_id"), "case-0024");
  EXPECT_EQ(cases.back().at("case_id"), "case-0047");
}

TEST_F(HttpDashboardPagingTest, AStatusShowsOnlyItsCasesAndItsLinksKeepIt) {
  std::vector<std::string> expected;
  for (int i = 0; i < kCases; ++i) {
    if (funded(i)) expected.push_back(case_id(i));
  }
  std::vector<std::string> seen;
  for (const auto& page : walk("/?status=funded"))
    seen.insert(seen.end(), page.begin(), page.end());
  EXPECT_EQ(seen, expected);
  const auto page = http_get(server_->url("/?status=funded"), "/");
  EXPECT_NE(page.body.find(R"(<a href="/?status=funded#cases" aria-current="page">)"),
            std::string::npos);
  EXPECT_NE(page.body.find(R"(href="/?status=funded&amp;after=case-0069#cases")"),
            std::string::npos);
  const auto none = http_get(server_->url("/?status=closed"), "/");
  ASSERT_EQ(none.status, 200);
  EXPECT_NE(none.body.find("No closed case here."), std::string::npos);
  // Past the last case: no card, no next link.
  const auto past = http_get(server_->url("/?after=case-9999"), "/");
  ASSERT_EQ(past.status, 200);
  EXPECT_EQ(past.body.find("data-case-id=\"case-"), std::string::npos);
  EXPECT_EQ(past.body.find("rel=\"next\""), std::string::npos);
}

TEST_F(HttpDashboardPagingTest, ABadStatusOrAfterIsAProblemDocument) {
  for (const std::string query :
       {"?status=pending", "?after=a%20b", "?after=a%2Fb", "?after=%00", "?page=2"}) {
    const auto answer = http_get(server_->url("/" + query), "/");
    EXPECT_EQ(answer.status, 400) << query;
    EXPECT_EQ(answer.header("content-type"), "application/problem+json") << query;
  }
}

}  // namespace
}  // namespace homeward
