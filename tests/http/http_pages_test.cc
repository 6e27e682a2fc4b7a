// Walking the paged routes of `homeward serve` (/v1/cases, /v1/public/cases,
// /v1/rejections) page by page while another thread POSTs events that open
// cases before, between and after the ones listed, change and close existing
// cases and add rejections. Over real TCP on 127.0.0.1 with libcurl, on the
// embedded log and on a Kafka topic (mock cluster).
//
// What a walk during arrivals guarantees (docs/http.md, "Pages"), checked on
// every walk: each entry at most once, in the list's order; every entry that
// existed before the walk began (and, with a status filter, a case that had
// that status and cannot leave it: `closed`); and every entry added before a
// page was asked for that sorts after that page's cursor. The walker asks the
// writer for one more POST with its first page, its second and every few
// pages after, waiting at each such point for the one before to be answered,
// so that events arrive during every walk (between its first two pages at
// least) whatever the machine's speed; the writer's requests and the
// walker's pages run at the same time. Bounded: at most 400 POSTs and 20,000
// pages per walk.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "tests/http/support/http_client.h"
#include "tests/http/support/serve_process.h"
#include "tests/http/support/test_log.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;
using testing::http_get;
using testing::http_post;
using testing::ServeProcess;
using testing::TempDir;

// The order of a list: a case by its case_id (partition and offset 0), a
// rejection by case_id, then partition, then offset.
using Key = std::tuple<std::string, int32_t, int64_t>;

std::string key_text(const Key& key) {
  return fmt::format("{}/{}/{}", std::get<0>(key), std::get<1>(key), std::get<2>(key));
}

Key case_key(const json& item) { return {item["case_id"].get<std::string>(), 0, 0}; }
Key rejection_key(const json& item) {
  return {item["case_id"].get<std::string>(), item["partition"].get<int32_t>(),
          item["offset"].get<int64_t>()};
}
// A `P:O` position of POST /v1/events's results, as the key of a rejection.
Key rejection_key_at(const std::string& case_id, const std::string& position) {
  const size_t colon = position.find(':');
  return {case_id, std::stoi(position.substr(0, colon)), std::stoll(position.substr(colon + 1))};
}

constexpr int kInitialCases = 120;  // m-000 .. m-119; every fourth closed
constexpr int kMaxPosts = 400;

std::string event(const std::string& type, const std::string& id, const std::string& case_id,
                  const std::string& fields) {
  return fmt::format(
             R"({{"type":"{}","event_id":"{}","occurred_at":"2015-06-01T08:00:00Z","case_id":"{}"{}}})",
             type, id, case_id, fields) +
         "\n";
}
std::string opened(const std::string& id, const std::string& case_id) {
  return event("CaseOpened", id, case_id, R"(,"currency":"USD","goal":"100.00")");
}
std::string gift(const std::string& id, const std::string& case_id) {
  return event("DonationReceived", id, case_id,
               R"(,"donor_ref":"d-1","amount":"30.00","currency":"USD")");
}
std::string closed(const std::string& id, const std::string& case_id) {
  return event("CaseClosed", id, case_id, R"(,"reason":"completed")");
}
std::string initial_case(int n) { return fmt::format("m-{:03}", n % kInitialCases); }

// What an answered POST added: each case it opened and each rejection, with
// the number of answered POSTs once it was answered.
struct Arrival {
  Key key;
  int64_t answered;
};

// The other thread: one POST (wait=outcome, so that the projections hold it
// when the answer comes) each time the walker asks. Post number r opens
// z-R (after every listed case), a-R (before them) and m-K-R (between two),
// gives to an existing case (so that it may become funded), sends gifts to
// two cases never opened (unknown_case; zz-ghost-R after every listed
// rejection) and a second CaseOpened of an existing case (case_exists), and
// every third one closes an existing case.
class ArrivalWriter {
 public:
  explicit ArrivalWriter(const ServeProcess& server)
      : server_(server), thread_([this] { run(); }) {}
  ~ArrivalWriter() { stop(); }

