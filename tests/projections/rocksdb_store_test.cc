// The RocksDB projection store, on a real RocksDB in a temp dir.
#include "projections/rocksdb_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "projections/record_codec.h"
#include "tests/support/temp_dir.h"

namespace homeward::projections {
namespace {

using engine::BatchCommit;
using engine::CaseLedger;
using testing::TempDir;

events::Currency usd() { return events::Currency{{'U', 'S', 'D'}, 2}; }

events::Fingerprint fingerprint_of(uint8_t seed) {
  events::Fingerprint fp{};
  for (size_t i = 0; i < fp.size(); ++i) fp[i] = uint8_t(seed + i);
  return fp;
}

// A ledger with every kind of record, all marked dirty.
CaseLedger full_ledger(const std::string& case_id) {
  CaseLedger l;
  l.case_id = case_id;
  l.summary.opened = true;
  l.summary.currency = usd();
  l.summary.goal = MinorUnits(150000);
  l.summary.has_budget = true;
  l.summary.planned[3] = MinorUnits(40000);
  l.summary.planned[5] = MinorUnits(110000);
  l.summary.disbursed_by_category[3] = MinorUnits(1000);
  l.summary.received = MinorUnits(7500);
  l.summary.refunded = MinorUnits(500);
  l.summary.pledged = MinorUnits(3000);
  l.summary.disbursed = MinorUnits(1000);
  l.summary.donations = 3;
  l.summary.donors = 2;
  l.summary.refunds = 1;
  l.summary.opened_at = TimestampMicros(1433145600000000);
  l.summary.events_applied = 9;
  l.summary.duplicates = 1;
  l.summary.events_rejected = 1;
  const char* events[] = {"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11"};
  uint8_t seed = 0;
  for (const char* id : events) l.handled_events.emplace(id, fingerprint_of(seed += 16));
  l.donations.emplace("e2", engine::DonationRecord{"d-1", MinorUnits(2500), MinorUnits(500)});
  l.donations.emplace("e3", engine::DonationRecord{"d-2", MinorUnits(2500), MinorUnits(0)});
  l.donations.emplace("e6", engine::DonationRecord{"d-1", MinorUnits(2500), MinorUnits(0)});
  l.pledges.emplace("e5",
                    engine::PledgeRecord{"d-1", MinorUnits(2500), engine::PledgeState::kFulfilled});
  l.pledges.emplace(
      "e7", engine::PledgeRecord{"d-3", MinorUnits(3000), engine::PledgeState::kOutstanding});
  l.pledges.emplace("e8",
                    engine::PledgeRecord{"d-4", MinorUnits(100), engine::PledgeState::kCancelled});
  l.donors = {"d-1", "d-2"};
  l.dirty.summary = true;
  for (const auto& [id, fp] : l.handled_events) l.dirty.handled_events.emplace_back(id, fp);
  for (const auto& [id, d] : l.donations) l.dirty.donations.emplace_back(id, d);
  for (const auto& [id, p] : l.pledges) l.dirty.pledges.emplace_back(id, p);
  l.dirty.donors.assign(l.donors.begin(), l.donors.end());
  return l;
}

// A case that never opened: only rejected events' ids.
CaseLedger unopened_ledger(const std::string& case_id) {
  CaseLedger l;
  l.case_id = case_id;
  l.handled_events.emplace("x1", fingerprint_of(7));
  l.dirty.handled_events.emplace_back("x1", fingerprint_of(7));
  l.dirty.summary = true;
  return l;
}

std::unique_ptr<RocksProjectionStore> open_store(const std::filesystem::path& dir) {
  auto store = RocksProjectionStore::open(dir);
  EXPECT_TRUE(store.has_value()) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

Status commit_cases(RocksProjectionStore& store, const std::vector<const CaseLedger*>& cases) {
  BatchCommit batch;
  batch.cases = cases;
  return store.commit(batch);
}

void expect_same_ledger(const CaseLedger& actual, const CaseLedger& expected) {
  EXPECT_EQ(actual.case_id, expected.case_id);
  EXPECT_EQ(actual.summary, expected.summary);
  EXPECT_EQ(actual.handled_events, expected.handled_events);
  EXPECT_EQ(actual.donations, expected.donations);
  EXPECT_EQ(actual.pledges, expected.pledges);
  EXPECT_EQ(actual.donors, expected.donors);
  EXPECT_TRUE(actual.dirty.empty());
  EXPECT_TRUE(actual.same_content(expected));
}

TEST(RocksProjectionStore, CommitThenLoadCaseRoundTripsEveryRecord) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  const CaseLedger ledger = full_ledger("case-a");
  const CaseLedger other = full_ledger("case-a-b");  // shares a prefix with case-a
  ASSERT_TRUE(commit_cases(*store, {&ledger, &other}));

  auto loaded = store->load_case("case-a");
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  expect_same_ledger(**loaded, ledger);
  EXPECT_EQ((*loaded)->handled_events.size(), 11u);
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

TEST(RocksProjectionStore, CommitWritesExactlyTheDirtyRecords) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  CaseLedger ledger = full_ledger("case-a");
  ledger.dirty.clear();
  ledger.dirty.summary = true;
  ledger.dirty.donations.emplace_back("e2", ledger.donations.at("e2"));
  ledger.dirty.handled_events.emplace_back("e2", ledger.handled_events.at("e2"));
  ASSERT_TRUE(commit_cases(*store, {&ledger}));

  auto loaded = store->load_case("case-a");
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  const CaseLedger& l = **loaded;
  EXPECT_EQ(l.summary, ledger.summary);
  ASSERT_EQ(l.donations.size(), 1u);
  EXPECT_EQ(l.donations.at("e2"), ledger.donations.at("e2"));
  ASSERT_EQ(l.handled_events.size(), 1u);
  EXPECT_EQ(l.handled_events.at("e2"), ledger.handled_events.at("e2"));
  EXPECT_TRUE(l.pledges.empty());
  // A case's donors are those of its donation records: no record of their own.
  EXPECT_EQ(l.donors, (absl::flat_hash_set<std::string>{ledger.donations.at("e2").donor_ref}));
}

TEST(RocksProjectionStore, LaterCommitUpdatesChangedRecords) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  CaseLedger ledger = full_ledger("case-a");
  ASSERT_TRUE(commit_cases(*store, {&ledger}));
  ledger.dirty.clear();
  ledger.pledges.at("e7").state = engine::PledgeState::kCancelled;
  ledger.summary.pledged = MinorUnits(0);
  ledger.dirty.summary = true;
  ledger.dirty.pledges.emplace_back("e7", ledger.pledges.at("e7"));
  ASSERT_TRUE(commit_cases(*store, {&ledger}));

