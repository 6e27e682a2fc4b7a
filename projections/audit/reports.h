// The audit's reports for people (docs/reports.md): beside report.json,
// `homeward audit --out DIR` writes
//   cases.csv       one row per opened case, the case fields of SPEC section 7
//                   with the budget flattened into two columns per category;
//   rejections.csv  every rejected event: case, event, type, reason, position;
//   periods.csv     applied flows per currency per calendar month (UTC);
//   report.html     one self-contained page for a board: impact figures,
//                   progress per case, surplus, deficits and rejections
//                   highlighted, a chart of money raised over time.
//
// Every figure comes from the replayed store (never the live projections) or
// from the audit's own report.json, which is read defensively: a part that is
// missing or of the wrong type is shown as "not available", never trusted.
// Survivor and donor privacy: no report here holds a donor_ref, and the HTML
// shows dates to the day only. CSV follows RFC 4180 (CRLF, quoted fields when
// needed); HTML escapes every string. Pure functions of their inputs, except
// for writing the files; thread-safe for reads of the store.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "events/error.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

// Writes the four files into `out_dir` (created when missing), replacing
// files of the same names. kIo when a file cannot be written; the store's
// errors (kCorruption, kIo) pass through.
[[nodiscard]] Status write_reports(const std::filesystem::path& out_dir,
                                   const RocksProjectionStore& replayed,
                                   const nlohmann::ordered_json& audit_report);

// One CSV field per RFC 4180: quoted (with inner quotes doubled) when it
// holds a comma, a quote, CR or LF, or starts or ends with a space.
[[nodiscard]] std::string csv_field(std::string_view text);

// Text with & < > " ' escaped for HTML element content and attribute values.
[[nodiscard]] std::string html_escape(std::string_view text);

}  // namespace homeward::projections::audit
