// RocksDB helpers shared by the store's writes (rocksdb_store.cc,
// store_writer.cc) and reads (queries.cc); private to projections/, the only
// module besides the embedded log that includes RocksDB.
//
// The store is one RocksDB database with three column families, each kind of
// record in the family whose settings suit it (rocksdb_store.cc, open):
//   cases    c: the case summaries, read one at a time by dashboards and all
//            together by `cases` and `stats`; small, kept compact;
//   history  h: every event of every case, about the log's size, written once
//            and read a case at a time;
//   default  everything else (donors, the donor index, rejections, metadata).
// A key's family follows from its first byte (family_of), so that readers
// and writers agree on where every key lives and a scan of a prefix reads one
// family.
//
// Every read of the store goes through one ReadSnapshot, so that a reader
// sees one batch boundary even while the projector commits (reads are
// thread-safe; RocksDB's DB methods are). RocksDB statuses become Errors
// here, at the module edge.
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/impact.h"
#include "events/error.h"

namespace homeward::projections {

// kCorruption for RocksDB corruption, kIo otherwise; the message starts
// with `context` and keeps RocksDB's own words. (A second writer never gets
// this far: engine::WriterLock refuses it first, with its own kBusy.)
[[nodiscard]] Error rocksdb_error(const rocksdb::Status& status, std::string_view context);

// How every write of the store goes to RocksDB. Through the WAL, unsynced:
// the log is the truth and the store can be rebuilt from it, so a commit
// need not be durable when it returns (DESIGN decision 2), but the WAL is
// how readers in other processes (RocksDB secondary instances) see commits
// that are still in the writer's memtables.
[[nodiscard]] inline rocksdb::WriteOptions store_write_options() {
  rocksdb::WriteOptions options;
  options.sync = false;
  return options;
}

enum class Family : uint8_t { kDefault = 0, kCases = 1, kHistory = 2 };
inline constexpr size_t kFamilyCount = 3;
// RocksDB's names of the families, by Family ("default" is RocksDB's own).
inline constexpr std::array<const char*, kFamilyCount> kFamilyNames = {"default", "cases",
                                                                       "history"};
// The family of a key (of any key starting with `prefix`, for a non-empty
// prefix).
[[nodiscard]] Family family_of(std::string_view key);

// The database and its column family handles (owned by RocksProjectionStore).
struct StoreDb {
  rocksdb::DB* db = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, kFamilyCount> families{};
  // A reader beside the writer (a RocksDB secondary instance). It has no
  // snapshots: its view changes only when it catches up with the writer.
  bool secondary = false;

  [[nodiscard]] rocksdb::ColumnFamilyHandle* handle(Family family) const {
    return families[static_cast<size_t>(family)];
  }
  [[nodiscard]] rocksdb::ColumnFamilyHandle* handle_for(std::string_view key) const {
    return handle(family_of(key));
  }
};

// Iterates over every key starting with `prefix` (all keys when empty), in
// key order, over `read`'s snapshot: one family's iterator for a prefix,
// a merge of the families' iterators for all keys. With a `start` key (which
// must start with `prefix`) it seeks there and begins at the first key at or
// after it, so that a page of a range reads only what it returns.
class StoreIterator {
 public:
  StoreIterator(const StoreDb& db, rocksdb::ReadOptions read, std::string_view prefix,
                std::string_view start = {});
  [[nodiscard]] bool valid() const { return current_ != nullptr; }
  [[nodiscard]] std::string_view key() const;
  [[nodiscard]] std::string_view value() const;
  void next();
  // RocksDB's status of every iterator, the first failure as an Error.
  [[nodiscard]] Status status() const;

 private:
  void pick();
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> iterators_;
  rocksdb::Iterator* current_ = nullptr;  // the valid iterator at the smallest key
};

// A consistent view of the database for the lifetime of the object: a
// RocksDB snapshot in the writer, the view of its last catch-up in a reader.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(const StoreDb& db)
      : db_(db), snapshot_(db.secondary ? nullptr : db.db->GetSnapshot()) {}
  ~ReadSnapshot() {
    if (snapshot_ != nullptr) db_.db->ReleaseSnapshot(snapshot_);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  [[nodiscard]] rocksdb::ReadOptions options() const {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    return options;
  }

  [[nodiscard]] const StoreDb& db() const { return db_; }

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
  // The count of distinct donors kept with every commit (m/donors), zero
  // when none was written yet.
  [[nodiscard]] Result<int64_t> donor_count() const;

 private:
  const StoreDb& db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace homeward::projections
