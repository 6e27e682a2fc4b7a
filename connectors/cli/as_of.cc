#include "connectors/cli/as_of.h"

#include <fmt/core.h>

#include <ostream>

#include <CLI/CLI.hpp>

#include "events/timestamp.h"
#include "projections/read_models/point_in_time.h"

namespace homeward::connectors::cli {
namespace {

// The validator ran at parse time, so a failure here is a programming error
// of the caller; it is still reported, never assumed away.
Result<TimestampMicros> parse(const std::string& as_of) {
  auto t = events::parse_timestamp(as_of);
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
                   "Figures from the events that occurred at or before TIMESTAMP (RFC 3339, "
                   "e.g. 2015-12-31T23:59:59Z), folded again by the ledger rules")
      ->type_name("TIMESTAMP")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            auto t = events::parse_timestamp(text);
            return t ? std::string()
                     : fmt::format("not an RFC 3339 timestamp: {}", t.error().message);
          },
          "TIMESTAMP"));
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
  auto t = events::parse_timestamp(as_of);
  if (!t) return;
  out << fmt::format("As of {} (events that occurred by then, folded again by the rules).\n",
                     events::format_timestamp(*t));
}

}  // namespace homeward::connectors::cli
