// The write side of the projection store: commits are encoded on the
// projector's thread into an EncodedBatch, then sorted and written to RocksDB
// on the StoreWriter's own thread, so that folding and writing use both cores.
//
// Why not one WriteBatch per commit into the memtable: a replay writes
// several records per event spread over the whole key space, and inserting
// them one by one into RocksDB's skip-list memtable cost about half of the
// replay's CPU (bench/README.md, "Where the replay's time goes"). So the
// writer holds the batches it receives and, once they add up to
// kSpillBytes, sorts them together and writes them as one SST file that
// RocksDB ingests atomically (IngestExternalFile: the bulk-load path RocksDB
// recommends). Building an SST costs a small fraction of the memtable inserts.
// When it is asked to drain (any read of the store, the end of a catch-up),
// the writer writes what it holds: a small remainder goes to the memtable as
// one sorted WriteBatch, so that a follower's small commits do not pile up as
// tiny files.
//
// Atomicity: one ingested file, or one WriteBatch, holds whole commits only,
// so the store is always at a commit boundary, and the positions in it are
// those of its last commit (last write of a key wins). A write that fails
// drops every commit held or queued after the last successful write: the
// store stays at that earlier boundary, and the failure is returned once, by
// the next submit or drain.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/error.h"
#include "projections/store_internal.h"

namespace homeward::projections {

// One commit's records in the order they were put: keys and small values
// back to back in one buffer, so that encoding a record allocates nothing of
// its own, and large values (a history event's bytes) taken over whole, so
// that they are not copied on the committing thread.
class EncodedBatch {
 public:
  void put(std::string_view key, std::string_view value) { put_parts({key}, {value}); }
  // A record whose key and value are each their parts back to back, so that
  // a key made of a prefix, an id and a number is not built in a string of
  // its own first.
  void put_parts(std::initializer_list<std::string_view> key,
                 std::initializer_list<std::string_view> value);
  // A record whose value `fill(std::string& out)` appends to `out`, so that an
  // encoder writes it in place.
  template <typename Fill>
  void put_filled(std::initializer_list<std::string_view> key, Fill&& fill) {
    const size_t offset = bytes_.size();
    const uint32_t key_size = add_key(key);
    const size_t value_start = bytes_.size();
    fill(bytes_);
    entries_.push_back(Entry{offset, key_size, checked_size(bytes_.size() - value_start), kInline});
  }
  // A record whose value is `value`, taken over (moved) rather than copied.
  void put_owned(std::initializer_list<std::string_view> key, std::string&& value);
  [[nodiscard]] size_t records() const { return entries_.size(); }
  // The bytes of keys and values.
  [[nodiscard]] size_t bytes() const { return bytes_.size() + owned_bytes_; }
  // Room for this much, so that a large commit is not copied as it grows.
  void reserve(size_t bytes, size_t records) {
    bytes_.reserve(bytes);
    entries_.reserve(records);
  }
  // Empties it and keeps its memory, for the next commit.
  void clear() {
    bytes_.clear();
    entries_.clear();
    owned_.clear();
    owned_bytes_ = 0;
  }

 private:
  friend class StoreWriter;
  // The value of an entry is in bytes_ right after its key, or it is
  // owned_[owned] when `owned` is not kInline.
  static constexpr uint32_t kInline = 0xffff'ffff;
  struct Entry {
    size_t offset;  // of the key in bytes_
    uint32_t key_size;
    uint32_t value_size;
    uint32_t owned = kInline;
  };
  uint32_t add_key(std::initializer_list<std::string_view> key);
  static uint32_t checked_size(size_t size);
  std::string bytes_;
  std::vector<Entry> entries_;
  std::vector<std::string> owned_;
  size_t owned_bytes_ = 0;
};

struct SortEntry;  // store_writer.cc

class StoreWriter {
 public:
  // Held commits are written once their bytes reach this much.
  static constexpr size_t kSpillBytes = size_t{64} << 20;
  // A drain writes less than this through the memtable instead of a file.
  static constexpr size_t kIngestMinBytes = size_t{4} << 20;
  // A drain compacts the case summaries once this many files were ingested
  // into their family since the last time (a bulk load: compact_cases).
  static constexpr int kCompactCasesAfterFiles = 4;
  // Commits queued for the writer before submit waits (memory bound).
  static constexpr size_t kMaxQueued = 4;

  // Writes to `db` (not owned, must outlive this); SST files are built in
  // `spill_dir`, which the caller creates and clears.
  StoreWriter(const StoreDb& db, std::filesystem::path spill_dir);
  ~StoreWriter();  // stops the thread; what was not drained is not written
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // An empty batch to encode the next commit into: one the writer has
  // written, when it has one, so that its memory is reused rather than
  // freshly allocated and page-faulted in (which cost the committing thread
  // a tenth of a replay).
  [[nodiscard]] EncodedBatch take_batch();
  // Hands a commit to the writer. Returns an earlier write's failure (then
  // `batch` is dropped, see the file comment).
  [[nodiscard]] Status submit(EncodedBatch batch);
  // Returns once every commit submitted is written, with the failure of the
  // first write that failed since the last submit or drain.
  [[nodiscard]] Status drain();

 private:
  void run();
  // Sorts and writes everything held; `may_use_memtable`: a small remainder
  // goes through the memtable. Writer thread only (or the caller's when no
  // thread could be started).
  [[nodiscard]] Status write_held(bool may_use_memtable);
  // Sorted, distinct records of each column family.
  struct FamilyRecords {
    struct Family {
      std::vector<std::string_view> keys;
      std::vector<std::string_view> values;
    };
    std::array<Family, kFamilyCount> families;
  };
  // Writes the records as SST files (one per family that has some) and
  // ingests them in one atomic call; with `use_two_threads`, the files are
  // built on two threads.
  [[nodiscard]] Status ingest(const FamilyRecords& records, bool use_two_threads);
  // One SST file of keys[begin, end) of one family. Thread-safe (touches
  // only `file`).
  struct FileJob {
    std::filesystem::path file;
    size_t family;
    const std::vector<std::string_view>* keys;
    const std::vector<std::string_view>* values;
    size_t begin;
    size_t end;
  };
  [[nodiscard]] Status write_file(const FileJob& job) const;
  [[nodiscard]] Status compact_cases();
  // Queue work, on whichever thread does the writing.
  void accept(EncodedBatch batch);

  const StoreDb& db_;
  const std::filesystem::path spill_dir_;
  uint64_t files_written_ = 0;
  int case_files_since_compaction_ = 0;

  // The writer thread's own state: the commits held, each with its records
  // sorted (SortEntry is in store_writer.cc).
  struct HeldBatch {
    EncodedBatch batch;
    std::vector<SortEntry> sorted;
  };
  std::vector<HeldBatch> held_;
  uint64_t next_sequence_ = 0;
  size_t held_bytes_ = 0;
  std::mutex mutex_;
  std::condition_variable work_ready_;     // to the writer: queue, drain or stop
  std::condition_variable state_changed_;  // to the submitter: space or drained
  std::deque<EncodedBatch> queue_;
  std::vector<EncodedBatch> spare_;  // written batches, emptied, for take_batch
  bool drain_requested_ = false;
  bool stop_ = false;
  std::optional<Error> error_;
  std::thread thread_;  // not joinable: no thread could be started, write inline
};

}  // namespace homeward::projections
