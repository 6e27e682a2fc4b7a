// The ProjectionStore port: where the projector keeps derived state, together
// with the read positions that produced it.
//
// The contract that makes projection exactly-once: `commit` writes the
// changed case records, the new rejections, the totals and the positions in
// one atomic write. After a crash the store is at some batch boundary, and
// reading resumes at the positions stored with it. The RocksDB implementation
// is in projections/. Not thread-safe: one projector owns a store.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/rules.h"
#include "events/error.h"
#include "events/event.h"
#include "events/strong_int.h"

namespace homeward::engine {

// SHA-256 chain over the records read from one partition:
// head_n = SHA-256(head_{n-1} || offset_n as 8 bytes big-endian || value_n),
// head_0 = 32 zero bytes.
using ChainHead = std::array<uint8_t, 32>;

// Tamper localisation (docs/audit.md): the chain head alone says only that
// something before a position differs. So the store also keeps, for every
// record, the first 8 bytes of the chain head after it; the audit compares
// these with its replay and names the first record whose head differs. They
// are kept in segments of consecutive records of one partition that never
// cross a multiple of kChainWindowRecords (the interval of the full heads that
// report.json lists): one store record per 1,024 records, not one per record,
// which cost a fifth of a replay's writes. Each commit rewrites the segments
// its records extend, whole, so that a segment's final bytes, like the rest of
// the store, do not depend on how the log was split into batches.
inline constexpr int64_t kChainWindowRecords = 1024;
inline constexpr size_t kChainHeadPrefixBytes = 8;

// A segment starts at a multiple of kChainWindowRecords, or at the first
// record after a gap in the partition's offsets (Kafka's transaction markers,
// or where projection began).
struct ChainSegment {
  Partition partition;
  Offset first_offset;
  // kChainHeadPrefixBytes per record: the head prefix after record
  // first_offset + i is bytes [8 i, 8 i + 8).
  std::string head_prefixes;
  [[nodiscard]] int64_t size() const {
    return static_cast<int64_t>(head_prefixes.size() / kChainHeadPrefixBytes);
  }
  bool operator==(const ChainSegment&) const = default;
};

struct PartitionCheckpoint {
  Offset next_offset;  // the first offset not yet projected
  ChainHead chain_head{};
  bool operator==(const PartitionCheckpoint&) const = default;
};
using Checkpoints = std::map<Partition, PartitionCheckpoint>;

// One rejected event, as `homeward rejections` lists it. case_id and
// event_id are empty when a malformed record did not reveal them.
struct RejectionRecord {
  std::string case_id;
  std::string event_id;
  std::optional<events::EventType> type;
  RejectReason reason = RejectReason::kMalformed;
  Partition partition;
  Offset offset;
  std::string detail;  // for malformed: what failed to verify; else empty
  bool operator==(const RejectionRecord&) const = default;
};

// Every decoded event of a case, whatever its outcome, is kept in the case's
// history, in the order the case folded it (CaseLedger::dirty.history). The
// history is the case's state as the store keeps it: a ledger is loaded by
// folding its history again with the same rules (so donations, pledges and
// handled ids need no records of their own), and point-in-time queries and
// donor statements fold it too (docs/reports.md).

struct BatchCommit {
  // Touched cases; the store writes their summary, their new history events
  // and the donor records their `dirty` lists name. It takes the bytes of the
  // new history events (moves them out, leaving dirty.history's entries
  // empty) rather than copy them: a replay commits every event's bytes. The
  // caller clears `dirty` after a successful commit.
  std::vector<CaseLedger*> cases;
  std::vector<RejectionRecord> rejections;
  ProjectionTotals totals;  // the totals after this batch (not a delta)
  Checkpoints checkpoints;  // every partition's position after this batch
  // The chain index segments this batch's records extended, each whole
  // (every head prefix it holds so far; see ChainSegment).
  std::vector<ChainSegment> chain_segments;
};

class ProjectionStore {
 public:
  virtual ~ProjectionStore() = default;

  [[nodiscard]] virtual Result<Checkpoints> load_checkpoints() = 0;
  [[nodiscard]] virtual Result<ProjectionTotals> load_totals() = 0;
  // The case as of the last commit (dirty empty), or nullopt when no event of
  // this case_id was ever committed. Rebuilt by folding the case's history
  // with the rules; kCorruption when that does not give the stored summary.
  [[nodiscard]] virtual Result<std::optional<CaseLedger>> load_case(std::string_view case_id) = 0;
  // The chain index segment that ends just before `next_offset` of
  // `partition`, when the record at next_offset would extend it (same window,
  // no gap): the projector keeps filling it after a restart. An empty segment
  // otherwise.
  [[nodiscard]] virtual Result<ChainSegment> load_open_chain_segment(Partition partition,
                                                                     Offset next_offset) = 0;
  // All of it or nothing.
  [[nodiscard]] virtual Status commit(const BatchCommit& batch) = 0;

  // Like commit, but it may return before the batch is written, so that the
  // caller folds the next batch while this one is written (the projector
  // does: two cores instead of one). Everything it needs from `batch` and
  // the ledgers is copied (or, for history bytes, taken) before it returns,
  // so the caller may change them then. A failed write is returned by the next commit_pipelined or
  // wait_for_commits (all of it or nothing still holds: the store is then at
  // the batch boundary before the failed batch). load_checkpoints,
  // load_totals and load_case see every batch given before them. The
  // default is a plain commit.
  [[nodiscard]] virtual Status commit_pipelined(const BatchCommit& batch) { return commit(batch); }
  // Returns once every batch given to commit_pipelined is written, with the
  // failure of the first one that failed.
  [[nodiscard]] virtual Status wait_for_commits() { return {}; }
};

}  // namespace homeward::engine
