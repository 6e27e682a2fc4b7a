// The RocksDB projection store, on a real RocksDB in a temp dir.
#include "projections/rocksdb_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/rules.h"
#include "events/codec.h"
#include "projections/record_codec.h"
#include "tests/engine/event_builders.h"
#include "tests/support/raw_store.h"
#include "tests/support/temp_dir.h"

namespace homeward::projections {
namespace {

using engine::BatchCommit;
using engine::CaseLedger;
using testing::TempDir;
namespace builders = homeward::testing;

// A case folded from real events by the rules, as the projector folds it:
// each event goes to the ledger's dirty history, which the next commit writes.
// The store keeps a case as its summary and its history, and loads it by
// folding the history again.
struct FoldedCase {
  explicit FoldedCase(std::string case_id) { ledger.case_id = std::move(case_id); }

  void fold(const events::Event& event) {
    const events::Event in_case = builders::in_case(event, ledger.case_id);
    ASSERT_TRUE(engine::handle_event(ledger, in_case).has_value());
    ledger.dirty.history.push_back(
        engine::HistoryEvent{Partition(0), Offset(next_offset++), events::encode_event(in_case)});
  }

  CaseLedger ledger;
  int64_t next_offset = 0;
};

// A case with every kind of record: a budget and a disbursement, donations
// from two donors, a pledge fulfilled, one outstanding and one cancelled, a
// refund, a duplicate and a rejection.
FoldedCase full_case(const std::string& case_id) {
  using namespace builders;  // NOLINT: the builders are the vocabulary here
  FoldedCase c(case_id);
  for (const events::Event& e : {
           opened_with_budget(
               "e1", {line(Category::kRepatriation, 40000), line(Category::kLivelihood, 110000)}),
           donation("e2", "d-1", 2500), donation("e3", "d-2", 2500),
           disbursement("e4", Category::kRepatriation, 1000), pledge("e5", "d-1", 2500),
           fulfilled("e6", "e5"), pledge("e7", "d-3", 3000), pledge("e8", "d-4", 100),
           cancelled("e9", "e8"), refund("e10", "e2", 500),
           donation("e3", "d-2", 2500),    // a duplicate
           refund("e11", "nowhere", 100),  // unknown_donation
       }) {
    c.fold(e);
  }
  return c;
}

// A case that never opened: only a rejected event's id.
FoldedCase unopened_case(const std::string& case_id) {
  FoldedCase c(case_id);
  c.fold(builders::donation("x1", "d-1", 100));  // unknown_case
  return c;
}

std::unique_ptr<RocksProjectionStore> open_store(const std::filesystem::path& dir) {
  auto store = RocksProjectionStore::open(dir);
  EXPECT_TRUE(store.has_value()) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

// Commits the cases with their pending history, and clears their dirty lists
// as the projector does.
Status commit_cases(RocksProjectionStore& store, const std::vector<FoldedCase*>& cases) {
  BatchCommit batch;
  for (FoldedCase* c : cases) batch.cases.push_back(&c->ledger);
  Status committed = store.commit(batch);
  if (committed) {
    for (FoldedCase* c : cases) c->ledger.dirty.clear();
  }
  return committed;
}

std::vector<std::string> keys_of(const RocksProjectionStore& store) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store.for_each_record(
      [&](std::string_view key, std::string_view) { keys.emplace_back(key); }));
  return keys;
}

void expect_same_ledger(const CaseLedger& actual, const CaseLedger& expected) {
  EXPECT_EQ(actual.case_id, expected.case_id);
  EXPECT_EQ(actual.summary, expected.summary);
  EXPECT_EQ(actual.handled_event_count(), expected.handled_event_count());
  EXPECT_EQ(actual.donation_count(), expected.donation_count());
  EXPECT_EQ(actual.pledge_count(), expected.pledge_count());
  EXPECT_EQ(actual.history_events, expected.history_events);
  EXPECT_TRUE(actual.dirty.empty());
  EXPECT_TRUE(actual.same_content(expected));
}

TEST(RocksProjectionStore, CommitThenLoadCaseRoundTripsEveryRecord) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase ledger = full_case("case-a");
  FoldedCase other = full_case("case-a-b");  // shares a prefix with case-a
  ASSERT_TRUE(commit_cases(*store, {&ledger, &other}));

