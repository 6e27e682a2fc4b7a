// The change streams of `homeward serve` over real TCP on 127.0.0.1 with
// libcurl: GET /v1/changes gives one message per case a round changed, with
// the figures of that round; a client that disconnects and resumes with
// Last-Event-ID sees every message exactly once (the same messages, in the
// same order, as a client that stayed); GET /v1/public/changes carries only
// the public view, at most once per case per window.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/serve_process.h"
#include "tests/http/support/sse_client.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;
using testing::http_get;
using testing::http_post;
using testing::ServeProcess;
using testing::SseClient;
using testing::SseMessage;
using testing::TempDir;

std::string opened(const std::string& id, const std::string& case_id) {
  return fmt::format(
      R"({{"type":"CaseOpened","event_id":"{}","occurred_at":"2015-06-01T08:00:00Z","case_id":"{}","currency":"USD","goal":"100.00"}})",
      id, case_id);
}
std::string gift(const std::string& id, const std::string& case_id, const std::string& donor) {
  return fmt::format(
      R"({{"type":"DonationReceived","event_id":"{}","occurred_at":"2015-06-02T09:30:45Z","case_id":"{}","donor_ref":"{}","amount":"1.00","currency":"USD"}})",
      id, case_id, donor);
}

class HttpChangesTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& extra = {}) {
    server_ = std::make_unique<ServeProcess>(data_, extra, dir_.path() / "serve.err");
    ASSERT_FALSE(server_->address().empty()) << "serve did not start";
    ASSERT_TRUE(testing::wait_until_ready(server_->url(""))) << "serve never became ready";
  }
  // Publishes and waits for the outcomes; the position after it.
  std::string post(const std::string& body) {
    const auto answer = http_post(server_->url("/v1/events?wait=outcome"), body,
                                  "application/x-ndjson", "/v1/events");
    EXPECT_EQ(answer.status, 200) << answer.body;
    return answer.json()["min_position"];
  }
  std::unique_ptr<SseClient> watch(const std::string& path, std::vector<std::string> headers = {}) {
    auto client = std::make_unique<SseClient>(server_->url(path), std::move(headers));
    EXPECT_TRUE(client->wait_connected());
    return client;
  }
  static bool has_id(const std::vector<SseMessage>& messages, const std::string& id) {
    for (const SseMessage& m : messages) {
      if (m.id == id) return true;
    }
    return false;
  }

  TempDir dir_;
  std::filesystem::path data_ = dir_.path() / "data";
  std::unique_ptr<ServeProcess> server_;
};

TEST_F(HttpChangesTest, EachRoundSendsEveryChangedCaseWithItsFiguresOfThatRound) {
  start();
  auto client = watch("/v1/changes");
  const std::string first = post(opened("e1", "case-a") + "\n" + opened("e2", "case-b") + "\n" +
                                 gift("e3", "case-a", "d-1"));
  ASSERT_TRUE(client->wait_until([&](const auto& m) { return has_id(m, first + ";case-b"); }));
  // The figures of that round are the case documents now (nothing else came).
  for (const std::string id : {"case-a", "case-b"}) {
    const auto document = http_get(server_->url("/v1/cases/" + id), "/v1/cases/{case_id}");
    bool found = false;
    for (const SseMessage& m : client->messages()) {
      if (m.id != first + ";" + id) continue;
      found = true;
      EXPECT_EQ(m.event, "case");
      EXPECT_EQ(m.data + "\n", document.body);
    }
    EXPECT_TRUE(found) << id;
  }
  // A round that changes one case sends one message, for that case.
  const std::string second = post(gift("e4", "case-b", "d-2"));
  ASSERT_TRUE(client->wait_until([&](const auto& m) { return has_id(m, second + ";case-b"); }));
  int for_second = 0;
  for (const SseMessage& m : client->messages()) {
    for_second += m.id.starts_with(second + ";") ? 1 : 0;
  }
  EXPECT_EQ(for_second, 1);
  EXPECT_EQ(json::parse(client->messages().back().data)["donations"], 1);
  // A watcher does not hold up a graceful stop.
  EXPECT_EQ(server_->stop(SIGTERM), 0);
}

