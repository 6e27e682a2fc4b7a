// Tamper evidence: one record of the embedded log edited, deleted or
// inserted behind Homeward's back (through RocksDB directly, as `ldb` would)
// makes the audit fail and point at that record's offset.
#include <gtest/gtest.h>

#include "tests/audit/audit_test_support.h"

namespace homeward::testing {
namespace {

using audit::Check;

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    records_ = rich_log_records();
    ledger_.append(records_);
    ledger_.project();
    // The untampered ledger passes, so every failure below is the tamper's.
    auto clean = ledger_.run("clean");
    ASSERT_TRUE(clean.has_value()) << clean.error().message;
    ASSERT_TRUE(clean->passed()) << all_findings(clean->findings);
  }

  // The offset of the first DonationReceived at or after `from`.
  int64_t donation_at_or_after(int64_t from) const {
    for (size_t i = static_cast<size_t>(from); i < records_.size(); ++i) {
      auto event = events::decode_event(records_[i].value);
      if (event && event->type() == events::EventType::kDonationReceived) {
        return static_cast<int64_t>(i);
      }
    }
    ADD_FAILURE() << "no donation after offset " << from;
    return 0;
  }

  std::vector<AppendRequest> records_;
  LedgerDir ledger_;
};

TEST_F(TamperTest, EditedAmountIsFoundAtItsOffset) {
  const int64_t target = donation_at_or_after(60);
  auto event = events::decode_event(records_[static_cast<size_t>(target)].value);
  ASSERT_TRUE(event.has_value());
  auto& body = std::get<events::DonationReceived>(event->body);
  body.amount = MinorUnits(body.amount.value() + 100'000);
  const std::string edited = events::encode_event(*event);
  ledger_.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), offset_key(target), edited).ok());
  });

  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->passed());
  const audit::Finding* first = find_at(result->findings, Check::kChain, target);
  ASSERT_NE(first, nullptr) << all_findings(result->findings);
  EXPECT_EQ(first->partition, Partition(0));
  EXPECT_NE(first->message.find("not the one the live projections read"), std::string::npos);
  // No earlier offset is blamed.
  for (const audit::Finding& finding : result->findings) {
    if (finding.check == Check::kChain && finding.offset && *finding.offset != Offset(target)) {
      EXPECT_EQ(finding.offset->value(), static_cast<int64_t>(records_.size()))
          << "only the head at the live position may be named besides the record: "
          << audit::describe(finding);
    }
  }
  // The changed amount shows in the case's figures.
  const audit::Finding* difference = find_check(result->findings, Check::kComparison);
  ASSERT_NE(difference, nullptr) << all_findings(result->findings);
  EXPECT_EQ(difference->case_id, event->case_id);
}

TEST_F(TamperTest, FlippedByteIsFoundAtItsOffset) {
  ledger_.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle*) {
    std::string value;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), offset_key(17), &value).ok());
    value[value.size() / 2] = static_cast<char>(value[value.size() / 2] ^ 0x20);
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), offset_key(17), value).ok());
  });
  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_NE(find_at(result->findings, Check::kChain, 17), nullptr)
      << all_findings(result->findings);
}

TEST_F(TamperTest, DeletedRecordIsFoundAtItsOffset) {
  const int64_t target = 77;
  ledger_.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* keys) {
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), offset_key(target)).ok());
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), keys, offset_key(target)).ok());
  });
  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->passed());
  const audit::Finding* gap = find_at(result->findings, Check::kLog, target);
  ASSERT_NE(gap, nullptr) << all_findings(result->findings);
  EXPECT_EQ(gap->partition, Partition(0));
  EXPECT_EQ(result->report["checks"]["log"]["fault"]["offset"], target);
}

TEST_F(TamperTest, DeletedLastRecordIsFoundAtItsOffset) {
  const auto last = static_cast<int64_t>(records_.size()) - 1;
  ledger_.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* keys) {
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), offset_key(last)).ok());
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), keys, offset_key(last)).ok());
  });
  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->passed());
  const audit::Finding* removed = find_at(result->findings, Check::kChain, last);
  ASSERT_NE(removed, nullptr) << all_findings(result->findings);
  EXPECT_NE(removed->message.find("removed from the log"), std::string::npos);
}

TEST_F(TamperTest, DeletedRecordWithLaterOnesRenumberedIsFoundAtItsOffset) {
  // A careful forger closes the gap: every later record moves down by one.
  const int64_t target = 120;
  const auto count = static_cast<int64_t>(records_.size());
  ledger_.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* keys) {
    for (int64_t offset = target; offset + 1 < count; ++offset) {
      std::string value;
      ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), offset_key(offset + 1), &value).ok());
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), offset_key(offset), value).ok());
      std::string key;
      if (db.Get(rocksdb::ReadOptions(), keys, offset_key(offset + 1), &key).ok()) {
        ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), keys, offset_key(offset), key).ok());
      }
    }
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), offset_key(count - 1)).ok());
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), keys, offset_key(count - 1)).ok());
  });
  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_NE(find_at(result->findings, Check::kChain, target), nullptr)
      << all_findings(result->findings);
}

TEST_F(TamperTest, InsertedRecordIsFoundAtItsOffset) {
  const int64_t target = 42;
  const auto count = static_cast<int64_t>(records_.size());
  const events::Event forged = in_case(donation("forged", "d-x", 500), "case-3");
  ledger_.tamper([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* keys) {
    for (int64_t offset = count - 1; offset >= target; --offset) {
      std::string value;
      ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), offset_key(offset), &value).ok());
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), offset_key(offset + 1), value).ok());
      std::string key;
      if (db.Get(rocksdb::ReadOptions(), keys, offset_key(offset), &key).ok()) {
        ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), keys, offset_key(offset + 1), key).ok());
      } else {
        ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), keys, offset_key(offset + 1)).ok());
      }
    }
    ASSERT_TRUE(
        db.Put(rocksdb::WriteOptions(), offset_key(target), events::encode_event(forged)).ok());
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), keys, offset_key(target), "case-3").ok());
  });
  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->passed());
  EXPECT_NE(find_at(result->findings, Check::kChain, target), nullptr)
      << all_findings(result->findings);
}

TEST_F(TamperTest, AppendedRecordsAreNotTampering) {
  ledger_.append({request_for(in_case(donation("late", "d-9", 700), "case-1"))});
  auto result = ledger_.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_TRUE(result->passed()) << all_findings(result->findings);
}

}  // namespace
}  // namespace homeward::testing
