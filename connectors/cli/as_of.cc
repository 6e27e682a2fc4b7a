#include "connectors/cli/as_of.h"

#include <fmt/core.h>

#include <ostream>
#include <string_view>

#include <CLI/CLI.hpp>

#include "events/timestamp.h"
#include "projections/read_models/point_in_time.h"

namespace homeward::connectors::cli {
namespace {

// The validator ran at parse time, so a failure here is a programming error
// of the caller; it is still reported, never assumed away.
Result<TimestampMicros> parse(const std::string& as_of) {
  auto t = projections::parse_as_of(as_of);
  if (!t) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--as-of {}: {}", as_of, t.error().message));
  }
  return *t;
}

}  // namespace

void add_as_of_option(CLI::App* command, std::string& as_of) {
  command
      ->add_option("--as-of", as_of,
                   "Figures from the events that occurred at or before WHEN, folded again by "
                   "the ledger rules: an RFC 3339 timestamp (2015-12-31T23:59:59Z) or a date "
                   "YYYY-MM-DD, meaning the end of that day in UTC")
      ->type_name("WHEN")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            auto t = projections::parse_as_of(text);
            return t ? std::string()
                     : fmt::format("not a date YYYY-MM-DD or an RFC 3339 timestamp: {}",
                                   t.error().message);
          },
          ""));
}

Result<std::optional<engine::CaseSummary>> find_case_as_of(
    const projections::RocksProjectionStore& store, std::string_view case_id,
    const std::string& as_of) {
  if (as_of.empty()) return store.find_case(case_id);
  auto t = parse(as_of);
  if (!t) return std::unexpected(t.error());
  return projections::case_as_of(store, case_id, *t);
}

Result<projections::CasePage> cases_page_as_of(const projections::RocksProjectionStore& store,
                                               const projections::CaseQuery& query,
                                               const std::string& as_of) {
  if (as_of.empty()) return projections::query_cases(store, query);
  auto t = parse(as_of);
  if (!t) return std::unexpected(t.error());
  return projections::query_cases_as_of(store, query, *t);
}

Result<engine::ImpactReport> impact_report_as_of(const projections::RocksProjectionStore& store,
                                                 const std::string& as_of) {
  if (as_of.empty()) return store.impact_report();
  auto t = parse(as_of);
  if (!t) return std::unexpected(t.error());
  return projections::impact_as_of(store, *t);
}

void print_as_of_note(std::ostream& out, const std::string& as_of) {
  if (as_of.empty()) return;
  auto t = projections::parse_as_of(as_of);
  if (!t) return;
  if (projections::is_as_of_date(as_of)) {
    out << fmt::format(
        "As of the end of {} UTC ({}: events that occurred by then, folded again by the "
        "rules).\n",
        as_of, events::format_timestamp(*t));
    return;
  }
  out << fmt::format("As of {} (events that occurred by then, folded again by the rules).\n",
                     events::format_timestamp(*t));
}

}  // namespace homeward::connectors::cli