TEST_F(HttpChangesTest, AClientThatResumesWithLastEventIdSeesEveryChangeExactlyOnce) {
  start();
  auto stayed = watch("/v1/changes");
  auto first = watch("/v1/changes");
  int event = 0;
  // Rounds of several cases each.
  auto round = [&](int n) {
    std::string body;
    for (int c = 0; c < 4; ++c) {
      const std::string case_id = fmt::format("case-{}", (n + c) % 6);
      if (n == 0) body += opened(fmt::format("o{}", c), case_id) + "\n";
      body += gift(fmt::format("g{}", event++), case_id, fmt::format("d-{}", c)) + "\n";
    }
    return post(body);
  };
  for (int n = 0; n < 3; ++n) {
    const std::string at = round(n);
    ASSERT_TRUE(first->wait_until(
        [&](const auto& m) { return !m.empty() && m.back().id.starts_with(at + ";"); }));
  }
  first->stop();
  const std::vector<SseMessage> before = first->messages();
  ASSERT_FALSE(before.empty());
  // Changes while it is away.
  for (int n = 3; n < 8; ++n) round(n);
  auto resumed = watch("/v1/changes", {"Last-Event-ID: " + before.back().id});
  const std::string end = post(opened("last", "zz-final"));
  const std::string last_id = end + ";zz-final";
  ASSERT_TRUE(resumed->wait_until([&](const auto& m) { return has_id(m, last_id); }));
  ASSERT_TRUE(stayed->wait_until([&](const auto& m) { return has_id(m, last_id); }));
  std::vector<SseMessage> joined = before;
  for (const SseMessage& m : resumed->messages()) joined.push_back(m);
  EXPECT_EQ(joined, stayed->messages());
  std::set<std::string> ids;
  for (const SseMessage& m : joined) EXPECT_TRUE(ids.insert(m.id).second) << m.id;
  // An id the stream does not know: told to read the figures again.
  auto lost = watch("/v1/changes", {"Last-Event-ID: 0:1;nowhere"});
  ASSERT_TRUE(lost->wait_until([](const auto& m) { return !m.empty(); }));
  EXPECT_EQ(lost->messages().front().event, "reset");
}

TEST_F(HttpChangesTest, ResumingFromAnyMessageOfARoundContinuesJustAfterIt) {
  start();
  auto stayed = watch("/v1/changes");
  // Three rounds of four cases each: twelve messages, most of them in the
  // middle of their round.
  std::string last;
  for (int n = 0; n < 3; ++n) {
    std::string body;
    for (int c = 0; c < 4; ++c) {
      const std::string case_id = fmt::format("case-{}", c);
      if (n == 0) body += opened(fmt::format("o{}", c), case_id) + "\n";
      body += gift(fmt::format("g{}-{}", n, c), case_id, fmt::format("d-{}", c)) + "\n";
    }
    last = post(body) + ";case-3";
    ASSERT_TRUE(stayed->wait_until([&](const auto& m) { return has_id(m, last); }));
  }
  const std::vector<SseMessage> all = stayed->messages();
  ASSERT_GE(all.size(), 12u);
  // A client resuming from each of them, then one more round for all.
  std::vector<std::unique_ptr<SseClient>> resumed;
  for (size_t k = 0; k < all.size(); ++k) {
    resumed.push_back(watch("/v1/changes", {"Last-Event-ID: " + all[k].id}));
  }
  const std::string final_id = post(opened("last", "zz-final")) + ";zz-final";
  ASSERT_TRUE(stayed->wait_until([&](const auto& m) { return has_id(m, final_id); }));
  const std::vector<SseMessage> everything = stayed->messages();
  for (size_t k = 0; k < all.size(); ++k) {
    SCOPED_TRACE("resumed after " + all[k].id);
    ASSERT_TRUE(resumed[k]->wait_until([&](const auto& m) { return has_id(m, final_id); }));
    // Every message after that one, once, in order, and nothing before it.
    const std::vector<SseMessage> expected(everything.begin() + static_cast<std::ptrdiff_t>(k) + 1,
                                           everything.end());
    EXPECT_EQ(resumed[k]->messages(), expected);
  }
}

