#include "connectors/cli/table_output.h"

#include <algorithm>
#include <ostream>

#include <fmt/core.h>

#include "engine/rules.h"
#include "events/check.h"
#include "events/event.h"
#include "events/money.h"
#include "events/timestamp.h"

namespace homeward::connectors::cli {
namespace {

using events::format_amount;

// Amounts in human output: SPEC's digits, grouped in thousands.
std::string amount(MinorUnits value, const events::Currency& currency) {
  return group_thousands(format_amount(value, currency.exponent));
}

std::string amount(const events::WideMinorUnits& value, uint8_t exponent) {
  return group_thousands(format_amount(value, exponent));
}

std::string count(int64_t value) { return group_thousands(value); }

std::string optional_time(const std::optional<TimestampMicros>& t) {
  return t ? events::format_timestamp(*t) : std::string("-");
}

constexpr std::array<events::Category, events::kCategoryCount> kCategories = {
    events::Category::kShelter,      events::Category::kMedical,   events::Category::kLegal,
    events::Category::kRepatriation, events::Category::kEducation, events::Category::kLivelihood,
    events::Category::kPsychosocial, events::Category::kOther,
};

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  HOMEWARD_CHECK(cells.size() == columns_.size(), "a table row needs one cell per column");
  rows_.push_back(std::move(cells));
}

void Table::print(std::ostream& out) const {
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = columns_[c].header.size();
    // Cells over max_width get a line of their own and take no width.
    const size_t cap = columns_[c].max_width > 0 ? columns_[c].max_width : SIZE_MAX;
    for (const auto& row : rows_) {
      if (row[c].size() <= cap) widths[c] = std::max(widths[c], row[c].size());
    }
  }
  // Where each column starts, for cells printed on a line of their own.
  std::vector<size_t> starts(columns_.size(), 0);
  for (size_t c = 1; c < columns_.size(); ++c) starts[c] = starts[c - 1] + widths[c - 1] + 2;
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) line += "  ";
      const size_t pad = widths[c] - cells[c].size();
      if (columns_[c].align == Align::kRight) line.append(pad, ' ');
      line += cells[c];
      if (columns_[c].align == Align::kLeft) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  std::vector<std::string> headers;
  std::vector<std::string> rules;
  for (size_t c = 0; c < columns_.size(); ++c) {
    headers.push_back(columns_[c].header);
    rules.emplace_back(widths[c], '-');
  }
  print_line(headers);
  print_line(rules);
  for (const auto& row : rows_) {
    std::vector<std::string> cells = row;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (cells[c].size() <= widths[c]) continue;
      out << std::string(starts[c], ' ') << cells[c] << '\n';
      cells[c].clear();
    }
    print_line(cells);
  }
}

void print_key_values(std::ostream& out,
                      const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [key, value] : rows) width = std::max(width, key.size());
  for (const auto& [key, value] : rows) {
    out << key << std::string(width - key.size() + 2, ' ') << value << '\n';
  }
}

void print_cases_table(std::ostream& out, const std::vector<projections::CaseView>& cases) {
  if (cases.empty()) {
    out << "no cases\n";
    return;
  }
  Table table({{"case_id", Align::kLeft, kIdColumnWidth},
               {"status"},
               {"currency"},
               {"goal", Align::kRight},
               {"net", Align::kRight},
               {"remaining", Align::kRight},
               {"surplus", Align::kRight},
               {"pledged", Align::kRight},
               {"disbursed", Align::kRight},
               {"available", Align::kRight},
               {"donations", Align::kRight},
               {"donors", Align::kRight}});
  for (const auto& view : cases) {
    const engine::CaseSummary& s = view.summary;
    table.add_row({view.case_id, std::string(engine::to_string(s.status())),
                   std::string(s.currency.code_view()), amount(s.goal, s.currency),
                   amount(s.net(), s.currency), amount(s.remaining(), s.currency),
                   amount(s.surplus(), s.currency), amount(s.pledged, s.currency),
                   amount(s.disbursed, s.currency), amount(s.available(), s.currency),
                   count(s.donations), count(s.donors)});
  }
  table.print(out);
}

