// The projector: reads the log from the stored positions, decodes and
// verifies each record, folds it into its case with the ledger rules, and
// commits each batch atomically with the new positions (DESIGN decisions 2-4).
//
// Per event it costs a verify, a decode, a fingerprint and a few hash-map
// operations; RocksDB is written once per batch. Cases are loaded from the
// store on first touch and kept in memory. After any error the Projector
// must be discarded (its in-memory cases may be ahead of the store); a new
// one resumes exactly at the last commit. Not thread-safe.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/chain_index.h"
#include "engine/event_log.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "events/error.h"
#include "events/event.h"
#include "events/fingerprint.h"

namespace homeward::engine {

// Sees every record the projector projects, in log order per partition, with
// its outcome: the audit's second, independent fold (projections/audit). It
// is called on the projector's thread before the batch commits; `event` is
// null when the record was malformed (the outcome is then rejected
// malformed). It must not keep the pointers.
class ProjectionObserver {
 public:
  virtual ~ProjectionObserver() = default;
  virtual void on_record(const LogRecord& record, const events::Event* event,
                         const Outcome& outcome) = 0;
  // The position of `partition` moved to `next_offset` past offsets that
  // hold no record (RecordBatch::skipped_to), after every record before it.
  virtual void on_skip(Partition partition, Offset next_offset) = 0;
};

struct ProjectorOptions {
  size_t batch_events_max = 100'000;
  // When not zero, batches grow to this many events per case the projector
  // holds, from batch_events_max up to batch_events_cap. Each commit rewrites
  // the summary of every case its batch touched, and a batch of a given size
  // touches more cases the more there are: at 100k cases, batches of 300k
  // events replayed 10M events in 36 s instead of 46 s (bench/README.md).
  // Larger batches hold more records in memory (two batches at a time).
  size_t batch_events_per_case = 0;
  size_t batch_events_cap = 300'000;
  std::chrono::milliseconds read_wait{100};
  // The most heap bytes the cases held in memory may take (CaseLedger::
  // memory_bytes). After each commit, while they take more, the least
  // recently used cases are dropped: every case is written back by the commit
  // of the batch that touched it, so a dropped case is loaded again from the
  // store (by folding its history) on its next event, with the same figures.
  // The default is 1 GiB (docs/design.md, limits); the bound is what keeps
  // `project --follow` in constant memory over months.
  size_t case_cache_bytes = size_t{1} << 30;
  // Not owned; null: nobody watches (one pointer test per record).
  ProjectionObserver* observer = nullptr;
};

struct ProjectionProgress {
  int64_t events_read = 0;    // in this run
  int64_t events_behind = 0;  // lag to the end offsets taken at the start
};
using ProgressCallback = std::function<void(const ProjectionProgress&)>;

struct CatchUpReport {
  int64_t events_read = 0;
  int64_t batches_committed = 0;
};

class Projector {
 public:
  Projector(EventLogReader& log, ProjectionStore& store, ProjectorOptions options = {});

  // Projects every record up to the end offsets the log reports when called,
  // then returns. Calls `progress` after each committed batch.
  [[nodiscard]] Result<CatchUpReport> catch_up(const ProgressCallback& progress = {});

  // The cases held in memory and the bytes they are counted at (the bound of
  // ProjectorOptions::case_cache_bytes holds after every commit).
  [[nodiscard]] size_t cached_cases() const { return cases_.size(); }
  [[nodiscard]] size_t cached_case_bytes() const { return cached_bytes_; }

 private:
  // A record as the fold needs it: the chain head after it and the event
  // verified and decoded (or why it is malformed). Computed with the read, on
  // the prefetching thread, since none of it depends on the fold.
  struct PreparedRecord {
    bool redelivered = false;  // already projected: skipped
    ChainHead chain_head{};
    std::optional<Result<events::Event>> event;  // empty when redelivered
    events::Fingerprint fingerprint{};           // of the event, when it decoded
  };
  struct PreparedBatch {
    RecordBatch batch;
    std::vector<PreparedRecord> records;  // one per batch.records
  };

  [[nodiscard]] Status start();
  // Prepares every record of `prepared.batch`, advancing `read_positions`
  // (where each partition's chain stands for the records read so far).
  // Touches nothing else of the projector, so it may run on another thread.
  void prepare_batch(PreparedBatch& prepared, Checkpoints& read_positions) const;
  // Folds the batch and commits it; returns how many records it projected
  // (records already committed, redelivered by the log, are skipped). A
  // batch that only moves positions past offsets without records
  // (RecordBatch::skipped_to) commits those positions.
  [[nodiscard]] Result<int64_t> project_batch(PreparedBatch& prepared);
  [[nodiscard]] Result<CaseLedger*> find_or_load_case(const std::string& case_id);
  // The number of events to read next (ProjectorOptions::batch_events_*).
  [[nodiscard]] size_t next_batch_events() const;

  EventLogReader& log_;
  ProjectionStore& store_;
  ProjectorOptions options_;
  bool started_ = false;
  // Set by any error: the in-memory state may be ahead of the store, so every
  // later catch_up refuses to run.
  bool failed_ = false;
  Checkpoints checkpoints_;
  // The per-record chain index of the batch being projected (chain_index.h).
  ChainIndexBuilder chain_index_;
  ProjectionTotals totals_;
  // Drops least recently used cases until the cache fits case_cache_bytes;
  // called after a commit, when no case is dirty.
  void evict_cases();

  // A case held in memory, with its place in the recency list and the bytes
  // it was last counted at.
  struct CachedCase {
    std::unique_ptr<CaseLedger> ledger;  // unique_ptr: the touched lists keep pointers
    std::list<std::string>::iterator recency;
    size_t bytes = 0;
  };
  // Ledgers by case_id.
  absl::flat_hash_map<std::string, CachedCase> cases_;
  // Case ids, most recently used first.
  std::list<std::string> recency_;
  size_t cached_bytes_ = 0;
};

// The next chain head after reading `value` at `offset` (see ChainHead).
[[nodiscard]] ChainHead next_chain_head(const ChainHead& previous, Offset offset,
                                        std::string_view value);

}  // namespace homeward::engine
