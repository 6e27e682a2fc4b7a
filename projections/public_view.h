// The public view of SPEC section 8: what anyone may see without a token
// (the portal's public pages, the public dashboard, /v1/public/*), so that
// every public surface carries the same fields and none can carry more.
//
// Built from the figures only (a case's summary, the impact report): no
// donor_ref, event id, rejection, disbursement reference or time finer than
// a day can reach it, because none is given to it. Dates are UTC days
// (`YYYY-MM-DD`). Pure functions.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

// {case_id, currency, status, goal, raised, remaining, percent_funded,
//  supporters, opened_on, fully_funded_on, closed_on, budget}; `budget` maps
// each category of the latest budget to its planned amount (empty when the
// latest goal came without a budget).
[[nodiscard]] nlohmann::ordered_json public_case_json(std::string_view case_id,
                                                      const engine::CaseSummary& summary);
// An array of public cases, in the order given (case_id order from the store).
[[nodiscard]] nlohmann::ordered_json public_cases_json(const std::vector<CaseView>& cases);

// {cases {total, open, funded, closed, ever_fully_funded}, donations, donors,
//  by_currency {CODE: {raised, goal}}, median_days_to_fully_funded}.
[[nodiscard]] nlohmann::ordered_json public_impact_json(const engine::ImpactReport& report);

// floor(100 × net / goal) (not capped); goal > 0 for an opened case.
[[nodiscard]] int64_t percent_funded(const engine::CaseSummary& summary);

}  // namespace homeward::projections