  auto loaded = store->load_case("case-a");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  expect_same_ledger(**loaded, ledger.ledger);
  EXPECT_EQ((*loaded)->handled_event_count(), 11u);
  EXPECT_EQ((*loaded)->history_events, 12);
  EXPECT_EQ((*loaded)->donation((*loaded)->find_donation("e2").value()).refunded, MinorUnits(500));
  EXPECT_EQ((*loaded)->pledge((*loaded)->find_pledge("e7").value()).state,
            engine::PledgeState::kOutstanding);
}

TEST(RocksProjectionStore, LoadCaseOfUnknownCaseIsNullopt) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->load_case("nobody");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
  auto invalid = store->load_case(std::string("bad\0id", 6));
  ASSERT_TRUE(invalid.has_value());
  EXPECT_FALSE(invalid->has_value());
}

// A case is its summary and its history; donors are the only other records
// that depend on it, written once each: a global donor per giver, a donor
// index entry per donor of a donation or pledge.
TEST(RocksProjectionStore, CommitWritesTheSummaryTheHistoryAndNewDonors) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase c = full_case("case-a");
  ASSERT_TRUE(commit_cases(*store, {&c}));
  std::vector<std::string> expected = {"ccase-a",
                                       "gd-1",
                                       "gd-2",
                                       std::string(kFormatKey),
                                       std::string(kTotalsKey),
                                       std::string(kDonorCountKey)};
  for (int64_t sequence = 0; sequence < 12; ++sequence) {
    expected.push_back(history_key("case-a", sequence, Partition(0), Offset(sequence)));
  }
  for (const char* donor : {"d-1", "d-2", "d-3", "d-4"}) {
    expected.push_back(donor_case_key(donor, "case-a"));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys_of(*store), expected);

  // A second commit writes only what changed: the summary and the new events.
  c.fold(builders::donation("e12", "d-1", 100));
  ASSERT_TRUE(commit_cases(*store, {&c}));
  expected.push_back(history_key("case-a", 12, Partition(0), Offset(12)));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys_of(*store), expected);
}

TEST(RocksProjectionStore, LoadCaseAfterSeveralCommitsFoldsTheWholeHistory) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase c = full_case("case-a");
  ASSERT_TRUE(commit_cases(*store, {&c}));
  c.fold(builders::cancelled("e12", "e7"));
  c.fold(builders::refund("e13", "e6", 2500));
  ASSERT_TRUE(commit_cases(*store, {&c}));

  auto loaded = store->load_case("case-a");
  ASSERT_TRUE(loaded.has_value() && loaded->has_value()) << loaded.error().message;
  expect_same_ledger(**loaded, c.ledger);
  EXPECT_EQ((*loaded)->pledge((*loaded)->find_pledge("e7").value()).state,
            engine::PledgeState::kCancelled);
  EXPECT_EQ((*loaded)->summary.pledged, MinorUnits(0));
}

TEST(RocksProjectionStore, CheckpointsAndTotalsRoundTrip) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);

  auto empty_totals = store->load_totals();
  ASSERT_TRUE(empty_totals.has_value());
  EXPECT_EQ(*empty_totals, engine::ProjectionTotals{});
  auto empty_checkpoints = store->load_checkpoints();
  ASSERT_TRUE(empty_checkpoints.has_value());
  EXPECT_TRUE(empty_checkpoints->empty());

  BatchCommit batch;
  batch.totals.applied = 10;
  batch.totals.duplicates = 2;
  batch.totals.rejected = 3;
  batch.totals.rejected_by_reason[0] = 1;
  batch.totals.rejected_by_reason[11] = 2;
  engine::PartitionCheckpoint p0{Offset(15), {}};
  p0.chain_head[0] = 0xab;
  p0.chain_head[31] = 0xcd;
  engine::PartitionCheckpoint p300{Offset(2), {}};
  p300.chain_head[5] = 1;
  batch.checkpoints[Partition(0)] = p0;
  batch.checkpoints[Partition(300)] = p300;
  ASSERT_TRUE(store->commit(batch));

  auto totals = store->load_totals();
  ASSERT_TRUE(totals.has_value()) << totals.error().message;
  EXPECT_EQ(*totals, batch.totals);
  auto checkpoints = store->load_checkpoints();
  ASSERT_TRUE(checkpoints.has_value()) << checkpoints.error().message;
  EXPECT_EQ(*checkpoints, batch.checkpoints);
}

