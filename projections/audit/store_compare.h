// Comparing the live projections with the audit's replay, and the live
// store's chain index with the log as it reads today.
//
// compare_stores merge-joins the two stores in key order (one cursor on each,
// so memory stays flat) and names every difference in an auditor's words:
// "case case-xf: summary differs (received: live 3819.00, replay 3800.00)",
// "case case-xf: rejection at partition 0 offset 17 missing in the live
// store". Read positions and the chain index are left to the chain checks.
//
// compare_chain_index walks both stores' chain indexes (see ChainSegment in
// engine/projection_store.h) and reports, per partition, the first offset
// whose chain head differs: the first record that was edited, inserted or
// removed since the live projections read it. Both read one snapshot per
// store; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/case_ledger.h"
#include "engine/projection_store.h"
#include "events/error.h"
#include "projections/audit/findings.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

// The fields in which two summaries of one case differ, in words:
// "received: live 3819.00, replay 3800.00; donors: live 40, replay 39", with
// `left` and `right` naming the two sides.
[[nodiscard]] std::string summary_difference(const engine::CaseSummary& left_summary,
                                             const engine::CaseSummary& right_summary,
                                             std::string_view left, std::string_view right);

struct ComparisonSummary {
  int64_t records_compared = 0;  // keys seen in either store
  int64_t differences = 0;       // all of them, even beyond those listed
};

// Lists at most `max_listed` differences as findings (the count covers all).
[[nodiscard]] Result<ComparisonSummary> compare_stores(const RocksProjectionStore& live,
                                                       const RocksProjectionStore& replay,
                                                       int64_t max_listed, Findings& findings);

struct ChainIndexSummary {
  int64_t records_compared = 0;
  int64_t partitions_with_differences = 0;
};

// Compares every record below `live_positions` (the live store's read
// positions) that the replay also reached (`replay_positions`).
[[nodiscard]] Result<ChainIndexSummary> compare_chain_index(
    const RocksProjectionStore& live, const RocksProjectionStore& replay,
    const engine::Checkpoints& live_positions, const engine::Checkpoints& replay_positions,
    Findings& findings);

}  // namespace homeward::projections::audit
