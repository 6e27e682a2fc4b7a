// Replaying the same log always gives the same state, byte for byte (SPEC
// 1.1), whatever the batch size, however often it is stopped and resumed; and
// per-case order is all that matters (SPEC 1.2): logs that interleave the
// same per-case streams differently give the same figures.
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/projector.h"
#include "tests/integration/projection_test_support.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {
namespace {

// A fresh log holding `records` and a fresh, empty store, each in its own
// temp dir; `log` or `store` is null when it could not be opened.
struct FreshLedger {
  explicit FreshLedger(const std::vector<AppendRequest>& records)
      : log(open_log(log_dir.path())), store(open_store(store_dir.path())) {
    if (log != nullptr) append_records(*log, records);
  }
  [[nodiscard]] bool opened() const { return log != nullptr && store != nullptr; }

  TempDir log_dir;
  TempDir store_dir;
  std::unique_ptr<EmbeddedLog> log;
  std::unique_ptr<RocksProjectionStore> store;
};

// Projects `records` from a fresh log into a fresh store.
StoreDump project_fresh(const std::vector<AppendRequest>& records, size_t batch) {
  FreshLedger fresh(records);
  if (!fresh.opened()) return {};
  auto report = project(*fresh.log, *fresh.store, batch);
  EXPECT_TRUE(report.has_value()) << report.error().message;
  return dump_store(*fresh.store);
}

std::vector<AppendRequest> events_only(uint32_t seed) {
  std::vector<AppendRequest> records;
  for (const Event& event : interleave(rich_case_streams(), seed)) {
    records.push_back(request_for(event));
  }
  return records;
}

// The rejection list without log positions, which differ between logs.
nlohmann::json without_offsets(const std::string& rejections) {
  nlohmann::json list = nlohmann::json::parse(rejections);
  for (nlohmann::json& rejection : list) rejection.erase("offset");
  return list;
}

TEST(ProjectorDeterminismTest, SameLogTwiceGivesByteIdenticalStores) {
  const auto records = rich_log_records();
  const StoreDump first = project_fresh(records, 50);
  const StoreDump second = project_fresh(records, 50);
  ASSERT_FALSE(first.records.empty());
  expect_same_dump(second, first);
}

TEST(ProjectorDeterminismTest, BatchSizeDoesNotChangeTheStore) {
  const auto records = rich_log_records();
  const StoreDump reference = project_fresh(records, 1000);
  ASSERT_FALSE(reference.records.empty());
  for (const size_t batch : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, size_t{100'000}}) {
    SCOPED_TRACE(batch);
    expect_same_dump(project_fresh(records, batch), reference);
  }
}

// Batches that grow with the number of cases (the CLI's setting) commit
// fewer, larger batches and leave the same store.
TEST(ProjectorDeterminismTest, BatchesGrowWithTheCasesHeldAndLeaveTheSameStore) {
  const auto records = rich_log_records();
  const StoreDump reference = project_fresh(records, 4);
  FreshLedger fresh(records);
  ASSERT_TRUE(fresh.opened());
  engine::Projector projector(
      *fresh.log, *fresh.store,
      {.batch_events_max = 4, .batch_events_per_case = 8, .batch_events_cap = 1'000});
  auto report = projector.catch_up();
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->events_read, static_cast<int64_t>(records.size()));
  // Fixed batches of 4 would need one commit per 4 records.
  EXPECT_LT(report->batches_committed, static_cast<int64_t>(records.size() / 4));
  expect_same_dump(dump_store(*fresh.store), reference);
}

// A case cache of one byte drops every case after each commit, so each
// batch loads its cases again from the store (folding their histories): the
// store must come out byte for byte as with the whole ledger in memory.
TEST(ProjectorDeterminismTest, ATinyCaseCacheEvictsAndLeavesTheSameStore) {
  const auto records = rich_log_records();
  const StoreDump unbounded = project_fresh(records, 5);
  ASSERT_FALSE(unbounded.records.empty());
  FreshLedger fresh(records);
  ASSERT_TRUE(fresh.opened());
  FaultyStore counting(*fresh.store, {});  // no faults: counts the loads
  engine::Projector projector(*fresh.log, counting, {.batch_events_max = 5, .case_cache_bytes = 1});
  auto report = projector.catch_up();
  ASSERT_TRUE(report.has_value()) << report.error().message;
  // Nine cases (rich_case_streams): an unbounded cache loads each once.
  EXPECT_GT(counting.load_cases(), 9 * 10);
  expect_same_dump(dump_store(*fresh.store), unbounded);
}

// The bound holds after every commit: with room for about three of the nine
// cases, the cache never holds more bytes than its bound once a batch is
// committed, and still holds some cases (the most recent ones).
TEST(ProjectorDeterminismTest, TheCaseCacheStaysWithinItsBoundAfterEveryCommit) {
  const auto records = rich_log_records();
  size_t largest_case = 0;
  {
    FreshLedger unbounded(records);
    ASSERT_TRUE(unbounded.opened());
    engine::Projector projector(*unbounded.log, *unbounded.store, {.batch_events_max = 5});
    ASSERT_TRUE(projector.catch_up().has_value());
    EXPECT_EQ(projector.cached_cases(), 9u);  // rich_case_streams: nine cases, all kept
    largest_case = projector.cached_case_bytes() / projector.cached_cases();
  }
  FreshLedger fresh(records);
  ASSERT_TRUE(fresh.opened());
  const size_t bound = 3 * largest_case;
  engine::Projector projector(*fresh.log, *fresh.store,
                              {.batch_events_max = 5, .case_cache_bytes = bound});
  int commits = 0;
  auto report = projector.catch_up([&](const auto&...) {
    ++commits;
    EXPECT_LE(projector.cached_case_bytes(), bound) << "after commit " << commits;
  });
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_GT(commits, 10);
  EXPECT_LE(projector.cached_case_bytes(), bound);
  EXPECT_GT(projector.cached_cases(), 0u);
  EXPECT_LT(projector.cached_cases(), 9u);
}

TEST(ProjectorDeterminismTest, InterleavingOfCasesDoesNotChangeTheFigures) {
  const StoreDump reference = project_fresh(events_only(1), 13);
  ASSERT_FALSE(reference.cases.empty());
  const nlohmann::json cases = nlohmann::json::parse(reference.cases);
  ASSERT_EQ(cases.size(), 8u);  // the ghost case never opened
  for (const uint32_t seed : {2u, 3u, 99u}) {
    SCOPED_TRACE(seed);
    const StoreDump other = project_fresh(events_only(seed), 13);
    EXPECT_EQ(other.cases, reference.cases);
    EXPECT_EQ(other.impact, reference.impact);
    EXPECT_EQ(without_offsets(other.rejections), without_offsets(reference.rejections));
  }
}

TEST(ProjectorDeterminismTest, InterleavingsReallyDiffer) {
  // Guards the test above: it must compare different logs, not one log
  // three times.
  const auto a = events_only(1);
  const auto b = events_only(2);
  ASSERT_EQ(a.size(), b.size());
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i].value != b[i].value ? 1 : 0;
  EXPECT_GT(differing, a.size() / 2);
}

TEST(ProjectorDeterminismTest, ChainHeadMatchesAnIndependentSha256Chain) {
  const auto records = rich_log_records();
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  ASSERT_NE(log, nullptr);
  ASSERT_NE(store, nullptr);
  append_records(*log, records);
  ASSERT_TRUE(project(*log, *store, 33).has_value());

  // head_n = SHA-256(head_{n-1} || offset_n big-endian || value_n), computed
  // here with one-shot EVP_Digest over the concatenation.
  std::array<unsigned char, 32> head{};
  for (size_t i = 0; i < records.size(); ++i) {
    std::string input(reinterpret_cast<const char*>(head.data()), head.size());
    for (int shift = 56; shift >= 0; shift -= 8) {
      input.push_back(static_cast<char>((static_cast<uint64_t>(i) >> shift) & 0xff));
    }
    input += records[i].value;
    unsigned int size = 0;
    ASSERT_EQ(EVP_Digest(input.data(), input.size(), head.data(), &size, EVP_sha256(), nullptr), 1);
  }
  auto checkpoints = store->load_checkpoints();
  ASSERT_TRUE(checkpoints.has_value());
  ASSERT_EQ(checkpoints->size(), 1u);
  const engine::PartitionCheckpoint& checkpoint = checkpoints->at(Partition{0});
  EXPECT_EQ(checkpoint.next_offset, Offset{static_cast<int64_t>(records.size())});
  EXPECT_TRUE(std::equal(head.begin(), head.end(), checkpoint.chain_head.begin()));
}

TEST(ProjectorDeterminismTest, MalformedRecordsAreListedAndNeverEnterACase) {
  // An event with an amount of 0 encodes fine but fails stage 1 on decode,
  // so its identity can be read; it must not make the valid event with the
  // same id a duplicate, nor count in the case's counters.
  Event bad = in_case(donation("e-2", "d-1", 0), "case-a");
  std::vector<AppendRequest> records = {
      request_for(in_case(opened("e-1", 1000), "case-a")),
      request_for(bad),
      {"case-b", "garbage", events::EventType::kCaseOpened},
      {"bad key!", "", events::EventType::kCaseOpened},
      request_for(in_case(donation("e-2", "d-1", 250), "case-a")),
  };
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  ASSERT_NE(log, nullptr);
  ASSERT_NE(store, nullptr);
  append_records(*log, records);
  ASSERT_TRUE(project(*log, *store, 2).has_value());

  auto totals = store->load_totals();
  ASSERT_TRUE(totals.has_value());
  EXPECT_EQ(totals->applied, 2);
  EXPECT_EQ(totals->duplicates, 0);
  EXPECT_EQ(totals->rejected, 3);
  EXPECT_EQ(totals->rejected_by_reason[static_cast<size_t>(engine::RejectReason::kMalformed)], 3);

  auto found = store->find_case("case-a");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->received, MinorUnits(250));
  EXPECT_EQ((*found)->events_applied, 2);
  EXPECT_EQ((*found)->events_rejected, 0);

  auto rejections = store->list_rejections();
  ASSERT_TRUE(rejections.has_value());
  ASSERT_EQ(rejections->size(), 3u);
  // Sorted by case_id: "" (no case revealed) first, then case-a, case-b.
  const engine::RejectionRecord& anonymous = (*rejections)[0];
  EXPECT_EQ(anonymous.case_id, "");
  EXPECT_EQ(anonymous.event_id, "");
  EXPECT_EQ(anonymous.type, std::nullopt);
  EXPECT_EQ(anonymous.offset, Offset{3});
  EXPECT_EQ(anonymous.reason, engine::RejectReason::kMalformed);
  EXPECT_FALSE(anonymous.detail.empty());

  const engine::RejectionRecord& zero_amount = (*rejections)[1];
  EXPECT_EQ(zero_amount.case_id, "case-a");
  EXPECT_EQ(zero_amount.event_id, "e-2");
  EXPECT_EQ(zero_amount.type, events::EventType::kDonationReceived);
  EXPECT_EQ(zero_amount.offset, Offset{1});
  EXPECT_NE(zero_amount.detail.find("amount"), std::string::npos) << zero_amount.detail;

  const engine::RejectionRecord& garbage = (*rejections)[2];
  EXPECT_EQ(garbage.case_id, "case-b");  // from the record key
  EXPECT_EQ(garbage.event_id, "");
  EXPECT_EQ(garbage.offset, Offset{2});
  EXPECT_FALSE(garbage.detail.empty());

  auto unopened = store->find_case("case-b");
  ASSERT_TRUE(unopened.has_value());
  EXPECT_FALSE(unopened->has_value());
}

// SPEC principle 2: a case lives in one partition because every record's key
// is its case_id. A record keyed otherwise (or not at all) is malformed: it is
// listed under the case its bytes name, and never counts in that case.
TEST(ProjectorDeterminismTest, RecordWhoseKeyIsNotItsCaseIdIsMalformed) {
  const Event opened_a = in_case(opened("e-1", 1000), "case-a");
  const Event misplaced = in_case(donation("e-2", "d-1", 300), "case-a");
  const Event keyless = in_case(donation("e-3", "d-2", 400), "case-a");
  const Event odd_key = in_case(donation("e-4", "d-3", 500), "case-a");
  std::vector<AppendRequest> records = {
      request_for(opened_a),
      {"case-b", events::encode_event(misplaced), misplaced.type()},
      {"", events::encode_event(keyless), keyless.type()},
      {std::string("\0\xff key", 6), events::encode_event(odd_key), odd_key.type()},
      request_for(in_case(donation("e-5", "d-1", 250), "case-a")),
  };
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  ASSERT_NE(log, nullptr);
  ASSERT_NE(store, nullptr);
  append_records(*log, records);
  ASSERT_TRUE(project(*log, *store, 2).has_value());

  auto found = store->find_case("case-a");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->received, MinorUnits(250));
  EXPECT_EQ((*found)->donations, 1);
  EXPECT_EQ((*found)->events_applied, 2);
  EXPECT_EQ((*found)->events_rejected, 0);

