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

struct BatchCommit {
  // Touched cases; the store writes their summary and dirty records. The
  // caller clears `dirty` after a successful commit.
  std::vector<const CaseLedger*> cases;
  std::vector<RejectionRecord> rejections;
  ProjectionTotals totals;  // the totals after this batch (not a delta)
  Checkpoints checkpoints;  // every partition's position after this batch
};

class ProjectionStore {
 public:
  virtual ~ProjectionStore() = default;

  [[nodiscard]] virtual Result<Checkpoints> load_checkpoints() = 0;
  [[nodiscard]] virtual Result<ProjectionTotals> load_totals() = 0;
  // The case as of the last commit (dirty empty), or nullopt when no event of
  // this case_id was ever committed.
  [[nodiscard]] virtual Result<std::optional<CaseLedger>> load_case(std::string_view case_id) = 0;
  // All of it or nothing.
  [[nodiscard]] virtual Status commit(const BatchCommit& batch) = 0;
};

}  // namespace homeward::engine
