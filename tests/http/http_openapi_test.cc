// docs/openapi.json against the server: GET /openapi.json serves exactly the
// document in docs/, and the checker that every other HTTP test runs on its
// responses (support/openapi_check.h) does catch a response that differs
// from it, so the description cannot drift from the server unnoticed.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/openapi_check.h"
#include "tests/http/support/serve_process.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using testing::OpenApiCheck;

TEST(HttpOpenApiTest, TheServedDocumentIsTheOneInDocs) {
  testing::TempDir dir;
  testing::ServeProcess server(dir.path() / "data", {}, dir.path() / "serve.err");
  ASSERT_FALSE(server.address().empty());
  ASSERT_TRUE(testing::wait_until_ready(server.url("")));
  const auto served = testing::http_get(server.url("/openapi.json"), "/openapi.json");
  ASSERT_EQ(served.status, 200);
  std::ifstream in(HOMEWARD_OPENAPI_DOC);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(served.body, text.str());
  const auto doc = nlohmann::json::parse(served.body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST(HttpOpenApiTest, TheCheckerCatchesWhatTheDocumentDoesNotSay) {
  const OpenApiCheck& check = OpenApiCheck::instance();
  const std::string good =
      R"({"cases":{"total":1,"open":1,"funded":0,"closed":0,"ever_fully_funded":0},"donations":1,)"
      R"("donors":1,"by_currency":{"USD":{"raised":"25.00","goal":"100.00"}},"median_days_to_fully_funded":null})";
  EXPECT_TRUE(check.check("/v1/public/stats", "GET", 200, "application/json", good).empty());
  // A member too many, a wrong type, a missing member, a finer time.
  std::string extra = good;
  extra.insert(extra.size() - 1, R"(,"donor_ref":"d-1")");
  EXPECT_FALSE(check.check("/v1/public/stats", "GET", 200, "application/json", extra).empty());
  std::string wrong = good;
  wrong.replace(wrong.find(R"("donations":1)"), 13, R"("donations":"1")");
  EXPECT_FALSE(check.check("/v1/public/stats", "GET", 200, "application/json", wrong).empty());
  EXPECT_FALSE(check.check("/v1/public/stats", "GET", 200, "application/json", "{}").empty());
  const std::string public_case =
      R"({"case_id":"c","currency":"USD","status":"open","goal":"1.00","raised":"0.00",)"
      R"("remaining":"1.00","percent_funded":0,"supporters":0,"opened_on":"2015-06-01",)"
      R"("fully_funded_on":null,"closed_on":null,"budget":{}})";
  EXPECT_TRUE(check.check("/v1/public/cases/{case_id}", "GET", 200, "application/json", public_case)
                  .empty());
  std::string timed = public_case;
  timed.replace(timed.find("2015-06-01"), 10, "2015-06-01T08:00:00Z");
  EXPECT_FALSE(
      check.check("/v1/public/cases/{case_id}", "GET", 200, "application/json", timed).empty());
  // An undescribed route, method, status or content type.
  EXPECT_FALSE(check.check("/v1/nowhere", "GET", 200, "application/json", "{}").empty());
  EXPECT_FALSE(check.check("/v1/stats", "DELETE", 200, "application/json", "{}").empty());
  EXPECT_FALSE(check.check("/v1/stats", "GET", 418, "application/json", "{}").empty());
  EXPECT_FALSE(check.check("/v1/stats", "GET", 200, "text/html", "<p>").empty());
}

}  // namespace
}  // namespace homeward
