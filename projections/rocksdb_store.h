// The projection store on RocksDB: derived state, read positions and chain
// heads in one database (DESIGN decision 2), plus the reads behind SPEC
// section 7.
//
// Durability: writes go with the WAL off and atomic_flush on. The log is the
// truth and this store can always be rebuilt from it, so a crash may lose the
// last batches but never splits one: the positions are in the same
// WriteBatch, or the same ingested SST file, as the state they produced
// (store_writer.h). The destructor writes what the writer holds and flushes
// memtables, so that a clean exit keeps everything.
//
// Ownership and threads: one RocksProjectionStore owns the directory; RocksDB's
// LOCK file makes a second process fail to open it (kBusy). Reads are
// thread-safe; `commit` must come from one thread at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "events/error.h"

namespace rocksdb {
class DB;
}  // namespace rocksdb

namespace homeward::projections {

struct WrittenKeys;  // rocksdb_store.cc
class GlobalDonors;  // rocksdb_store.cc
struct StoreDb;      // store_internal.h
class StoreWriter;   // store_writer.h

struct CaseView {
  std::string case_id;
  engine::CaseSummary summary;
};

// A forward iterator over a store's records in key order, over the snapshot
// taken when it was opened (for merge-joins of two stores: the audit). The
// views it returns stay valid until the next call to next(). It must not
// outlive its store. Not thread-safe.
class RecordCursor {
 public:
  virtual ~RecordCursor() = default;
  [[nodiscard]] virtual bool valid() const = 0;
  [[nodiscard]] virtual std::string_view key() const = 0;
  [[nodiscard]] virtual std::string_view value() const = 0;
  virtual void next() = 0;
  // Once valid() is false: whether the iteration ended cleanly.
  [[nodiscard]] virtual Status status() const = 0;
};

class RocksProjectionStore final : public engine::ProjectionStore {
 public:
  // Opens the store in `dir`, creating it when missing. kBusy when another
  // process has it open; kCorruption when it was written by an incompatible
  // version of Homeward (rebuild it with `homeward project --rebuild`).
  [[nodiscard]] static Result<std::unique_ptr<RocksProjectionStore>> open(
      const std::filesystem::path& dir);
  // Deletes the store in `dir` (nothing to do when there is none). The store
  // must not be open.
  [[nodiscard]] static Status destroy(const std::filesystem::path& dir);

  ~RocksProjectionStore() override;
  RocksProjectionStore(const RocksProjectionStore&) = delete;
  RocksProjectionStore& operator=(const RocksProjectionStore&) = delete;

  // engine::ProjectionStore
  [[nodiscard]] Result<engine::Checkpoints> load_checkpoints() override;
  [[nodiscard]] Result<engine::ProjectionTotals> load_totals() override;
  [[nodiscard]] Result<std::optional<engine::CaseLedger>> load_case(
      std::string_view case_id) override;
  [[nodiscard]] Result<engine::ChainSegment> load_open_chain_segment(Partition partition,
                                                                     Offset next_offset) override;
  [[nodiscard]] Status commit(const engine::BatchCommit& batch) override;
  // Encodes the batch on the caller's thread and hands it to the writer
  // thread, which holds commits and writes many at once (store_writer.h).
  // The read methods below see a batch once it is written: after
  // wait_for_commits, commit or any load_* (load_case of a case that cannot
  // be in a store that was empty at open does not wait).
  [[nodiscard]] Status commit_pipelined(const engine::BatchCommit& batch) override;
  [[nodiscard]] Status wait_for_commits() override;

  // Opened cases, sorted by case_id (bytewise).
  [[nodiscard]] Result<std::vector<CaseView>> list_cases() const;
  // One opened case; nullopt when the case is unknown or never opened.
  [[nodiscard]] Result<std::optional<engine::CaseSummary>> find_case(
      std::string_view case_id) const;
  // Sorted by case_id, then by log position within the case; malformed
  // records without a case_id come first.
  [[nodiscard]] Result<std::vector<engine::RejectionRecord>> list_rejections() const;
  // SPEC section 6 over the whole store.
  [[nodiscard]] Result<engine::ImpactReport> impact_report() const;
  // Every key and value in key order, for determinism tests and digests.
  [[nodiscard]] Status for_each_record(
      const std::function<void(std::string_view key, std::string_view value)>& visit) const;
  // The records whose key starts with `prefix` (all of them when empty), in
  // key order, as a cursor over one snapshot. With `start` (a key that starts
  // with `prefix`), from the first such key at or after `start`: a seek, so
  // that a page of a long range does not read what comes before it.
  [[nodiscard]] std::unique_ptr<RecordCursor> open_cursor(std::string_view prefix = {},
                                                          std::string_view start = {}) const;

 private:
  RocksProjectionStore(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<StoreDb> handles,
                       const std::filesystem::path& dir);
  std::unique_ptr<rocksdb::DB> db_;
  // The database and its column families (store_internal.h); the handles
  // are released before db_ closes.
  std::unique_ptr<StoreDb> handles_;
  // In a store that was empty at open, the case ids given to it, so that
  // load_case skips cases that cannot be there (rocksdb_store.cc).
  std::unique_ptr<WrittenKeys> written_;
  // The global donor set's count and what is known of it (rocksdb_store.cc).
  std::unique_ptr<GlobalDonors> donors_;
  // Sorts and writes the commits on a thread of its own (store_writer.h).
  std::unique_ptr<StoreWriter> writer_;
  // The size of the last commit, to reserve room for the next.
  size_t last_commit_bytes_ = 0;
  size_t last_commit_records_ = 0;
};

}  // namespace homeward::projections