TEST(RocksProjectionStore, OpenChainSegmentIsTheOneTheNextRecordExtends) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto segment = [](int32_t partition, int64_t first, size_t records) {
    return engine::ChainSegment{Partition(partition), Offset(first),
                                std::string(records * engine::kChainHeadPrefixBytes, 'h')};
  };
  BatchCommit batch;
  batch.chain_segments = {segment(0, 0, 1024), segment(0, 1024, 10), segment(1, 5, 3)};
  ASSERT_TRUE(store->commit(batch));

  auto open = [&](int32_t partition, int64_t next) {
    auto loaded = store->load_open_chain_segment(Partition(partition), Offset(next));
    EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
    return loaded.value_or(engine::ChainSegment{});
  };
  EXPECT_EQ(open(0, 1034), segment(0, 1024, 10));
  EXPECT_EQ(open(1, 8), segment(1, 5, 3));
  EXPECT_EQ(open(0, 1030).size(), 0);  // the segment goes on past 1030
  EXPECT_EQ(open(0, 2048).size(), 0);  // a new window
  EXPECT_EQ(open(1, 9).size(), 0);     // a gap after offset 7
  EXPECT_EQ(open(2, 7).size(), 0);     // no segment at all
}

// Enough pipelined commits for the writer to hold, sort and ingest them as SST
// files (store_writer.h) give the same records as the same commits written
// one by one: the last write of a key wins, global donor keys written once.
TEST(RocksProjectionStore, IngestedCommitsEqualCommitsWrittenOneByOne) {
  constexpr int kCommits = 260;
  const std::string bytes(300'000, 'b');  // 260 x 300 KB: past the writer's spill size
  std::vector<CaseLedger> cases;
  for (int i = 0; i < 4; ++i) cases.push_back(full_case(fmt::format("case-{}", i)).ledger);
  auto make_commit = [&](int n) {
    CaseLedger& ledger = cases[static_cast<size_t>(n) % cases.size()];
    ledger.summary.received = MinorUnits(ledger.summary.received.value() + 1);
    ledger.dirty.summary = true;
    // Every donor again: the writer writes each global donor key once.
    for (uint32_t donor = 0; donor < ledger.donor_count(); ++donor) {
      ledger.dirty.new_donors.push_back(donor);
      if (ledger.donor_gave(donor)) ledger.dirty.new_givers.push_back(donor);
    }
    BatchCommit batch;
    batch.cases = {&ledger};
    // The store writes history bytes as given; big ones fill the writer fast.
    ledger.history_events += 1;
    ledger.dirty.history = {engine::HistoryEvent{Partition(0), Offset(n), bytes}};
    batch.totals.applied = n;
    batch.checkpoints[Partition(0)] = engine::PartitionCheckpoint{Offset(n + 1), {}};
    return batch;
  };
  auto dump = [](const RocksProjectionStore& store) {
    std::vector<std::pair<std::string, std::string>> records;
    EXPECT_TRUE(store.for_each_record(
        [&](std::string_view key, std::string_view value) { records.emplace_back(key, value); }));
    return records;
  };

  TempDir pipelined_dir;
  TempDir one_by_one_dir;
  auto pipelined = open_store(pipelined_dir.path());
  auto one_by_one = open_store(one_by_one_dir.path());
  ASSERT_NE(pipelined, nullptr);
  ASSERT_NE(one_by_one, nullptr);
  const std::vector<CaseLedger> initial = cases;
  for (int n = 0; n < kCommits; ++n) {
    ASSERT_TRUE(pipelined->commit_pipelined(make_commit(n)));
    for (CaseLedger& ledger : cases) ledger.dirty.clear();
  }
  ASSERT_TRUE(pipelined->wait_for_commits());
  cases = initial;
  for (int n = 0; n < kCommits; ++n) {
    ASSERT_TRUE(one_by_one->commit(make_commit(n)));
    for (CaseLedger& ledger : cases) ledger.dirty.clear();
  }
  const auto expected = dump(*one_by_one);
  ASSERT_GT(expected.size(), static_cast<size_t>(kCommits));
  EXPECT_TRUE(dump(*pipelined) == expected);
  auto totals = pipelined->load_totals();
  ASSERT_TRUE(totals.has_value());
  EXPECT_EQ(totals->applied, kCommits - 1);  // the last commit's
}

TEST(RocksProjectionStore, ReopenAfterDestructorKeepsEverything) {
  TempDir dir;
  FoldedCase ledger = full_case("case-a");
  BatchCommit batch;
  batch.cases = {&ledger.ledger};
  batch.totals.applied = 9;
  batch.checkpoints[Partition(0)] = engine::PartitionCheckpoint{Offset(11), {}};
  engine::RejectionRecord rejection{"case-a",
                                    "e9",
                                    events::EventType::kRefundIssued,
                                    engine::RejectReason::kUnknownDonation,
                                    Partition(0),
                                    Offset(8),
                                    ""};
  batch.rejections.push_back(rejection);
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->commit(batch));
  }
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->load_case("case-a");
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  expect_same_ledger(**loaded, ledger.ledger);
  auto totals = store->load_totals();
  ASSERT_TRUE(totals.has_value());
  EXPECT_EQ(*totals, batch.totals);
  auto checkpoints = store->load_checkpoints();
  ASSERT_TRUE(checkpoints.has_value());
  EXPECT_EQ(*checkpoints, batch.checkpoints);
  auto rejections = store->list_rejections();
  ASSERT_TRUE(rejections.has_value());
  ASSERT_EQ(rejections->size(), 1u);
  EXPECT_EQ(rejections->front(), rejection);
}

