// The stage-2 outcome of events already projected, read back from the store:
// what `publish --wait` and the HTTP API's `POST /v1/events?wait=outcome`
// answer for an appended event once the projections have reached it
// (applied, duplicate, or rejected with its SPEC reason).
//
// Every decoded event is kept in its case's history whatever its outcome
// (case_history.h), so folding the case's history again with the ledger
// rules gives each event's outcome exactly as the projector decided it
// (the rules read only that case's state, SPEC section 4). Records that
// never decoded (malformed) are in no history; the publishers only append
// events that passed stage 1, so theirs always are. Thread-safe for reads.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/rules.h"
#include "events/error.h"
#include "events/strong_int.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

// An appended event: its case (the record's key) and where the log holds it.
struct ProjectedEvent {
  std::string case_id;
  Partition partition;
  Offset offset;
};

// The outcome of each event, in the order given; nullopt for one that the
// store does not hold (not projected yet, or not at that position of that
// case's history). Each case's history is folded once per call.
[[nodiscard]] Result<std::vector<std::optional<engine::Outcome>>> find_outcomes(
    const RocksProjectionStore& store, std::span<const ProjectedEvent> events);

// The SPEC words of an outcome: "applied", "duplicate" or "rejected".
[[nodiscard]] std::string_view disposition_name(engine::Disposition disposition);

}  // namespace homeward::projections
