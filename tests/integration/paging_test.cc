// Pages of cases and rejections (projections/paging.h): every page size walks
// every record exactly once and in the list's order, a status filter keeps
// exactly the cases of that status, a cursor need not exist, and `next` is
// set exactly when more records follow. Then the same through the CLI over
// 100,000 generated cases, where the paged documents must add up to the
// unpaged one and the unpaged one must stay what list_cases gives.
#include "projections/paging.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/generator.h"
#include "engine/case_ledger.h"
#include "projections/json_output.h"
#include "projections/read_models/point_in_time.h"
#include "tests/integration/projection_test_support.h"
#include "tests/reports/reports_test_support.h"
#include "tests/support/cli_runner.h"

namespace homeward {
namespace {

using engine::CaseStatus;
using projections::CaseQuery;
using projections::CaseView;
using projections::RejectionKey;
using projections::RejectionQuery;
using testing::Projected;

std::vector<std::string> ids(const std::vector<CaseView>& cases) {
  std::vector<std::string> out;
  for (const CaseView& c : cases) out.push_back(c.case_id);
  return out;
}

// 30 cases of case_stream's variants (funded or closed), two open cases
// that sort after them, a case that never opened and sorts after every
// opened one ("ghost"), and malformed records, some of which reveal no case.
std::unique_ptr<Projected> rich_store() {
  std::vector<engine::AppendRequest> records;
  for (const events::Event& event : testing::interleave(testing::rich_case_streams(30), 11)) {
    records.push_back(testing::request_for(event));
  }
  for (const std::string case_id : {"case-open-0", "case-open-1"}) {
    records.push_back(
        testing::request_for(testing::in_case(testing::opened("o", 100000), case_id)));
    records.push_back(
        testing::request_for(testing::in_case(testing::donation("d", "d-1", 2500), case_id)));
  }
  records.push_back({"", "", events::EventType::kCaseOpened});
  records.push_back({"case-3", "not flatbuffers", events::EventType::kCaseOpened});
  return testing::project_records(records);
}

// Follows `next` from the start; checks each page but the last is full.
std::vector<CaseView> walk_cases(const projections::RocksProjectionStore& store, CaseQuery query,
                                 int* pages = nullptr) {
  std::vector<CaseView> all;
  int count = 0;
  for (;;) {
    auto page = projections::query_cases(store, query);
    EXPECT_TRUE(page.has_value()) << page.error().message;
    if (!page) break;
    ++count;
    EXPECT_LE(page->cases.size(), query.limit.value_or(SIZE_MAX));
    all.insert(all.end(), page->cases.begin(), page->cases.end());
    if (!page->next) break;
    EXPECT_EQ(page->cases.size(), *query.limit) << "a page before the last is full";
    EXPECT_EQ(*page->next, page->cases.back().case_id);
    query.after = *page->next;
    if (count > 1000) {
      ADD_FAILURE() << "paging does not end";
      break;
    }
  }
  if (pages != nullptr) *pages = count;
  return all;
}

TEST(CasePaging, EveryPageSizeWalksEveryOpenedCaseOnceInOrder) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  auto listed = p->store->list_cases();
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 32u);  // "ghost" never opened: not a case
  for (size_t limit : {1, 2, 7, 31, 32, 33, 1000}) {
    int pages = 0;
    const auto walked = walk_cases(*p->store, CaseQuery{.limit = limit}, &pages);
    EXPECT_EQ(ids(walked), ids(*listed)) << "limit " << limit;
    EXPECT_EQ(pages, static_cast<int>((32 + limit - 1) / limit)) << "limit " << limit;
    for (size_t i = 0; i < walked.size(); ++i) {
      EXPECT_EQ(walked[i].summary, (*listed)[i].summary);
    }
  }
}

TEST(CasePaging, LastPageHasNoNextEvenWhenFull) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  auto page = projections::query_cases(*p->store, CaseQuery{.limit = 32});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->cases.size(), 32u);
  EXPECT_FALSE(page->next.has_value());
  // The never-opened "ghost" sorts after every opened case: it must not make
  // the page look as if more cases followed.
  page = projections::query_cases(*p->store, CaseQuery{.after = "case-open-0", .limit = 1});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(page->cases), std::vector<std::string>{"case-open-1"});
  EXPECT_FALSE(page->next.has_value());
}