TEST(RocksProjectionStore, SecondOpenWhileOpenIsBusy) {
  TempDir dir;
  auto first = open_store(dir.path());
  ASSERT_NE(first, nullptr);
  auto second = RocksProjectionStore::open(dir.path());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  EXPECT_NE(second.error().message.find("is being written by another homeward process"),
            std::string::npos)
      << second.error().message;
}

TEST(RocksProjectionStore, ListCasesIsSortedBytewiseAndSkipsUnopenedCases) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase a = full_case("a");
  FoldedCase ab = full_case("a-b");
  FoldedCase a0 = full_case("a0");
  FoldedCase upper = full_case("Z");
  FoldedCase never = unopened_case("a.unopened");
  ASSERT_TRUE(commit_cases(*store, {&a0, &never, &ab, &upper, &a}));

  auto cases = store->list_cases();
  ASSERT_TRUE(cases.has_value()) << cases.error().message;
  std::vector<std::string> ids;
  for (const CaseView& v : *cases) ids.push_back(v.case_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"Z", "a", "a-b", "a0"}));
  EXPECT_EQ(cases->front().summary, upper.ledger.summary);

  auto found = store->find_case("a-b");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, ab.ledger.summary);
  auto unopened = store->find_case("a.unopened");
  ASSERT_TRUE(unopened.has_value());
  EXPECT_FALSE(unopened->has_value());
  auto missing = store->find_case("nope");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
  auto invalid = store->find_case("not an id");
  ASSERT_TRUE(invalid.has_value());
  EXPECT_FALSE(invalid->has_value());

  // The unopened case still keeps its handled event ids for the duplicate rule.
  auto loaded = store->load_case("a.unopened");
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_FALSE((*loaded)->summary.opened);
  EXPECT_EQ((*loaded)->handled_event_count(), 1u);
}

TEST(RocksProjectionStore, RejectionsAreSortedByCaseThenPositionMalformedFirst) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  using engine::RejectReason;
  using events::EventType;
  std::vector<engine::RejectionRecord> records = {
      {"case-b", "e1", EventType::kDonationReceived, RejectReason::kUnknownCase, Partition(0),
       Offset(256), ""},
      {"case-a", "e7", EventType::kRefundIssued, RejectReason::kInsufficientFunds, Partition(0),
       Offset(300), ""},
      {"", "", std::nullopt, RejectReason::kMalformed, Partition(0), Offset(900),
       "not a FlatBuffer"},
      {"case-b", "e0", EventType::kPledgeMade, RejectReason::kCaseClosed, Partition(0), Offset(5),
       ""},
      {"case-a", "e3", EventType::kCaseOpened, RejectReason::kCaseExists, Partition(0), Offset(2),
       ""},
      {"", "", std::nullopt, RejectReason::kMalformed, Partition(0), Offset(1), "truncated"},
  };
  // Two batches, to show the order comes from the keys, not the writes.
  BatchCommit first;
  first.rejections.assign(records.begin(), records.begin() + 3);
  BatchCommit second;
  second.rejections.assign(records.begin() + 3, records.end());
  ASSERT_TRUE(store->commit(first));
  ASSERT_TRUE(store->commit(second));

  auto listed = store->list_rejections();
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  ASSERT_EQ(listed->size(), 6u);
  std::vector<std::pair<std::string, int64_t>> order;
  for (const auto& r : *listed) order.emplace_back(r.case_id, r.offset.value());
  EXPECT_EQ(
      order,
      (std::vector<std::pair<std::string, int64_t>>{
          {"", 1}, {"", 900}, {"case-a", 2}, {"case-a", 300}, {"case-b", 5}, {"case-b", 256}}));
  EXPECT_EQ((*listed)[0], records[5]);
  EXPECT_EQ((*listed)[3], records[1]);
}

