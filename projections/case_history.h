// The case history: every decoded event of a case, in the order the case
// folded it, kept by the projector in the same commit as the case
// (CaseLedger::dirty.history; keys `h case_id \0 sequence` in
// projections/record_codec.h).
//
// A case's history is its state as the store keeps it: folding it again from
// scratch with the ledger rules gives the case's ledger (load_case does), and
// folding a subset gives read models: the events at or before a time
// (point-in-time figures), one donor's events (donor statements), the applied
// events of a month (periods). It reads only the store, never the log. Stored
// bytes are decoded (and so verified) again on every read; a record that does
// not decode, names another case, or is out of sequence is kCorruption.
//
// Functions read through one store snapshot per call; they are thread-safe
// for reads, like the store's own queries.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/rules.h"
#include "events/error.h"
#include "events/event.h"
#include "events/strong_int.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

// One event of a case's history and where the log holds it.
struct HistoryEvent {
  Partition partition;
  Offset offset;
  events::Event event;
};

// Which events of the histories a fold takes.
struct HistoryFilter {
  // Only this case; every case (in case_id order) when empty.
  std::string_view case_id;
  // Only events whose occurred_at is at or before this instant; all when unset.
  std::optional<TimestampMicros> as_of;
  // With every case (case_id empty): only the cases whose case_id sorts after
  // this one (bytewise), read from a seek; all when empty. A page's cursor.
  std::string_view after_case_id = {};
};

// Callbacks of fold_histories. Either may be empty.
struct HistoryFoldVisitor {
  // After each event is handled, with the case as it is after the event.
  std::function<void(const engine::CaseLedger& ledger, const HistoryEvent& event,
                     const engine::Outcome& outcome)>
      on_event;
  // Once per case that had at least one event taken by the filter, after its
  // last one, with the case folded from those events only. May move from it.
  std::function<Status(engine::CaseLedger& ledger)> on_case;
  // Asked after each on_case: true ends the fold there (a page that is full).
  std::function<bool()> done;
};

// Folds the histories the filter selects, each case from an empty ledger, in
// the case's order, with engine::handle_event: the same rules as the
// projector, so the fold of all of a case's events gives the stored case.
[[nodiscard]] Status fold_histories(const RocksProjectionStore& store, const HistoryFilter& filter,
                                    const HistoryFoldVisitor& visitor);

}  // namespace homeward::projections