  auto rejections = store->list_rejections();
  ASSERT_TRUE(rejections.has_value());
  ASSERT_EQ(rejections->size(), 3u);
  const std::vector<std::string> details = {
      "key: \"case-b\" is not the record's case_id \"case-a\"",
      "key: is missing; a record's key must be its case_id \"case-a\"",
      "key: is not the record's case_id \"case-a\" (6 bytes that are not an identifier)",
  };
  for (size_t i = 0; i < rejections->size(); ++i) {
    const engine::RejectionRecord& rejection = (*rejections)[i];
    EXPECT_EQ(rejection.case_id, "case-a");
    EXPECT_EQ(rejection.event_id, "e-" + std::to_string(i + 2));
    EXPECT_EQ(rejection.offset, Offset{static_cast<int64_t>(i + 1)});
    EXPECT_EQ(rejection.reason, engine::RejectReason::kMalformed);
    EXPECT_EQ(rejection.detail, details[i]);
  }
  auto unopened = store->find_case("case-b");
  ASSERT_TRUE(unopened.has_value());
  EXPECT_FALSE(unopened->has_value());
}

TEST(ProjectorDeterminismTest, ProgressReportsEventsReadAndLagAfterEachCommit) {
  std::vector<AppendRequest> records;
  for (int i = 0; i < 35; ++i) {
    records.push_back(request_for(donation("e-" + std::to_string(i), "d-1", 100)));
  }
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  ASSERT_NE(log, nullptr);
  ASSERT_NE(store, nullptr);
  append_records(*log, records);

  engine::Projector projector(*log, *store, {.batch_events_max = 10});
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto report = projector.catch_up([&](const engine::ProjectionProgress& progress) {
    calls.emplace_back(progress.events_read, progress.events_behind);
  });
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->events_read, 35);
  EXPECT_EQ(report->batches_committed, 4);
  const std::vector<std::pair<int64_t, int64_t>> expected = {{10, 25}, {20, 15}, {30, 5}, {35, 0}};
  EXPECT_EQ(calls, expected);
}

