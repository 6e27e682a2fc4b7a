// The projection store on RocksDB: derived state, read positions and chain
// heads in one database (DESIGN decision 2), plus the reads behind SPEC
// section 7.
//
// Durability: writes go through the WAL unsynced, with atomic_flush on. The
// log is the truth and this store can always be rebuilt from it, so a crash
// may lose the last batches but never splits one: the positions are in the
// same WriteBatch, or the same ingested SST file, as the state they produced
// (store_writer.h). The destructor writes what the writer holds and flushes
// memtables, so that a clean exit keeps everything.
//
// Processes: one writer (`open`, which takes engine::WriterLock: a second
// writer gets kBusy naming the first) and any number of readers beside it
// (`open_reader`: a RocksDB secondary instance, which writes nothing into the
// store's directory, so read-only copies can be read). A reader's view is one
// commit boundary of the writer, the last one it caught up with.
//
// A store is bound to the log it was built from (bind_to_log): the figures
// of one ledger are never read against, or extended from, another.
//
// Threads: reads are thread-safe; `commit` must come from one thread at a
// time.
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
#include "engine/scratch_dir.h"
#include "engine/writer_lock.h"
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
  // Opens the store in `dir` for writing, creating it when missing. kBusy
  // when another process writes it (`holder` is what this one is called in
  // that message); kReadOnly when the directory cannot be written;
  // kCorruption when it was written by an incompatible version of Homeward
  // (rebuild it with `homeward project --rebuild`).
  [[nodiscard]] static Result<std::unique_ptr<RocksProjectionStore>> open(
      const std::filesystem::path& dir, std::string_view holder = "homeward");
  // Opens the store in `dir` for reading beside its writer, if any. kNotFound
  // when there is no store; commits are refused.
  [[nodiscard]] static Result<std::unique_ptr<RocksProjectionStore>> open_reader(
      const std::filesystem::path& dir);
  // Deletes the store in `dir` (nothing to do when there is none); kBusy
  // while a writer has it. It is renamed away first, so that no process
  // ever opens a half-deleted store.
  [[nodiscard]] static Status destroy(const std::filesystem::path& dir);
  // Puts the closed store in `built` where `live` is, in one atomic rename
  // (readers open the old store or the new one, never neither), then deletes
  // the old one. `live_lock` is the writer lock of `live`, held since the
  // build began, so that no writer changed it in between.
  [[nodiscard]] static Status swap_in(const std::filesystem::path& built,
                                      const std::filesystem::path& live,
                                      std::unique_ptr<engine::WriterLock> live_lock);

  [[nodiscard]] bool is_reader() const { return writer_ == nullptr; }
  // A reader: moves its view to the writer's last commit. The view does not
  // change between two calls, so a query that reads many records reads one
  // commit boundary. Nothing to do in the writer.
  [[nodiscard]] Status catch_up_with_writer();
  // Reads every block of every table file of the store and checks its
  // checksum (RocksDB's VerifyChecksum): kCorruption naming the file and
  // offset of the first bad block (the audit's `checksums` check).
  [[nodiscard]] Status verify_checksums() const;
  // The identity of the log this store was built from (the embedded log's
  // id, or the Kafka cluster and topic); nullopt while it is unbound.
  [[nodiscard]] Result<std::optional<std::string>> bound_log() const;
  // Binds an unbound store to `identity`; kInvalidArgument, with advice, when
  // it is bound to another log. The writer only, before it commits.
  [[nodiscard]] Status bind_to_log(std::string_view identity);
  // The writer's lock (nullptr in a reader), to name the holder better.
  [[nodiscard]] engine::WriterLock* writer_lock() { return lock_.get(); }

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
  RocksProjectionStore(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<StoreDb> handles);
  // A writer's lock, released after the database closes (declared first,
  // destroyed last); a reader's scratch directory for RocksDB's own files.
  std::unique_ptr<engine::WriterLock> lock_;
  std::unique_ptr<engine::ScratchDir> secondary_dir_;
  std::unique_ptr<rocksdb::DB> db_;
  // The database and its column families (store_internal.h); the handles
  // are released before db_ closes.
  std::unique_ptr<StoreDb> handles_;
  // In a store that was empty at open, the case ids given to it, so that
  // load_case skips cases that cannot be there (rocksdb_store.cc).
  std::unique_ptr<WrittenKeys> written_;
  // The global donor set's count and what is known of it (rocksdb_store.cc).
  std::unique_ptr<GlobalDonors> donors_;
  // Sorts and writes the commits on a thread of its own (store_writer.h);
  // none in a reader.
  std::unique_ptr<StoreWriter> writer_;
  // The size of the last commit, to reserve room for the next.
  size_t last_commit_bytes_ = 0;
  size_t last_commit_records_ = 0;
};

}  // namespace homeward::projections