  // One more POST, to be sent at once by the writer thread.
  void ask_for_one() {
    std::lock_guard lock(mutex_);
    if (asked_ < kMaxPosts) ++asked_;
    changed_.notify_all();
  }
  // Waits until every POST asked for so far is answered (or the writer
  // failed, or 60 s passed).
  void wait_for_answers() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(60),
                      [this] { return answered_ == asked_ || failed_; });
  }
  [[nodiscard]] int64_t answered() const {
    std::lock_guard lock(mutex_);
    return answered_;
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      changed_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }
  // After stop().
  [[nodiscard]] const std::vector<Arrival>& cases() const { return cases_; }
  [[nodiscard]] const std::vector<Arrival>& rejections() const { return rejections_; }
  [[nodiscard]] const std::string& failure() const { return failure_; }

 private:
  void run() {
    for (int r = 0;; ++r) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || asked_ > r; });
        if (asked_ <= r) return;
      }
      std::vector<std::string> case_ids;  // of each line
      std::string body;
      auto add = [&](const std::string& line, const std::string& case_id) {
        body += line;
        case_ids.push_back(case_id);
      };
      const std::string w = fmt::format("w{}-", r);
      add(opened(w + "z", fmt::format("z-{:04}", r)), fmt::format("z-{:04}", r));
      add(opened(w + "a", fmt::format("a-{:04}", r)), fmt::format("a-{:04}", r));
      const std::string between = fmt::format("{}-{:04}", initial_case(r * 37), r);
      add(opened(w + "m", between), between);
      add(gift(w + "g", initial_case(r * 7)), initial_case(r * 7));
      add(gift(w + "u", fmt::format("g-{:04}", r)), fmt::format("g-{:04}", r));
      add(gift(w + "y", fmt::format("zz-ghost-{:04}", r)), fmt::format("zz-ghost-{:04}", r));
      add(opened(w + "o", initial_case(r * 11)), initial_case(r * 11));
      if (r % 3 == 0) add(closed(w + "c", initial_case(r * 13)), initial_case(r * 13));
      const auto answer = http_post(server_.url("/v1/events?wait=outcome&wait_ms=30000"), body,
                                    "application/x-ndjson", "/v1/events");
      std::lock_guard lock(mutex_);
      if (answer.status != 200) {
        failure_ = fmt::format("POST {} answered {}: {}", r, answer.status, answer.body);
        failed_ = true;
        changed_.notify_all();
        return;
      }
      const json results = answer.json()["results"];
      const int64_t answered = answered_ + 1;
      for (size_t i = 0; i < results.size() && i < case_ids.size(); ++i) {
        if (i < 3) cases_.push_back({Key{case_ids[i], 0, 0}, answered});
        if (results[i]["outcome"] == "rejected") {
          rejections_.push_back(
              {rejection_key_at(case_ids[i], results[i]["position"].get<std::string>()), answered});
        }
      }
      answered_ = answered;
      changed_.notify_all();
    }
  }

  const ServeProcess& server_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t asked_ = 0;
  int64_t answered_ = 0;
  bool stopping_ = false;
  bool failed_ = false;
  std::string failure_;
  std::vector<Arrival> cases_;
  std::vector<Arrival> rejections_;
  std::thread thread_;  // last: started once everything it uses is built
};

// One page as the walker asked for it.
struct PageAsked {
  int64_t answered_before;   // POSTs answered when it was asked for
  std::optional<Key> after;  // the last key of the pages before it
};

struct Walk {
  std::vector<json> items;
  std::vector<Key> keys;
  std::vector<PageAsked> pages;
  std::string failure;
};