TEST(RocksProjectionStore, CommitRefusesAnInvalidCaseId) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase bad = full_case(std::string("a\0b", 3));
  auto s = commit_cases(*store, {&bad});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  // Nothing of the refused batch was written.
  int records = 0;
  ASSERT_TRUE(store->for_each_record([&](std::string_view, std::string_view) { ++records; }));
  EXPECT_EQ(records, 1);  // only m/format
}

TEST(RocksProjectionStore, ImpactReportCountsDistinctDonorsAcrossCases) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase a = full_case("case-a");  // givers d-1, d-2
  FoldedCase b("case-b");
  b.fold(builders::opened("b1", 150000));
  for (const char* donor : {"d-2", "d-9", "d-2"}) {
    b.fold(builders::donation(fmt::format("b-{}", b.ledger.history_events), donor, 2500));
  }
  b.fold(builders::refund("b9", "b-1", 500));
  FoldedCase never = unopened_case("case-z");
  BatchCommit batch;
  batch.cases = {&a.ledger, &b.ledger, &never.ledger};
  batch.totals.applied = 18;
  batch.totals.rejected = 1;
  batch.totals.rejected_by_reason[static_cast<size_t>(engine::RejectReason::kUnknownCase)] = 1;
  ASSERT_TRUE(store->commit(batch));

  auto report = store->impact_report();
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->donors, 3);  // d-1, d-2, d-9
  EXPECT_EQ(report->cases_total, 2);
  EXPECT_EQ(report->cases_open, 2);
  EXPECT_EQ(report->donations, 6);
  EXPECT_EQ(report->refunds, 2);
  ASSERT_EQ(report->by_currency.size(), 1u);
  EXPECT_EQ(report->by_currency.at("USD").received, 15000);
  EXPECT_EQ(report->by_currency.at("USD").net, 14000);
  EXPECT_EQ(report->by_currency.at("USD").pledged, 3000);
  EXPECT_EQ(report->events, batch.totals);
}

// A store that was not empty at open looks a donor up before it counts one:
// a giver of an earlier process's commits is not counted twice.
TEST(RocksProjectionStore, DonorCountStaysExactAcrossReopens) {
  TempDir dir;
  FoldedCase a = full_case("case-a");  // givers d-1, d-2
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(commit_cases(*store, {&a}));
  }
  FoldedCase b("case-b");
  b.fold(builders::opened("b1", 150000));
  b.fold(builders::donation("b2", "d-2", 100));
  b.fold(builders::donation("b3", "d-9", 100));
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(commit_cases(*store, {&b}));
    // A third case in the same process: d-9 is known from the commit above.
    FoldedCase c("case-c");
    c.fold(builders::opened("c1", 150000));
    c.fold(builders::donation("c2", "d-9", 100));
    c.fold(builders::donation("c3", "d-1", 100));
    ASSERT_TRUE(commit_cases(*store, {&c}));
    auto report = store->impact_report();
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->donors, 3);  // d-1, d-2, d-9
  }
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  int donor_keys = 0;
  ASSERT_TRUE(store->for_each_record([&](std::string_view key, std::string_view) {
    if (key.starts_with("g")) ++donor_keys;
  }));
  EXPECT_EQ(donor_keys, 3);
  auto report = store->impact_report();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->donors, 3);
}

TEST(RocksProjectionStore, ForEachRecordVisitsEveryKeyInOrder) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  FoldedCase a = full_case("case-a");
  ASSERT_TRUE(commit_cases(*store, {&a}));
  std::vector<std::string> keys;
  ASSERT_TRUE(store->for_each_record(
      [&](std::string_view key, std::string_view) { keys.emplace_back(key); }));
  // 1 summary + 2 global donors + 12 history events + format + totals +
  // donor count + 4 donor index entries (x: donors d-1 and d-2, and the
  // pledges' donors d-3 and d-4).
  EXPECT_EQ(keys.size(), 1u + 2u + 12u + 1u + 1u + 1u + 4u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.front(), "ccase-a");
  EXPECT_EQ(keys.back(), std::string("xd-4\0case-a", 11));
}