  auto loaded = store->load_case("case-a");
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  expect_same_ledger(**loaded, ledger);
  EXPECT_EQ((*loaded)->pledges.at("e7").state, engine::PledgeState::kCancelled);
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
  for (int i = 0; i < 4; ++i) cases.push_back(full_ledger(fmt::format("case-{}", i)));
  auto make_commit = [&](int n) {
    CaseLedger& ledger = cases[static_cast<size_t>(n) % cases.size()];
    ledger.summary.received = MinorUnits(ledger.summary.received.value() + 1);
    ledger.dirty.summary = true;
    for (const auto& donor : ledger.donors) ledger.dirty.donors.push_back(donor);
    BatchCommit batch;
    batch.cases = {&ledger};
    batch.history = {engine::HistoryRecord{ledger.case_id, Partition(0), Offset(n), bytes}};
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
  const CaseLedger ledger = full_ledger("case-a");
  BatchCommit batch;
  batch.cases = {&ledger};
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
  expect_same_ledger(**loaded, ledger);
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
  EXPECT_NE(second.error().message.find("is in use by another homeward process"), std::string::npos)
      << second.error().message;
}

TEST(RocksProjectionStore, ListCasesIsSortedBytewiseAndSkipsUnopenedCases) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  const CaseLedger a = full_ledger("a");
  const CaseLedger ab = full_ledger("a-b");
  const CaseLedger a0 = full_ledger("a0");
  const CaseLedger upper = full_ledger("Z");
  const CaseLedger never = unopened_ledger("a.unopened");
  ASSERT_TRUE(commit_cases(*store, {&a0, &never, &ab, &upper, &a}));

  auto cases = store->list_cases();
  ASSERT_TRUE(cases.has_value()) << cases.error().message;
  std::vector<std::string> ids;
  for (const CaseView& v : *cases) ids.push_back(v.case_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"Z", "a", "a-b", "a0"}));
  EXPECT_EQ(cases->front().summary, upper.summary);

  auto found = store->find_case("a-b");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, ab.summary);
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
  EXPECT_EQ((*loaded)->handled_events.size(), 1u);
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
  const CaseLedger bad = full_ledger(std::string("a\0b", 3));
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
  CaseLedger a = full_ledger("case-a");  // donors d-1, d-2
  CaseLedger b = full_ledger("case-b");
  b.donors = {"d-2", "d-9"};
  b.dirty.donors.assign(b.donors.begin(), b.donors.end());
  const CaseLedger never = unopened_ledger("case-z");
  BatchCommit batch;
  batch.cases = {&a, &b, &never};
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
  EXPECT_EQ(report->events, batch.totals);
}

TEST(RocksProjectionStore, ForEachRecordVisitsEveryKeyInOrder) {
  TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  const CaseLedger a = full_ledger("case-a");
  ASSERT_TRUE(commit_cases(*store, {&a}));
  std::vector<std::string> keys;
  ASSERT_TRUE(store->for_each_record(
      [&](std::string_view key, std::string_view) { keys.emplace_back(key); }));
  // 1 summary + 11 event ids + 3 donations + 3 pledges + 2 global donors +
  // format + totals + 4 donor index entries (x: donors d-1 and d-2, and the
  // pledges' donors d-1, d-3 and d-4). A case's donors have no records of
  // their own: its donation records name them.
  EXPECT_EQ(keys.size(), 1u + 11u + 3u + 3u + 2u + 1u + 1u + 4u);
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
    const CaseLedger a = full_ledger("case-a");
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
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), &raw);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  s = db->Put(rocksdb::WriteOptions(), key, value);
  ASSERT_TRUE(s.ok()) << s.ToString();
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
    const CaseLedger a = full_ledger("case-a");
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