class HttpPagesTest : public ::testing::TestWithParam<testing::LogKind> {
 protected:
  void SetUp() override {
    log_ = std::make_unique<testing::TestLog>(GetParam(), dir_.path());
    server_ = log_->serve({}, dir_.path() / "serve.err");
    ASSERT_FALSE(server_->address().empty()) << "serve did not start";
    ASSERT_TRUE(testing::wait_until_ready(server_->url(""))) << "serve never became ready";
    // The ledger before any walk: the cases m-NNN, every fourth closed, and
    // rejections in some of them and in cases never opened.
    std::string body;
    for (int n = 0; n < kInitialCases; ++n) {
      const std::string id = initial_case(n);
      body += opened(fmt::format("i{}", n), id);
      if (n % 4 == 0) body += closed(fmt::format("ic{}", n), id);
      if (n % 5 == 0) body += opened(fmt::format("ir{}", n), id);  // case_exists
      if (n % 3 == 0) body += gift(fmt::format("iu{}", n), fmt::format("g-init-{:03}", n));
    }
    const auto answer = http_post(server_->url("/v1/events?wait=outcome&wait_ms=30000"), body,
                                  "application/x-ndjson", "/v1/events");
    ASSERT_EQ(answer.status, 200) << answer.body;
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(SIGTERM), 0);
    }
  }

  // Every entry of `path` now, in one page.
  std::vector<json> everything(const std::string& path, const std::string& route) {
    const auto answer = http_get(server_->url(path + sep(path) + "limit=10000"), route);
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(answer.header("homeward-next-cursor"), "");
    std::vector<json> items;
    for (const json& item : answer.json()) items.push_back(item);
    return items;
  }

  // The walker asks for a POST every this many pages. Fewer on Kafka, where
  // a POST's outcome takes over a second on the mock cluster (1.2 s measured
  // with the default fetch.wait.max.ms of 100, 0.1 s with 10), so that a
  // test stays within seconds.
  int gate_pages() const { return log_->is_kafka() ? 60 : 6; }

  // Walks `path` (with its filter) by pages of `limit`, following each
  // page's cursor, asking the writer for a POST every gate_pages() pages.
  Walk walk(const std::string& path, const std::string& route, int limit,
            Key (*key_of)(const json&), ArrivalWriter& writer) {
    Walk walk;
    const std::string base = path.substr(0, path.find('?'));
    std::string next = path + sep(path) + fmt::format("limit={}", limit);
    for (int page = 0; !next.empty() && page < 20'000; ++page) {
      // A POST asked for with the first page, and at every gate after: the
      // one asked for before is answered first, so that something arrives
      // between the first two pages of every walk and then every few pages.
      if (page == 1 || page % gate_pages() == 0) {
        if (page > 0) writer.wait_for_answers();
        writer.ask_for_one();
      }
      walk.pages.push_back(
          {writer.answered(), walk.keys.empty() ? std::nullopt : std::optional(walk.keys.back())});
      const auto answer = http_get(server_->url(next), route);
      if (answer.status != 200) {
        walk.failure = fmt::format("{}: {} {}", next, answer.status, answer.body);
        return walk;
      }
      const json items = answer.json();
      if (items.size() > static_cast<size_t>(limit)) walk.failure = "a page over its limit";
      for (const json& item : items) {
        walk.items.push_back(item);
        walk.keys.push_back(key_of(item));
      }
      const std::string cursor = answer.header("homeward-next-cursor");
      next = cursor.empty() ? "" : fmt::format("{}?limit={}&cursor={}", base, limit, cursor);
    }
    if (!next.empty()) walk.failure = "the walk did not end within 20,000 pages";
    return walk;
  }

  // The guarantees of a walk during arrivals. `before`: what existed before
  // it (and must all appear); `arrivals`: what the writer added (each must
  // appear when added before a page was asked for whose cursor it sorts
  // after), or empty when the filter lets arrivals pass or not.
  static void expect_walk_guarantees(const Walk& walk, const std::set<Key>& before,
                                     const std::set<Key>& known,
                                     const std::vector<Arrival>& arrivals) {
    ASSERT_EQ(walk.failure, "");
    // Each at most once, in the list's order.
    for (size_t i = 1; i < walk.keys.size(); ++i) {
      ASSERT_LT(walk.keys[i - 1], walk.keys[i])
          << "entry " << i << " out of order or repeated: " << key_text(walk.keys[i - 1])
          << " then " << key_text(walk.keys[i]);
    }
    const std::set<Key> seen(walk.keys.begin(), walk.keys.end());
    // Nothing that no one added.
    for (const Key& key : seen) EXPECT_TRUE(known.contains(key)) << key_text(key);
    // Everything that was there before.
    for (const Key& key : before) EXPECT_TRUE(seen.contains(key)) << "missing " << key_text(key);
    // Everything added before a page was asked for, after that page's cursor.
    int64_t arrived_during_and_seen = 0;
    for (const Arrival& arrival : arrivals) {
      for (const PageAsked& page : walk.pages) {
        if (page.answered_before < arrival.answered) continue;
        // The first page asked for once it was in the projections.
        if (!page.after || arrival.key > *page.after) {
          EXPECT_TRUE(seen.contains(arrival.key))
              << "added before a page after whose cursor it sorts, and not listed: "
              << key_text(arrival.key);
        }
        break;
      }
      if (arrival.answered > walk.pages.front().answered_before && seen.contains(arrival.key)) {
        ++arrived_during_and_seen;
      }
    }
    // One added between the first two pages sorts after every entry.
    if (!arrivals.empty() && walk.pages.size() >= 2) {
      EXPECT_GT(arrived_during_and_seen, 0) << "no entry added during the walk was listed";
    }
  }

  static std::string sep(const std::string& path) {
    return path.find('?') == std::string::npos ? "?" : "&";
  }
  static std::set<Key> keys_of(const std::vector<json>& items, Key (*key_of)(const json&),
                               const std::string& status = "") {
    std::set<Key> keys;
    for (const json& item : items) {
      if (status.empty() || item["status"] == status) keys.insert(key_of(item));
    }
    return keys;
  }
  static std::set<Key> with_arrivals(std::set<Key> keys, const std::vector<Arrival>& arrivals) {
    for (const Arrival& arrival : arrivals) keys.insert(arrival.key);
    return keys;
  }

  // Walks the case list `path` with each limit while events arrive.
  void walk_cases_during_arrivals(const std::string& path, const std::string& route,
                                  const std::vector<int>& limits) {
    const std::vector<json> all_before = everything(path, route);
    ASSERT_EQ(all_before.size(), static_cast<size_t>(kInitialCases));
    const std::set<Key> before = keys_of(all_before, case_key);
    const std::set<Key> closed_before = keys_of(all_before, case_key, "closed");
    ASSERT_FALSE(closed_before.empty());
    std::vector<std::pair<std::string, Walk>> walks;
    ArrivalWriter writer(*server_);
    for (const int limit : limits) {
      walks.emplace_back(fmt::format("{} limit {}", path, limit),
                         walk(path, route, limit, case_key, writer));
    }
    // A closed case stays closed: a walk of the closed ones lists every case
    // closed before it began.
    const std::string closed_path = path + "?status=closed";
    walks.emplace_back(closed_path, walk(closed_path, route, 3, case_key, writer));
    writer.stop();
    ASSERT_EQ(writer.failure(), "");
    const std::set<Key> known = with_arrivals(before, writer.cases());
    for (size_t i = 0; i + 1 < walks.size(); ++i) {
      SCOPED_TRACE(walks[i].first);
      expect_walk_guarantees(walks[i].second, before, known, writer.cases());
    }
    SCOPED_TRACE(walks.back().first);
    expect_walk_guarantees(walks.back().second, closed_before, before, {});
    for (const json& item : walks.back().second.items) EXPECT_EQ(item["status"], "closed");
    // The writer's cases are all there now, each once.
    const std::set<Key> after = keys_of(everything(path, route), case_key);
    EXPECT_EQ(after, known);
  }

  TempDir dir_;
  std::unique_ptr<testing::TestLog> log_;
  std::unique_ptr<ServeProcess> server_;
};

