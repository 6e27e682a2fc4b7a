// The machine-readable output of SPEC section 7, shared by the CLI and (later)
// the HTTP API so that both print the same documents. Amounts are strings with
// exactly the currency's exponent digits, timestamps canonical UTC, absent
// values null; keys in the order SPEC lists them. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "projections/paging.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

[[nodiscard]] nlohmann::ordered_json case_json(std::string_view case_id,
                                               const engine::CaseSummary& summary);
[[nodiscard]] nlohmann::ordered_json cases_json(const std::vector<CaseView>& cases);
[[nodiscard]] nlohmann::ordered_json impact_json(const engine::ImpactReport& report);
[[nodiscard]] nlohmann::ordered_json rejections_json(
    const std::vector<engine::RejectionRecord>& rejections);

// A page (projections/paging.h), for output that asked for paging:
// {"cases":[case objects],"next":"CASE_ID"|null} and
// {"rejections":[rejection objects],"next":"CASE_ID/PARTITION/OFFSET"|null};
// `next` is null on the last page. Without paging the documents stay the
// plain arrays of SPEC section 7.
[[nodiscard]] nlohmann::ordered_json case_page_json(const CasePage& page);
[[nodiscard]] nlohmann::ordered_json rejection_page_json(const RejectionPage& page);

// The text of one document, as the CLI prints it with --json and the HTTP
// API sends it: compact (or indented by 2), then a newline; invalid UTF-8
// inside strings (quoted bad input) replaced rather than thrown on.
[[nodiscard]] std::string json_text(const nlohmann::ordered_json& document, bool pretty);

}  // namespace homeward::projections
