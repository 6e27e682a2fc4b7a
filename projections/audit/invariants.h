// The rules every projected state must satisfy, checked over a whole store
// (docs/audit.md, "Invariants"). They relate what is written or derived
// separately (a case's summary, the fold of its history with its donations
// and pledges, the totals), so a store damaged on disk or by a bug breaks one
// of them and the finding names the case.
//
// Holds every case's summary and one folded case at a time in memory.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "events/error.h"
#include "projections/audit/findings.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

struct InvariantContext {
  // "replay" or "live": goes into each finding.
  std::string store_name;
  // Applied chargebacks per case, from the replay's own fold: a case's
  // `available` may be negative only when it has one. Null: not checked.
  const std::unordered_map<std::string, int64_t>* chargebacks_by_case = nullptr;
  // The number of records read from the log to make this state: the totals
  // must add up to it. Nullopt: not checked.
  std::optional<int64_t> events_read;
};

struct InvariantSummary {
  int64_t cases_checked = 0;
  int64_t donations_checked = 0;
  int64_t pledges_checked = 0;
};

// Appends one finding per broken rule to `findings`. An error means the store
// could not be read at all.
[[nodiscard]] Result<InvariantSummary> check_invariants(const RocksProjectionStore& store,
                                                        const InvariantContext& context,
                                                        Findings& findings);

}  // namespace homeward::projections::audit