TEST(CasePaging, StatusFilterKeepsExactlyTheCasesOfThatStatus) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  auto listed = p->store->list_cases();
  ASSERT_TRUE(listed.has_value());
  size_t seen = 0;
  for (CaseStatus status : {CaseStatus::kOpen, CaseStatus::kFunded, CaseStatus::kClosed}) {
    std::vector<std::string> expected;
    for (const CaseView& c : *listed) {
      if (c.summary.status() == status) expected.push_back(c.case_id);
    }
    ASSERT_FALSE(expected.empty()) << "the rich stream has cases of every status";
    seen += expected.size();
    auto all = projections::query_cases(*p->store, CaseQuery{.status = status});
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(ids(all->cases), expected);
    EXPECT_FALSE(all->next.has_value());
    EXPECT_EQ(ids(walk_cases(*p->store, CaseQuery{.status = status, .limit = 2})), expected);
  }
  EXPECT_EQ(seen, listed->size());
}

TEST(CasePaging, CursorNeedNotNameAnExistingCase) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  // "case-1" < "case-10" < ... < "case-19" < "case-1a" < "case-2": bytewise.
  auto page = projections::query_cases(*p->store, CaseQuery{.after = "case-1a", .limit = 2});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(page->cases), (std::vector<std::string>{"case-2", "case-20"}));
  EXPECT_EQ(page->next, "case-20");
  page = projections::query_cases(*p->store, CaseQuery{.after = "case-1", .limit = 1});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(ids(page->cases), std::vector<std::string>{"case-10"}) << "strictly after the cursor";
  page = projections::query_cases(*p->store, CaseQuery{.after = "zzz"});
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->cases.empty());
  EXPECT_FALSE(page->next.has_value());
}

TEST(CasePaging, BadQueriesAreRefusedNotGuessed) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  auto zero = projections::query_cases(*p->store, CaseQuery{.limit = 0});
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  auto bad = projections::query_cases(*p->store, CaseQuery{.after = "a b"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  auto bad_rejections =
      projections::query_rejections(*p->store, RejectionQuery{.limit = size_t{0}});
  ASSERT_FALSE(bad_rejections.has_value());
}

TEST(CasePaging, AsOfPagesAreThePagesOfTheCasesAsTheyStoodThen) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  for (int h : {3, 20, 1000}) {
    auto expected = projections::cases_as_of(*p->store, testing::hour(h));
    ASSERT_TRUE(expected.has_value());
    for (CaseStatus status : {CaseStatus::kOpen, CaseStatus::kFunded, CaseStatus::kClosed}) {
      std::vector<CaseView> filtered;
      for (const CaseView& c : *expected) {
        if (c.summary.status() == status) filtered.push_back(c);
      }
      CaseQuery query{.status = status, .limit = 3};
      std::vector<CaseView> walked;
      for (int guard = 0; guard < 100; ++guard) {
        auto page = projections::query_cases_as_of(*p->store, query, testing::hour(h));
        ASSERT_TRUE(page.has_value()) << page.error().message;
        walked.insert(walked.end(), page->cases.begin(), page->cases.end());
        if (!page->next) break;
        EXPECT_EQ(page->cases.size(), 3u);
        query.after = *page->next;
      }
      ASSERT_EQ(ids(walked), ids(filtered)) << "hour " << h;
      for (size_t i = 0; i < walked.size(); ++i) {
        EXPECT_EQ(walked[i].summary, filtered[i].summary);
      }
    }
  }
}

TEST(RejectionPaging, EveryPageSizeWalksEveryRejectionOnceInOrder) {
  auto p = rich_store();
  ASSERT_NE(p, nullptr);
  auto listed = p->store->list_rejections();
  ASSERT_TRUE(listed.has_value());
  ASSERT_GT(listed->size(), 30u);
  ASSERT_TRUE(listed->front().case_id.empty()) << "a malformed record without a case sorts first";
  for (size_t limit : {size_t{1}, size_t{5}, listed->size(), listed->size() + 1}) {
    RejectionQuery query{.limit = limit};
    std::vector<engine::RejectionRecord> walked;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = projections::query_rejections(*p->store, query);
      ASSERT_TRUE(page.has_value()) << page.error().message;
      walked.insert(walked.end(), page->rejections.begin(), page->rejections.end());
      if (!page->next) break;
      EXPECT_EQ(page->rejections.size(), limit);
      // The cursor goes out as text and comes back, as on the command line.
      auto parsed =
          projections::parse_rejection_cursor(projections::format_rejection_cursor(*page->next));
      ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
      EXPECT_EQ(*parsed, *page->next);
      query.after = *parsed;
    }
    EXPECT_EQ(walked, *listed) << "limit " << limit;
  }
}

