// The state digest: equal across replays of the same events, whatever the
// batching or the partitioning of the log; different after any change to
// the events.
#include <fmt/format.h>

#include <sstream>

#include <gtest/gtest.h>

#include "events/fingerprint.h"
#include "projections/audit/state_digest.h"
#include "projections/audit/store_keys.h"
#include "tests/audit/audit_test_support.h"

namespace homeward::testing {
namespace {

// A log of `partitions` partitions in memory, with records placed by case id
// as Kafka's default partitioner would place keyed records (any stable
// function of the key keeps each case in one partition). Reads interleave the
// partitions a few records at a time.
class PartitionedMemoryLog final : public engine::EventLogReader {
 public:
  PartitionedMemoryLog(const std::vector<AppendRequest>& records, int partitions)
      : partitions_(static_cast<size_t>(partitions)) {
    for (const AppendRequest& record : records) {
      const size_t p = std::hash<std::string>{}(record.key) % partitions_.size();
      partitions_[p].push_back(record);
    }
  }

  Status seek(const engine::OffsetMap& next_offsets) override {
    next_.assign(partitions_.size(), 0);
    for (const auto& [partition, offset] : next_offsets) {
      next_[static_cast<size_t>(partition.value())] = static_cast<size_t>(offset.value());
    }
    return {};
  }

  Status read(size_t max_records, std::chrono::milliseconds, engine::RecordBatch& batch) override {
    batch.records.clear();
    if (next_.empty()) next_.assign(partitions_.size(), 0);
    bool progress = true;
    while (batch.records.size() < max_records && progress) {
      progress = false;
      for (size_t p = 0; p < partitions_.size() && batch.records.size() < max_records; ++p) {
        for (int i = 0;
             i < 3 && next_[p] < partitions_[p].size() && batch.records.size() < max_records; ++i) {
          const AppendRequest& record = partitions_[p][next_[p]];
          batch.records.push_back(engine::LogRecord{Partition(static_cast<int32_t>(p)),
                                                    Offset(static_cast<int64_t>(next_[p])),
                                                    record.key, record.value});
          ++next_[p];
          progress = true;
        }
      }
    }
    return {};
  }

  Result<engine::OffsetMap> end_offsets() override {
    engine::OffsetMap ends;
    for (size_t p = 0; p < partitions_.size(); ++p) {
      ends[Partition(static_cast<int32_t>(p))] =
          Offset(static_cast<int64_t>(partitions_[p].size()));
    }
    return ends;
  }

