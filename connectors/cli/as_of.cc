#include "connectors/cli/as_of.h"

#include <fmt/core.h>

#include <ostream>
#include <string_view>

#include <CLI/CLI.hpp>

#include "events/timestamp.h"
#include "projections/read_models/point_in_time.h"

namespace homeward::connectors::cli {
namespace {

// YYYY-MM-DD alone: the date's digits and dashes (the date itself is checked
// by the timestamp parser).
bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// A date means the end of that day in UTC, its last microsecond: the
// figures once the whole day's events are in (docs/reports.md).
Result<TimestampMicros> parse_as_of(std::string_view text) {
  if (!is_date(text)) return events::parse_timestamp(text);
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

// The validator ran at parse time, so a failure here is a programming error
// of the caller; it is still reported, never assumed away.
Result<TimestampMicros> parse(const std::string& as_of) {
  auto t = parse_as_of(as_of);
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
            auto t = parse_as_of(text);
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
  auto t = parse_as_of(as_of);
  if (!t) return;
  if (is_date(as_of)) {
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