INSTANTIATE_TEST_SUITE_P(Logs, HttpPagesTest,
                         ::testing::Values(testing::LogKind::kEmbedded, testing::LogKind::kKafka),
                         testing::log_kind_name);

TEST_P(HttpPagesTest, WalkingCasePagesWhileEventsArriveListsEachCaseOnceInOrder) {
  walk_cases_during_arrivals("/v1/cases", "/v1/cases", {1, 7, 50});
}

TEST_P(HttpPagesTest, WalkingPublicCasePagesWhileEventsArriveListsEachCaseOnceInOrder) {
  walk_cases_during_arrivals("/v1/public/cases", "/v1/public/cases", {1, 13});
}

TEST_P(HttpPagesTest, WalkingRejectionPagesWhileEventsArriveListsEachRejectionOnceInOrder) {
  const std::set<Key> before =
      keys_of(everything("/v1/rejections", "/v1/rejections"), rejection_key);
  ASSERT_GT(before.size(), 20u);
  std::vector<std::pair<int, Walk>> walks;
  ArrivalWriter writer(*server_);
  for (const int limit : {1, 4, 50}) {
    walks.emplace_back(limit,
                       walk("/v1/rejections", "/v1/rejections", limit, rejection_key, writer));
  }
  writer.stop();
  ASSERT_EQ(writer.failure(), "");
  const std::set<Key> known = with_arrivals(before, writer.rejections());
  for (const auto& [limit, walked] : walks) {
    SCOPED_TRACE(fmt::format("limit {}", limit));
    expect_walk_guarantees(walked, before, known, writer.rejections());
  }
  const std::set<Key> after =
      keys_of(everything("/v1/rejections", "/v1/rejections"), rejection_key);
  EXPECT_EQ(after, known);
}

}  // namespace
}  // namespace homeward