TEST_F(HttpChangesTest, APublicWatcherThatResumesWithLastEventIdSeesEveryWindowOnce) {
  start({"--public-window-ms", "200"});
  auto stayed = watch("/v1/public/changes");
  auto first = watch("/v1/public/changes");
  post(opened("o1", "case-a") + "\n" + opened("o2", "case-b"));
  for (int i = 0; i < 4; ++i) post(gift(fmt::format("g{}", i), i % 2 ? "case-a" : "case-b", "d-7"));
  // At least one window seen whole (its stats message), then away.
  ASSERT_TRUE(
      first->wait_until([](const auto& m) { return !m.empty() && m.back().event == "stats"; }));
  first->stop();
  const std::vector<SseMessage> before = first->messages();
  // Changes while it is away, over more than one window.
  for (int i = 4; i < 8; ++i) {
    post(gift(fmt::format("g{}", i), i % 2 ? "case-a" : "case-b", "d-7"));
    const size_t seen = stayed->messages().size();
    ASSERT_TRUE(stayed->wait_until([&](const auto& m) { return m.size() > seen; }));
  }
  auto resumed = watch("/v1/public/changes", {"Last-Event-ID: " + before.back().id});
  post(opened("last", "zz-final"));
  auto has_final = [](const std::vector<SseMessage>& messages) {
    for (const SseMessage& m : messages) {
      if (m.id.ends_with(";zz-final")) return true;
    }
    return false;
  };
  ASSERT_TRUE(stayed->wait_until(has_final));
  ASSERT_TRUE(resumed->wait_until(has_final));
  // Up to the final case's message: the same messages, each once, in order.
  auto up_to_final = [](std::vector<SseMessage> messages) {
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].id.ends_with(";zz-final")) {
        messages.resize(i + 1);
        break;
      }
    }
    return messages;
  };
  std::vector<SseMessage> joined = before;
  for (const SseMessage& m : resumed->messages()) joined.push_back(m);
  EXPECT_EQ(up_to_final(joined), up_to_final(stayed->messages()));
  EXPECT_GT(resumed->messages().size(), 2u) << "the windows it was away for";
}

TEST_F(HttpChangesTest, ThePublicStreamCarriesThePublicViewAtMostOncePerCasePerWindow) {
  start({"--public-window-ms", "300"});
  auto watcher = watch("/v1/public/changes");
  post(opened("o1", "case-a") + "\n" + opened("o2", "case-b"));
  // Gifts in many small requests: far more changes than windows.
  for (int i = 0; i < 40; ++i)
    post(gift(fmt::format("g{}", i), i % 2 ? "case-a" : "case-b", "d-7"));
  const std::string final_a =
      http_get(server_->url("/v1/public/cases/case-a"), "/v1/public/cases/{case_id}").body;
  ASSERT_TRUE(watcher->wait_until([&](const auto& messages) {
    for (const SseMessage& m : messages) {
      if (m.event == "case" && m.data + "\n" == final_a) return true;
    }
    return false;
  }));
  std::map<std::string, std::set<std::string>> cases_per_window;
  static const std::regex time_of_day("[0-9]{2}:[0-9]{2}");
  int case_messages = 0;
  for (const SseMessage& m : watcher->messages()) {
    SCOPED_TRACE(m.id + " " + m.data);
    const size_t semicolon = m.id.find(';');
    ASSERT_NE(semicolon, std::string::npos);
    const std::string window = m.id.substr(0, semicolon);
    const std::string what = m.id.substr(semicolon + 1);
    EXPECT_TRUE(cases_per_window[window].insert(what).second) << "twice in one window";
    EXPECT_FALSE(std::regex_search(m.data, time_of_day));
    EXPECT_EQ(m.data.find("d-7"), std::string::npos);
    EXPECT_EQ(m.data.find("\"g1"), std::string::npos);
    const json data = json::parse(m.data);
    if (m.event == "case") {
      ++case_messages;
      EXPECT_FALSE(data.contains("donors") || data.contains("events_rejected"));
      EXPECT_TRUE(data.contains("raised") && data.contains("percent_funded"));
    } else {
      EXPECT_EQ(m.event, "stats");
      EXPECT_EQ(what, "stats");
      EXPECT_TRUE(data.contains("median_days_to_fully_funded"));
      EXPECT_FALSE(data.contains("events"));
    }
  }
  EXPECT_GE(case_messages, 2);
  // The public stream needs no token and has no position.
  EXPECT_EQ(watcher->messages().front().id.find("0:"), std::string::npos);
}

}  // namespace
}  // namespace homeward