TEST(RocksProjectionStore, DestroyRemovesTheStore) {
  TempDir dir;
  const auto path = dir.path() / "projections";
  {
    auto store = open_store(path);
    ASSERT_NE(store, nullptr);
    FoldedCase a = full_case("case-a");
    ASSERT_TRUE(commit_cases(*store, {&a}));
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto s = RocksProjectionStore::destroy(path);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_FALSE(std::filesystem::exists(path));
  // Destroying what is not there is fine.
  EXPECT_TRUE(RocksProjectionStore::destroy(path).has_value());
  // A fresh store in the same place is empty.
  auto store = open_store(path);
  ASSERT_NE(store, nullptr);
  auto cases = store->list_cases();
  ASSERT_TRUE(cases.has_value());
  EXPECT_TRUE(cases->empty());
}

TEST(RocksProjectionStore, DestroyWhileOpenIsBusy) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto s = RocksProjectionStore::destroy(dir.path());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kBusy);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "CURRENT"));
}

TEST(RocksProjectionStore, DestroyRefusesADirectoryThatIsNotAStore) {
  TempDir dir;
  std::ofstream(dir.path() / "thesis.txt") << "years of work";
  auto s = RocksProjectionStore::destroy(dir.path());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "thesis.txt"));
}

// Writes `key` = `value` straight into the RocksDB in `dir` (closed store).
void put_raw(const std::filesystem::path& dir, const std::string& key, const std::string& value) {
  testing::RawStore(dir).put(key, value);
}

void delete_raw(const std::filesystem::path& dir, const std::string& key) {
  testing::RawStore(dir).remove(key);
}

TEST(RocksProjectionStore, AHistoryThatDoesNotGiveItsSummaryIsCorruption) {
  TempDir dir;
  FoldedCase c = full_case("case-a");
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(commit_cases(*store, {&c}));
  }
  engine::CaseSummary edited = c.ledger.summary;
  edited.received = MinorUnits(edited.received.value() + 100);
  put_raw(dir.path(), case_key("case-a"), encode_summary(edited));
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->load_case("case-a");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kCorruption);
  EXPECT_NE(loaded.error().message.find("does not give its stored summary"), std::string::npos)
      << loaded.error().message;
}

TEST(RocksProjectionStore, AMissingHistoryEventIsCorruption) {
  TempDir dir;
  FoldedCase c = full_case("case-a");
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(commit_cases(*store, {&c}));
  }
  delete_raw(dir.path(), history_key("case-a", 4, Partition(0), Offset(4)));
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto loaded = store->load_case("case-a");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kCorruption);
  EXPECT_NE(loaded.error().message.find("event number 4 is missing"), std::string::npos)
      << loaded.error().message;
}

TEST(RocksProjectionStore, OtherFormatVersionIsCorruption) {
  TempDir dir;
  { ASSERT_NE(open_store(dir.path()), nullptr); }
  put_raw(dir.path(), std::string(kFormatKey), encode_format_version(kStoreFormatVersion + 1));
  auto store = RocksProjectionStore::open(dir.path());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kCorruption);
  EXPECT_NE(store.error().message.find("store format " + std::to_string(kStoreFormatVersion + 1) +
                                       " is not supported"),
            std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("homeward project --rebuild"), std::string::npos);
}

TEST(RocksProjectionStore, DatabaseWithoutFormatRecordIsCorruption) {
  TempDir dir;
  put_raw(dir.path(), "something", "else");
  auto store = RocksProjectionStore::open(dir.path());
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kCorruption);
}

TEST(RocksProjectionStore, DamagedRecordsGiveCorruptionNotACrash) {
  TempDir dir;
  {
    auto store = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    FoldedCase a = full_case("case-a");
    ASSERT_TRUE(commit_cases(*store, {&a}));
  }
  put_raw(dir.path(), "ccase-a", "\x01\x01");
  put_raw(dir.path(), std::string(kTotalsKey), "\x07");
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto cases = store->list_cases();
  ASSERT_FALSE(cases.has_value());
  EXPECT_EQ(cases.error().code, ErrorCode::kCorruption);
  EXPECT_NE(cases.error().message.find("case-a"), std::string::npos) << cases.error().message;
  auto loaded = store->load_case("case-a");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kCorruption);
  auto totals = store->load_totals();
  ASSERT_FALSE(totals.has_value());
  EXPECT_EQ(totals.error().code, ErrorCode::kCorruption);
  auto report = store->impact_report();
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code, ErrorCode::kCorruption);
}

}  // namespace
}  // namespace homeward::projections