TEST(RejectionPaging, CursorsAreCaseIdPartitionOffsetAndNothingElse) {
  auto key = projections::parse_rejection_cursor("case-1/0/42");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*key, (RejectionKey{"case-1", Partition(0), Offset(42)}));
  key = projections::parse_rejection_cursor("/2/7");  // a malformed record with no case
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*key, (RejectionKey{"", Partition(2), Offset(7)}));
  key = projections::parse_rejection_cursor("a:b.c/1/0");  // ':' and '.' are identifier bytes
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->case_id, "a:b.c");
  for (const char* bad : {"", "case-1", "case-1/0", "/", "//", "case-1/x/1", "case-1/0/-1",
                          "case-1/-1/0", "case 1/0/1", "case-1/0/1 ", "case-1/01/1",
                          "case-1/0/99999999999999999999", "case-1/4294967296/0"}) {
    auto parsed = projections::parse_rejection_cursor(bad);
    EXPECT_FALSE(parsed.has_value()) << bad;
    if (!parsed) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad;
    }
  }
}

// --------------------------------------------------- the CLI at 100,000 cases

struct GeneratedLedger {
  testing::TempDir dir;
  std::string data;
};

// `cases` cases opened by `events` generated events, published by the CLI.
std::unique_ptr<GeneratedLedger> generated_ledger(int64_t events, int64_t cases) {
  auto l = std::make_unique<GeneratedLedger>();
  l->data = (l->dir.path() / "data").string();
  std::ostringstream stream;
  auto summary = bench::generate({.events = events, .cases = cases, .seed = 5}, stream);
  EXPECT_TRUE(summary.has_value());
  const auto published = testing::run_homeward({"--data", l->data, "publish", "-"}, stream.str());
  EXPECT_EQ(published.code, 0) << published.err;
  return l;
}

// Made once per process (ctest runs each test in a process of its own).
GeneratedLedger& hundred_thousand_cases() {
  static const std::unique_ptr<GeneratedLedger> ledger = generated_ledger(150'000, 100'000);
  return *ledger;
}

nlohmann::json run_json(const std::vector<std::string>& args) {
  const auto run = testing::run_homeward(args);
  EXPECT_EQ(run.code, 0) << run.err;
  return nlohmann::json::parse(run.out);
}

