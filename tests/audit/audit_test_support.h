// Shared pieces of the audit tests: a ledger directory (embedded log + live
// projections) built from the integration tests' rich stream, tampering with
// the embedded log's RocksDB directly (as someone with `ldb` would), and
// running the audit. Header-only and test-only.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "projections/audit/audit.h"
#include "projections/audit/findings.h"
#include "tests/integration/projection_test_support.h"

namespace homeward::testing {

namespace audit = projections::audit;

inline std::string offset_key(int64_t offset) {
  std::string key(8, '\0');
  auto value = static_cast<uint64_t>(offset);
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return key;
}

// Opens the embedded log's RocksDB (both column families) and hands the DB
// and the "keys" family to `change`. The log must be closed.
inline void tamper_log(
    const std::filesystem::path& log_dir,
    const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& change) {
  rocksdb::Options options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {"keys", rocksdb::ColumnFamilyOptions(options)},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened =
      rocksdb::DB::Open(rocksdb::DBOptions(options), log_dir.string(), families, &handles, &raw);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);
  change(*db, handles[1]);
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  ASSERT_TRUE(db->Close().ok());
}

// DIR/log and DIR/projections, as the CLI lays them out.
class LedgerDir {
 public:
  LedgerDir() { open(); }

  void open() {
    log_ = open_log(dir_.path() / "log");
    live_ = open_store(dir_.path() / "projections");
  }
  void close() {
    log_.reset();
    live_.reset();
  }

  void append(const std::vector<AppendRequest>& records) { append_records(*log_, records); }
  void project(size_t batch = 64) {
    auto report = testing::project(*log_, *live_, batch);
    ASSERT_TRUE(report.has_value()) << report.error().message;
  }

  // Closes everything, lets `change` edit the log's RocksDB, reopens.
  void tamper(const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& change) {
    close();
    tamper_log(dir_.path() / "log", change);
    open();
  }

  Result<audit::AuditResult> run(const std::string& name,
                                 std::optional<std::filesystem::path> verify_against = {},
                                 bool with_live = true) {
    audit::AuditOptions options;
    options.out_dir = dir_.path() / name;
    options.verify_against = std::move(verify_against);
    options.log_description = "test log";
    options.batch_events_max = 50;  // several batches even for small logs
    return audit::run_audit(*log_, with_live ? live_.get() : nullptr, options);
  }

  [[nodiscard]] const std::filesystem::path& path() const { return dir_.path(); }
  EmbeddedLog& log() { return *log_; }
  RocksProjectionStore& live() { return *live_; }

 private:
  TempDir dir_;
  std::unique_ptr<EmbeddedLog> log_;
  std::unique_ptr<RocksProjectionStore> live_;
};

inline std::string all_findings(const audit::Findings& findings) {
  std::string text;
  for (const audit::Finding& finding : findings) text += audit::describe(finding) + "\n";
  return text;
}

inline const audit::Finding* find_check(const audit::Findings& findings, audit::Check check) {
  for (const audit::Finding& finding : findings) {
    if (finding.check == check) return &finding;
  }
  return nullptr;
}

// The finding of `check` at `offset`, or null.
inline const audit::Finding* find_at(const audit::Findings& findings, audit::Check check,
                                     int64_t offset) {
  for (const audit::Finding& finding : findings) {
    if (finding.check == check && finding.offset == Offset(offset)) return &finding;
  }
  return nullptr;
}

}  // namespace homeward::testing
