// RocksDB helpers shared by the store's writes (rocksdb_store.cc) and reads
// (queries.cc); private to projections/, the only module besides the
// embedded log that includes RocksDB.
//
// Every read of the store goes through one ReadSnapshot, so that a reader
// sees one batch boundary even while the projector commits (reads are
// thread-safe; RocksDB's DB methods are). RocksDB statuses become Errors
// here, at the module edge.
#pragma once

#include <rocksdb/db.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/impact.h"
#include "events/error.h"

namespace homeward::projections {

// kCorruption for RocksDB corruption, kBusy for a held LOCK, kIo otherwise;
// the message starts with `context` and keeps RocksDB's own words.
[[nodiscard]] Error rocksdb_error(const rocksdb::Status& status, std::string_view context);
// True when the status says another process (or another handle in this
// process) holds the database's LOCK file.
[[nodiscard]] bool is_lock_error(const rocksdb::Status& status);

// A consistent view of the database for the lifetime of the object.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
  ~ReadSnapshot() { db_.ReleaseSnapshot(snapshot_); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  [[nodiscard]] rocksdb::ReadOptions options() const {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    return options;
  }

  // The value at `key`, or nullopt when there is none.
  [[nodiscard]] Result<std::optional<std::string>> get(std::string_view key) const;

  // Visits every key that starts with `prefix` (every key when it is empty),
  // in key order, with the prefix still on the key. Stops at the first error
  // that `visit` returns and returns it.
  [[nodiscard]] Status scan(
      std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view value)>& visit) const;

  // The totals record, zeros when none was written yet.
  [[nodiscard]] Result<engine::ProjectionTotals> totals() const;

 private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace homeward::projections
