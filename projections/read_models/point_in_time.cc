#include "projections/read_models/point_in_time.h"

#include "events/timestamp.h"

#include <string>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "events/identifier.h"
#include "projections/case_history.h"

namespace homeward::projections {

// YYYY-MM-DD alone: the date's digits and dashes (the date itself is checked
// by the timestamp parser).
bool is_as_of_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// A date means the end of that day in UTC, its last microsecond: the
// figures once the whole day's events are in (docs/reports.md).
Result<TimestampMicros> parse_as_of(std::string_view text) {
  if (!is_as_of_date(text)) return events::parse_timestamp(text);
  const std::string end_of_day = std::string(text) + "T23:59:59.999999Z";
  auto t = events::parse_timestamp(end_of_day);
  if (!t) {
    // Say it of the date that was given, not of the timestamp made from it.
    Error error = t.error();
    for (size_t at = error.message.find(end_of_day); at != std::string::npos;
         at = error.message.find(end_of_day, at)) {
      error.message.replace(at, end_of_day.size(), text);
      at += text.size();
    }
    return std::unexpected(std::move(error));
  }
  return t;
}

Result<std::optional<engine::CaseSummary>> case_as_of(const RocksProjectionStore& store,
                                                      std::string_view case_id,
                                                      TimestampMicros as_of) {
  std::optional<engine::CaseSummary> found;
  HistoryFoldVisitor visitor;
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    if (ledger.summary.opened) found = ledger.summary;
    return {};
  };
  // An empty case id would select every case; it names none.
  if (case_id.empty()) return found;
  if (auto s = fold_histories(store, HistoryFilter{case_id, as_of}, visitor); !s) {
    return std::unexpected(s.error());
  }
  return found;
}

Result<std::vector<CaseView>> cases_as_of(const RocksProjectionStore& store,
                                          TimestampMicros as_of) {
  std::vector<CaseView> cases;
  HistoryFoldVisitor visitor;
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    if (ledger.summary.opened) cases.push_back(CaseView{ledger.case_id, ledger.summary});
    return {};
  };
  if (auto s = fold_histories(store, HistoryFilter{{}, as_of}, visitor); !s) {
    return std::unexpected(s.error());
  }
  return cases;  // the history is in case_id order, as list_cases
}

Result<CasePage> query_cases_as_of(const RocksProjectionStore& store, const CaseQuery& query,
                                   TimestampMicros as_of) {
  if (query.limit && *query.limit == 0) {
    return make_error(ErrorCode::kInvalidArgument, "a page holds at least one record (limit 0)");
  }
  if (!query.after.empty() && !events::is_valid_identifier(query.after)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("the cursor \"{}\" is not a case_id (SPEC section 2)", query.after));
  }
  CasePage page;
  HistoryFoldVisitor visitor;
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    if (!ledger.summary.opened) return {};
    if (query.status && ledger.summary.status() != *query.status) return {};
    if (query.limit && page.cases.size() == *query.limit) {
      page.next = page.cases.back().case_id;  // one more matches
      return {};
    }
    page.cases.push_back(CaseView{ledger.case_id, ledger.summary});
    return {};
  };
  visitor.done = [&] { return page.next.has_value(); };
  HistoryFilter filter{{}, as_of};
  filter.after_case_id = query.after;
  if (auto s = fold_histories(store, filter, visitor); !s) return std::unexpected(s.error());
  return page;
}

Result<engine::ImpactReport> impact_as_of(const RocksProjectionStore& store,
                                          TimestampMicros as_of) {
  engine::ImpactBuilder builder;
  engine::ProjectionTotals totals;
  // Distinct donors across cases is a set, not a sum of per-case counts.
  std::unordered_set<std::string> donors;
  HistoryFoldVisitor visitor;
  visitor.on_event = [&](const engine::CaseLedger&, const HistoryEvent&,
                         const engine::Outcome& outcome) { totals.count(outcome); };
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    builder.add_case(ledger.summary);  // ignores cases that never opened
    ledger.for_each_giver([&](std::string_view donor) { donors.emplace(donor); });
    return {};
  };
  if (auto s = fold_histories(store, HistoryFilter{{}, as_of}, visitor); !s) {
    return std::unexpected(s.error());
  }
  return std::move(builder).finish(static_cast<int64_t>(donors.size()), totals);
}

}  // namespace homeward::projections
