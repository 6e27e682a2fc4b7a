// Point-in-time figures (`homeward case|cases|stats --as-of T`): what the
// ledger held from the events whose occurred_at is at or before T.
//
// The events at or before T are folded from scratch, case by case, in log
// order, by the same rules (engine::handle_event): so a refund whose donation
// occurred after T is then an unknown_donation, a donation before its case's
// CaseOpened an unknown_case, and so on. The answer is exactly what a fresh
// store would hold had only those events been published, in the same order.
// It reads the case histories kept in the store (case_history.h), never the
// log: `case X --as-of T` reads only case X's history.
//
// Malformed records (bytes that never decoded) have no trustworthy
// occurred_at, so no point-in-time view contains them; the live figures count
// them (docs/reports.md). Thread-safe for reads.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "events/error.h"
#include "events/strong_int.h"
#include "projections/paging.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

// The instant an `--as-of` / `as_of=` text names: an RFC 3339 timestamp, or
// a date YYYY-MM-DD meaning the end of that day in UTC, its last
// microsecond (the figures once the whole day's events are in). Shared by
// the CLI and the HTTP API so that both read the same text the same way.
[[nodiscard]] Result<TimestampMicros> parse_as_of(std::string_view text);
// Whether `text` has the shape YYYY-MM-DD (digits and dashes).
[[nodiscard]] bool is_as_of_date(std::string_view text);

// The case as of `as_of`; nullopt when it was not opened by then (or has no
// event at all).
[[nodiscard]] Result<std::optional<engine::CaseSummary>> case_as_of(
    const RocksProjectionStore& store, std::string_view case_id, TimestampMicros as_of);

// The cases opened by `as_of`, sorted by case_id (as list_cases).
[[nodiscard]] Result<std::vector<CaseView>> cases_as_of(const RocksProjectionStore& store,
                                                        TimestampMicros as_of);

// A page of the cases opened by `as_of` (projections/paging.h), with the
// status each had then. Reads from a seek to the cursor and stops once it
// knows whether another case follows the page.
[[nodiscard]] Result<CasePage> query_cases_as_of(const RocksProjectionStore& store,
                                                 const CaseQuery& query, TimestampMicros as_of);

// The impact report of SPEC section 6 as of `as_of`. Its event counters count
// only the events at or before `as_of`, including those of cases that were
// never opened.
[[nodiscard]] Result<engine::ImpactReport> impact_as_of(const RocksProjectionStore& store,
                                                        TimestampMicros as_of);

}  // namespace homeward::projections