TEST(CliPaging, PagesOfAHundredThousandCasesAddUpToTheWholeList) {
  const std::string& data = hundred_thousand_cases().data;
  const auto whole = testing::run_homeward({"--data", data, "cases", "--json"});
  ASSERT_EQ(whole.code, 0) << whole.err;
  // Without the paging options the document is byte for byte what the
  // store's full list gives (SPEC section 7's array, as before paging).
  {
    auto store = testing::open_store(std::filesystem::path(data) / "projections");
    ASSERT_NE(store, nullptr);
    auto listed = store->list_cases();
    ASSERT_TRUE(listed.has_value());
    ASSERT_EQ(listed->size(), 100'000u);
    EXPECT_EQ(whole.out, projections::cases_json(*listed).dump() + "\n");
  }
  const nlohmann::json all = nlohmann::json::parse(whole.out);
  ASSERT_TRUE(all.is_array());

  nlohmann::json walked = nlohmann::json::array();
  std::string after;
  int pages = 0;
  for (; pages < 100; ++pages) {
    std::vector<std::string> args = {"--data", data, "cases", "--json", "--limit", "7000"};
    if (!after.empty()) args.insert(args.end(), {"--after", after});
    const nlohmann::json page = run_json(args);
    ASSERT_TRUE(page.is_object());
    ASSERT_TRUE(page.contains("next"));
    for (const auto& c : page["cases"]) walked.push_back(c);
    if (page["next"].is_null()) break;
    ASSERT_EQ(page["cases"].size(), 7000u);
    after = page["next"].get<std::string>();
    ASSERT_EQ(after, page["cases"].back()["case_id"].get<std::string>());
  }
  EXPECT_EQ(pages + 1, 15);  // 14 full pages of 7,000 and one of 2,000
  EXPECT_EQ(walked, all);
}

TEST(CliPaging, StatusPagesOfAHundredThousandCasesAreTheFilteredList) {
  const std::string& data = hundred_thousand_cases().data;
  const nlohmann::json all = run_json({"--data", data, "cases", "--json"});
  for (const std::string status : {"open", "funded", "closed"}) {
    nlohmann::json expected = nlohmann::json::array();
    for (const auto& c : all) {
      if (c["status"] == status) expected.push_back(c);
    }
    // --status alone keeps the plain array.
    EXPECT_EQ(run_json({"--data", data, "cases", "--json", "--status", status}), expected);
    nlohmann::json walked = nlohmann::json::array();
    std::string after;
    for (int guard = 0; guard < 200; ++guard) {
      std::vector<std::string> args = {"--data",   data,   "cases",   "--json",
                                       "--status", status, "--limit", "20000"};
      if (!after.empty()) args.insert(args.end(), {"--after", after});
      const nlohmann::json page = run_json(args);
      for (const auto& c : page["cases"]) walked.push_back(c);
      if (page["next"].is_null()) break;
      after = page["next"].get<std::string>();
    }
    EXPECT_EQ(walked, expected) << status;
  }
}

TEST(CliPaging, RejectionPagesAddUpToTheWholeList) {
  const std::string& data = hundred_thousand_cases().data;
  const auto whole = testing::run_homeward({"--data", data, "rejections", "--json"});
  ASSERT_EQ(whole.code, 0);
  const nlohmann::json all = nlohmann::json::parse(whole.out);
  ASSERT_GT(all.size(), 100u);
  nlohmann::json walked = nlohmann::json::array();
  std::string after;
  for (int guard = 0; guard < 1000; ++guard) {
    std::vector<std::string> args = {"--data", data, "rejections", "--json", "--limit", "100"};
    if (!after.empty()) args.insert(args.end(), {"--after", after});
    const nlohmann::json page = run_json(args);
    for (const auto& r : page["rejections"]) walked.push_back(r);
    if (page["next"].is_null()) break;
    after = page["next"].get<std::string>();
    const auto& last = page["rejections"].back();
    EXPECT_EQ(after, fmt::format("{}/{}/{}", last["case_id"].get<std::string>(),
                                 last["partition"].get<int>(), last["offset"].get<int64_t>()));
  }
  EXPECT_EQ(walked, all);
}

TEST(CliPaging, HumanTablesSayWhereTheNextPageStarts) {
  const auto ledger = generated_ledger(300, 100);
  const std::string& data = ledger->data;
  const nlohmann::json first = run_json({"--data", data, "cases", "--json", "--limit", "2"});
  const auto run = testing::run_homeward({"--data", data, "cases", "--limit", "2"});
  ASSERT_EQ(run.code, 0);
  EXPECT_NE(run.out.find(first["cases"][0]["case_id"].get<std::string>()), std::string::npos);
  EXPECT_NE(run.out.find("the next page starts with --after " + first["next"].get<std::string>()),
            std::string::npos)
      << run.out;
}

TEST(CliPaging, BadPagingOptionsAreUsageErrors) {
  const auto ledger = generated_ledger(300, 100);
  const std::string& data = ledger->data;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"cases", "--limit", "0"},
           {"cases", "--limit", "-1"},
           {"cases", "--limit", "ten"},
           {"cases", "--status", "pending"},
           {"cases", "--after", "not an id"},
           {"rejections", "--after", "case-1"},
           {"rejections", "--limit", "0"},
       }) {
    std::vector<std::string> full = {"--data", data};
    full.insert(full.end(), args.begin(), args.end());
    const auto run = testing::run_homeward(full);
    EXPECT_EQ(run.code, 2) << args[1] << " " << args[2];
    EXPECT_TRUE(run.out.empty());
    EXPECT_NE(run.err.find(args[1]), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace homeward
