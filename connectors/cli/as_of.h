// Internal to the CLI: `--as-of WHEN` of `case`, `cases` and `stats`,
// the figures from the events whose occurred_at is at or before TIMESTAMP
// (projections/read_models/point_in_time.h; docs/reports.md).
//
// Each function takes the option's text as given: empty means "now" (the
// live projections), anything else is a date or an RFC 3339 timestamp that the option's
// validator already accepted. Not thread-safe (like the whole CLI).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "events/error.h"
#include "projections/paging.h"
#include "projections/rocksdb_store.h"

namespace CLI {
class App;
}  // namespace CLI

namespace homeward::connectors::cli {

// Adds `--as-of WHEN` to `command`: an RFC 3339 timestamp, or a date
// YYYY-MM-DD meaning the end of that day in UTC (23:59:59.999999Z, so that
// every event of the day counts). Anything else is a usage error.
void add_as_of_option(CLI::App* command, std::string& as_of);

[[nodiscard]] Result<std::optional<engine::CaseSummary>> find_case_as_of(
    const projections::RocksProjectionStore& store, std::string_view case_id,
    const std::string& as_of);
// A page of the cases (projections/paging.h), as they stood at `as_of`.
[[nodiscard]] Result<projections::CasePage> cases_page_as_of(
    const projections::RocksProjectionStore& store, const projections::CaseQuery& query,
    const std::string& as_of);
[[nodiscard]] Result<engine::ImpactReport> impact_report_as_of(
    const projections::RocksProjectionStore& store, const std::string& as_of);

// For human output: "As of 2015-12-31T23:59:59Z (events that occurred by
// then).", nothing when `as_of` is empty. Never with --json (one document).
void print_as_of_note(std::ostream& out, const std::string& as_of);

}  // namespace homeward::connectors::cli