 private:
  std::vector<std::vector<AppendRequest>> partitions_;
  std::vector<size_t> next_;
};

std::string digest_of(const std::vector<AppendRequest>& records, size_t batch = 1000) {
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  append_records(*log, records);
  auto report = project(*log, *store, batch);
  EXPECT_TRUE(report.has_value()) << report.error().message;
  auto digest = audit::compute_state_digest(*store);
  EXPECT_TRUE(digest.has_value()) << digest.error().message;
  return digest ? digest->sha256_hex : std::string();
}

std::string audited_digest(engine::EventLogReader& log) {
  TempDir out;
  audit::AuditOptions options;
  options.out_dir = out.path() / "audit";
  options.batch_events_max = 37;
  auto result = audit::run_audit(log, nullptr, options);
  EXPECT_TRUE(result.has_value()) << result.error().message;
  if (!result) return {};
  EXPECT_TRUE(result->passed()) << all_findings(result->findings);
  return result->report["state_digest"]["value"].get<std::string>();
}

TEST(StateDigestTest, SameEventsGiveTheSameDigestWhateverTheBatching) {
  const std::vector<AppendRequest> records = rich_log_records();
  const std::string one = digest_of(records, 1);
  EXPECT_EQ(one.size(), 64u);
  EXPECT_EQ(digest_of(records, 1000), one);
  EXPECT_EQ(digest_of(records, 7), one);
}

TEST(StateDigestTest, AuditReportsTheDigestOfAFreshReplay) {
  const std::vector<AppendRequest> records = rich_log_records();
  LedgerDir ledger;
  ledger.append(records);
  ledger.project();
  auto first = ledger.run("a");
  auto second = ledger.run("b");
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->report["state_digest"], second->report["state_digest"]);
  EXPECT_EQ(first->report["state_digest"]["value"].get<std::string>(), digest_of(records));
}

TEST(StateDigestTest, DigestDoesNotDependOnPartitioning) {
  // Keep only records whose case a partitioner can place (a valid key), and
  // whose order within each case is then the same in every layout.
  const std::vector<AppendRequest> records = rich_log_records();
  TempDir dir;
  auto embedded = open_log(dir.path() / "log");
  append_records(*embedded, records);
  const std::string single = audited_digest(*embedded);
  ASSERT_EQ(single.size(), 64u);
  PartitionedMemoryLog three(records, 3);
  EXPECT_EQ(audited_digest(three), single);
  PartitionedMemoryLog five(records, 5);
  EXPECT_EQ(audited_digest(five), single);
}

TEST(StateDigestTest, AnyChangeToTheEventsChangesTheDigest) {
  std::vector<AppendRequest> records = rich_log_records();
  const std::string original = digest_of(records);

  // One more event.
  std::vector<AppendRequest> appended = records;
  appended.push_back(request_for(in_case(donation("one-more", "d-1", 1), "case-0")));
  EXPECT_NE(digest_of(appended), original);

  // One amount one cent higher.
  std::vector<AppendRequest> edited = records;
  for (AppendRequest& record : edited) {
    auto event = events::decode_event(record.value);
    if (event && event->type() == events::EventType::kDonationReceived) {
      auto& body = std::get<events::DonationReceived>(event->body);
      body.amount = MinorUnits(body.amount.value() + 1);
      record.value = events::encode_event(*event);
      break;
    }
  }
  EXPECT_NE(digest_of(edited), original);

  // One event left out.
  std::vector<AppendRequest> shorter = records;
  shorter.erase(shorter.begin() + 10);
  EXPECT_NE(digest_of(shorter), original);

  // A donor_ref changed (no figure changes, a record does).
  std::vector<AppendRequest> renamed = records;
  for (AppendRequest& record : renamed) {
    auto event = events::decode_event(record.value);
    if (event && event->type() == events::EventType::kDonationReceived) {
      std::get<events::DonationReceived>(event->body).donor_ref = "someone-else";
      record.value = events::encode_event(*event);
      break;
    }
  }
  EXPECT_NE(digest_of(renamed), original);
}

TEST(StateDigestTest, CanonicalStateStartsWithItsVersionAndEndsWithTheTotals) {
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  append_records(*log,
                 {request_for(opened("e1", 150000)), request_for(donation("e2", "d-17", 2500)),
                  request_for(refund("e3", "e2", 500))});
  ASSERT_TRUE(project(*log, *store, 10).has_value());
  std::ostringstream canonical;
  auto digest = audit::compute_state_digest(*store, &canonical);
  ASSERT_TRUE(digest.has_value()) << digest.error().message;
  const std::string expected_head =
      "homeward-state v2\n"
      "case case-xf USD open 0 150000 2500 500 0 0 1 1 1 ";
  EXPECT_EQ(canonical.str().substr(0, expected_head.size()), expected_head) << canonical.str();
  EXPECT_NE(canonical.str().find("\ndonation case-xf e2 d-17 2500 500\n"), std::string::npos)
      << canonical.str();
  // The last event line carries e3's fingerprint, then the totals follow.
  const std::string fingerprint = audit::to_hex(std::string_view(
      reinterpret_cast<const char*>(events::fingerprint(refund("e3", "e2", 500)).data()), 16));
  EXPECT_NE(canonical.str().find(fmt::format("\nevent case-xf e3 {}\ntotals 3 0 0\n", fingerprint)),
            std::string::npos)
      << canonical.str();
  EXPECT_EQ(digest->lines, 1 + 1 + 1 + 3 + 1 + engine::kRejectReasonCount);
}

}  // namespace
}  // namespace homeward::testing
