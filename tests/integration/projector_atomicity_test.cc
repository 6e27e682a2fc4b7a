// Exactly-once under failure (DESIGN decision 2): whenever a projector stops
// with an error, between batches or with half a batch folded in memory, the
// store is left at a batch boundary, and a fresh Projector over the same store
// finishes with exactly the content of a clean single run: nothing applied
// twice, nothing skipped.
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "engine/projector.h"
#include "tests/integration/projection_test_support.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {
namespace {

constexpr size_t kBatch = 7;

class ProjectorAtomicityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    records_ = rich_log_records();
    ASSERT_GT(records_.size(), 300u);
    expected_ = clean_replay(records_);
    ASSERT_FALSE(expected_.records.empty());
    log_ = open_log(log_dir_.path());
    ASSERT_NE(log_, nullptr);
    append_records(*log_, records_);
  }

  // Opens the store, runs one projector through `faults` and expects it to
  // fail; closes the store (as a crashed process would) and returns the
  // checkpoint it was left at.
  engine::Checkpoints run_until_failure(FaultyStore::Faults faults,
                                        engine::EventLogReader* reader = nullptr) {
    auto store = open_store(store_dir_->path());
    if (store == nullptr) return {};
    FaultyStore faulty(*store, faults);
    engine::ProjectorOptions options;
    options.batch_events_max = kBatch;
    engine::Projector projector(reader != nullptr ? *reader : *log_, faulty, options);
    auto report = projector.catch_up();
    EXPECT_FALSE(report.has_value()) << "the injected fault did not stop the projector";
    if (!report) {
      EXPECT_NE(report.error().message.find("injected"), std::string::npos)
          << report.error().message;
    }
    // A projector that failed must not go on: its memory is ahead of the store.
    auto again = projector.catch_up();
    EXPECT_FALSE(again.has_value());
    auto checkpoints = store->load_checkpoints();
    EXPECT_TRUE(checkpoints.has_value());
    return checkpoints ? *checkpoints : engine::Checkpoints{};
  }

  // A fresh projector over the same store brings it to the end of the log.
  StoreDump resume() {
    auto store = open_store(store_dir_->path());
    if (store == nullptr) return {};
    auto report = project(*log_, *store, kBatch);
    EXPECT_TRUE(report.has_value()) << report.error().message;
    return dump_store(*store);
  }

  static int64_t next_offset(const engine::Checkpoints& checkpoints) {
    const auto it = checkpoints.find(Partition{0});
    return it == checkpoints.end() ? 0 : it->second.next_offset.value();
  }

  void new_store() { store_dir_ = std::make_unique<TempDir>(); }

  std::vector<AppendRequest> records_;
  StoreDump expected_;
  TempDir log_dir_;
  std::unique_ptr<TempDir> store_dir_ = std::make_unique<TempDir>();
  std::unique_ptr<EmbeddedLog> log_;
};

TEST_F(ProjectorAtomicityTest, CleanRunCountsEveryRecordExactlyOnce) {
  auto store = open_store(store_dir_->path());
  ASSERT_NE(store, nullptr);
  auto report = project(*log_, *store, kBatch);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->events_read, static_cast<int64_t>(records_.size()));
  EXPECT_EQ(report->batches_committed,
            static_cast<int64_t>((records_.size() + kBatch - 1) / kBatch));
  auto totals = store->load_totals();
  ASSERT_TRUE(totals.has_value());
  EXPECT_EQ(totals->read(), static_cast<int64_t>(records_.size()));
  EXPECT_EQ(totals->rejected_by_reason[static_cast<size_t>(engine::RejectReason::kMalformed)], 4);
  auto rejections = store->list_rejections();
  ASSERT_TRUE(rejections.has_value());
  EXPECT_EQ(static_cast<int64_t>(rejections->size()), totals->rejected);
  expect_same_dump(dump_store(*store), expected_);
}

TEST_F(ProjectorAtomicityTest, TheStreamExercisesEveryOutcome) {
  // Guards the other tests: the stream must hold duplicates and every
  // rejection reason that a stream without 10^18-sized sums can produce.
  auto store = open_store(store_dir_->path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(project(*log_, *store, kBatch).has_value());
  auto totals = store->load_totals();
  ASSERT_TRUE(totals.has_value());
  EXPECT_GT(totals->applied, 200);
  EXPECT_EQ(totals->duplicates, 2 * 8 + 1);  // two per opened case, one in the ghost case
  for (size_t r = 0; r < engine::kRejectReasonCount; ++r) {
    const auto reason = static_cast<engine::RejectReason>(r);
    if (reason == engine::RejectReason::kOverflow) continue;
    EXPECT_GT(totals->rejected_by_reason[r], 0) << engine::to_string(reason);
  }
}

TEST_F(ProjectorAtomicityTest, CommitFailureLeavesTheStoreAtTheLastBatchBoundary) {
  const int batches = static_cast<int>((records_.size() + kBatch - 1) / kBatch);
  for (const int k : {1, 2, 5, 17, batches}) {
    SCOPED_TRACE(::testing::Message() << "commit " << k << " of " << batches << " fails");
    new_store();
    const engine::Checkpoints left = run_until_failure({.fail_commit_at = k});
    EXPECT_EQ(next_offset(left), int64_t{kBatch} * (k - 1));
    expect_same_dump(resume(), expected_);
  }
}

TEST_F(ProjectorAtomicityTest, RepeatedFailuresStillEndInTheCleanResult) {
  // Each run resumes where the last one stopped and fails after a few
  // commits (or at once); the store must come out exactly as one clean run,
  // however many times it was resumed.
  int64_t position = 0;
  for (const int k : {3, 2, 4, 1, 6}) {
    const engine::Checkpoints left = run_until_failure({.fail_commit_at = k});
    position += int64_t{kBatch} * (k - 1);
    EXPECT_EQ(next_offset(left), position) << "commit " << k << " failed";
  }
  expect_same_dump(resume(), expected_);
}

TEST_F(ProjectorAtomicityTest, FailureWithHalfABatchFoldedInMemoryLosesNothing) {
  // load_case fails on first touch of a case, in the middle of a batch: the
  // events before it in the batch were already folded into in-memory cases
  // that are then thrown away with the projector.
  for (const int k : {1, 3, 5, 9}) {
    SCOPED_TRACE(::testing::Message() << "load_case " << k << " fails");
    new_store();
    const engine::Checkpoints left = run_until_failure({.fail_load_case_at = k});
    EXPECT_EQ(next_offset(left) % int64_t{kBatch}, 0) << "not at a batch boundary";
    expect_same_dump(resume(), expected_);
  }
}

TEST_F(ProjectorAtomicityTest, ReadFailureAfterPartOfABatchLosesNothing) {
  for (const int k : {1, 2, 11}) {
    SCOPED_TRACE(::testing::Message() << "read " << k << " fails after half a batch");
    new_store();
    FaultyReader reader(*log_, k);
    const engine::Checkpoints left = run_until_failure({}, &reader);
    EXPECT_EQ(next_offset(left), int64_t{kBatch} * (k - 1));
    expect_same_dump(resume(), expected_);
  }
}

}  // namespace
}  // namespace homeward::testing
