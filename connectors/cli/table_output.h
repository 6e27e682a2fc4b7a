// Internal to the CLI: the human forms of the query results (aligned tables
// and key/value blocks). Amounts go through events::format_amount so that a
// table shows exactly what the JSON shows. Pure functions of their inputs.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "events/error.h"
#include "events/money.h"
#include "projections/rocksdb_store.h"

namespace homeward::connectors::cli {

enum class Align { kLeft, kRight };

struct Column {
  std::string header;
  Align align = Align::kLeft;
  // When not 0, the column is no wider than this (or its header). A longer
  // cell (an identifier may have 128 characters) is printed whole on a line
  // of its own, starting at the column, just above its row, where the cell is
  // left blank: the other rows keep their layout and the id stays copyable.
  size_t max_width = 0;
};

// The widest an identifier column grows before longer ids get a line of
// their own (Column::max_width).
inline constexpr size_t kIdColumnWidth = 32;

// Columns separated by two spaces, a dashed rule under the headers, no
// trailing spaces.
class Table {
 public:
  explicit Table(std::vector<Column> columns);
  // `cells` has one entry per column (checked).
  void add_row(std::vector<std::string> cells);
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// `key   value` lines with the values aligned.
void print_key_values(std::ostream& out,
                      const std::vector<std::pair<std::string, std::string>>& rows);

void print_cases_table(std::ostream& out, const std::vector<projections::CaseView>& cases);
void print_case(std::ostream& out, std::string_view case_id, const engine::CaseSummary& summary);
// kCorruption when the store names a currency this build does not know.
[[nodiscard]] Status print_impact_report(std::ostream& out, const engine::ImpactReport& report);
void print_rejections_table(std::ostream& out,
                            const std::vector<engine::RejectionRecord>& rejections);

// Human output groups thousands (events/money.h); JSON keeps SPEC's digits.
using events::group_thousands;

// "5d 03:02:01" for a duration in whole seconds.
[[nodiscard]] std::string format_duration(int64_t seconds);

}  // namespace homeward::connectors::cli