void print_case(std::ostream& out, std::string_view case_id, const engine::CaseSummary& s) {
  const std::string code(s.currency.code_view());
  // Amounts are right-aligned on one width so that their decimal points line up.
  size_t amount_width = 0;
  for (MinorUnits value : {s.goal, s.received, s.refunded, s.net(), s.pledged, s.disbursed,
                           s.available(), s.remaining(), s.surplus()}) {
    amount_width = std::max(amount_width, amount(value, s.currency).size());
  }
  auto money = [&](MinorUnits value) {
    const std::string text = amount(value, s.currency);
    return std::string(amount_width - text.size(), ' ') + text + " " + code;
  };
  print_key_values(
      out,
      {
          {"case_id", std::string(case_id)},
          {"status", std::string(engine::to_string(s.status()))},
          {"currency", code},
          {"goal", money(s.goal)},
          {"received", money(s.received)},
          {"refunded", money(s.refunded)},
          {"net", money(s.net())},
          {"pledged", money(s.pledged)},
          {"disbursed", money(s.disbursed)},
          {"available", money(s.available())},
          {"remaining", money(s.remaining())},
          {"surplus", money(s.surplus())},
          {"donations", count(s.donations)},
          {"donors", count(s.donors)},
          {"refunds", count(s.refunds)},
          {"opened_at", events::format_timestamp(s.opened_at)},
          {"fully_funded_at", optional_time(s.fully_funded_at)},
          {"closed_at", optional_time(s.closed_at)},
          {"close_reason", s.close_reason ? std::string(events::to_string(*s.close_reason)) : "-"},
          {"events", fmt::format("{} applied, {} duplicates, {} rejected", count(s.events_applied),
                                 count(s.duplicates), count(s.events_rejected))},
      });
  out << '\n';
  Table budget({{"category"}, {"planned", Align::kRight}, {"disbursed", Align::kRight}});
  for (events::Category category : kCategories) {
    if (!s.shows_in_budget(category)) continue;
    const auto index = static_cast<size_t>(category);
    budget.add_row({std::string(events::to_string(category)), amount(s.planned[index], s.currency),
                    amount(s.disbursed_by_category[index], s.currency)});
  }
  if (budget.empty()) {
    out << "budget: none (the goal was set without a budget and nothing was disbursed)\n";
  } else {
    out << "budget (" << code << (s.has_budget ? "" : "; the latest goal came without a budget")
        << ")\n";
    budget.print(out);
  }
}

Status print_impact_report(std::ostream& out, const engine::ImpactReport& r) {
  out << "Cases\n";
  print_key_values(
      out, {{"  total", count(r.cases_total)},
            {"  open", count(r.cases_open)},
            {"  funded", count(r.cases_funded)},
            {"  closed", count(r.cases_closed)},
            {"  ever fully funded", count(r.cases_ever_fully_funded)},
            {"  median time to fully funded",
             r.median_seconds_to_fully_funded
                 ? fmt::format("{} ({} s)", format_duration(*r.median_seconds_to_fully_funded),
                               count(*r.median_seconds_to_fully_funded))
                 : std::string("-")}});
  out << "\nGiving\n";
  print_key_values(out, {{"  donations", count(r.donations)},
                         {"  donors", count(r.donors)},
                         {"  refunds", count(r.refunds)}});
  out << "\nMoney by currency\n";
  if (r.by_currency.empty()) {
    out << "  none\n";
  } else {
    Table money({{"currency"},
                 {"received", Align::kRight},
                 {"refunded", Align::kRight},
                 {"net", Align::kRight},
                 {"pledged", Align::kRight},
                 {"disbursed", Align::kRight},
                 {"surplus", Align::kRight}});
    for (const auto& [code, totals] : r.by_currency) {
      const auto currency = events::find_currency(code);
      if (!currency) {
        return make_error(ErrorCode::kCorruption,
                          fmt::format("the projections name an unknown currency '{}'", code));
      }
      const uint8_t e = currency->exponent;
      money.add_row({code, amount(totals.received, e), amount(totals.refunded, e),
                     amount(totals.net, e), amount(totals.pledged, e), amount(totals.disbursed, e),
                     amount(totals.surplus, e)});
    }
    money.print(out);
  }
  out << "\nEvents\n";
  print_key_values(out, {{"  read", count(r.events.read())},
                         {"  applied", count(r.events.applied)},
                         {"  duplicates", count(r.events.duplicates)},
                         {"  rejected", count(r.events.rejected)}});
  std::vector<std::pair<std::string, std::string>> reasons;
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    const int64_t count = r.events.rejected_by_reason[i];
    if (count == 0) continue;
    reasons.emplace_back(
        fmt::format("    {}", engine::to_string(static_cast<engine::RejectReason>(i))),
        group_thousands(count));
  }
  if (!reasons.empty()) {
    out << "  rejected by reason\n";
    print_key_values(out, reasons);
  }
  return {};
}

void print_rejections_table(std::ostream& out,
                            const std::vector<engine::RejectionRecord>& rejections) {
  if (rejections.empty()) {
    out << "no rejections\n";
    return;
  }
  // Partitions and offsets stay ungrouped: they are copied into cursors.
  Table table({{"case_id", Align::kLeft, kIdColumnWidth},
               {"event_id", Align::kLeft, kIdColumnWidth},
               {"type"},
               {"reason"},
               {"partition", Align::kRight},
               {"offset", Align::kRight},
               {"detail"}});
  for (const auto& r : rejections) {
    table.add_row({r.case_id.empty() ? "-" : r.case_id, r.event_id.empty() ? "-" : r.event_id,
                   r.type ? std::string(events::to_string(*r.type)) : "-",
                   std::string(engine::to_string(r.reason)), std::to_string(r.partition.value()),
                   std::to_string(r.offset.value()), r.detail});
  }
  table.print(out);
}

std::string format_duration(int64_t seconds) {
  const int64_t days = seconds / 86'400;
  const int64_t rest = seconds % 86'400;
  return fmt::format("{}d {:02}:{:02}:{:02}", days, rest / 3600, rest % 3600 / 60, rest % 60);
}

}  // namespace homeward::connectors::cli