// ------------------------------------------------------------------ resume

class ProjectorResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    records_ = rich_log_records();
    expected_ = clean_replay(records_);
    ASSERT_FALSE(expected_.records.empty());
    log_ = open_log(log_dir_.path());
    store_ = open_store(store_dir_.path());
    ASSERT_NE(log_, nullptr);
    ASSERT_NE(store_, nullptr);
  }

  std::vector<AppendRequest> records_;
  StoreDump expected_;
  TempDir log_dir_;
  TempDir store_dir_;
  std::unique_ptr<EmbeddedLog> log_;
  std::unique_ptr<RocksProjectionStore> store_;
};

TEST_F(ProjectorResumeTest, HalfThenTheRestWithNewProjectorsEqualsOneCleanRun) {
  const size_t half = records_.size() / 2;
  append_records(*log_, records_, 0, half);
  auto first = project(*log_, *store_, 9);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->events_read, static_cast<int64_t>(half));

  append_records(*log_, records_, half);
  auto second = project(*log_, *store_, 9);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->events_read, static_cast<int64_t>(records_.size() - half));
  expect_same_dump(dump_store(*store_), expected_);
}

TEST_F(ProjectorResumeTest, OneProjectorCatchingUpInStepsEqualsOneCleanRun) {
  engine::Projector projector(*log_, *store_, {.batch_events_max = 9});
  for (size_t first = 0; first < records_.size(); first += 61) {
    append_records(*log_, records_, first, first + 61);
    auto report = projector.catch_up();
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->events_read,
              static_cast<int64_t>(std::min(records_.size(), first + 61) - first));
  }
  expect_same_dump(dump_store(*store_), expected_);
}

TEST_F(ProjectorResumeTest, CatchUpWithNothingNewChangesNothing) {
  append_records(*log_, records_);
  ASSERT_TRUE(project(*log_, *store_, 50).has_value());
  const StoreDump before = dump_store(*store_);

  engine::Projector projector(*log_, *store_, {.batch_events_max = 50});
  bool progress_called = false;
  for (int run = 0; run < 2; ++run) {
    auto report = projector.catch_up([&](const auto&) { progress_called = true; });
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->events_read, 0);
    EXPECT_EQ(report->batches_committed, 0);
  }
  EXPECT_FALSE(progress_called);
  expect_same_dump(dump_store(*store_), before);
  expect_same_dump(before, expected_);
}

}  // namespace
}  // namespace homeward::testing
