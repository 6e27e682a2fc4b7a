#include "projections/audit/reports.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/durable_file.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "engine/rules.h"
#include "events/event.h"
#include "events/money.h"
#include "events/timestamp.h"
#include "projections/json_output.h"
#include "projections/read_models/monthly_flows.h"

namespace homeward::projections::audit {
namespace {

using nlohmann::ordered_json;

// A board reads a page, not a database: the HTML lists at most this many
// cases (those that need attention first) and rejections; the CSVs list all.
constexpr size_t kHtmlRowsMax = 200;

// ------------------------------------------------------------------ files

// ------------------------------------------------------------------- CSV

// Rows end in CRLF (RFC 4180).
class Csv {
 public:
  void row(const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out_.push_back(',');
      out_ += csv_field(cells[i]);
    }
    out_ += "\r\n";
  }
  [[nodiscard]] std::string take() && { return std::move(out_); }

 private:
  std::string out_;
};

// A JSON scalar as a CSV cell: strings as they are, null empty, numbers and
// booleans as JSON writes them.
std::string cell(const ordered_json& value) {
  if (value.is_null()) return {};
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// Free text from outside (a malformed record's detail) must not become a
// spreadsheet formula when the file is opened.
std::string defuse_formula(std::string text) {
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r')) {
    text.insert(text.begin(), '\'');
  }
  return text;
}

std::vector<std::string> category_names() {
  std::vector<std::string> names;
  for (size_t i = 0; i < events::kCategoryCount; ++i) {
    names.emplace_back(events::to_string(static_cast<events::Category>(i)));
  }
  return names;
}

// The columns are the keys of case_json (SPEC section 7, in that order) with
// `budget` replaced by budget_<category>_planned and _disbursed for every
// category: a fixed set of columns, empty where the case shows no such line.
std::string cases_csv(const std::vector<CaseView>& cases) {
  const std::vector<std::string> categories = category_names();
  const ordered_json sample = case_json("x", engine::CaseSummary{});
  std::vector<std::string> header;
  for (const auto& [key, value] : sample.items()) {
    if (key != "budget") {
      header.push_back(key);
      continue;
    }
    for (const std::string& category : categories) {
      header.push_back(fmt::format("budget_{}_planned", category));
      header.push_back(fmt::format("budget_{}_disbursed", category));
    }
  }
  Csv csv;
  csv.row(header);
  for (const CaseView& view : cases) {
    const ordered_json j = case_json(view.case_id, view.summary);
    std::vector<std::string> row;
    row.reserve(header.size());
    for (const auto& [key, value] : j.items()) {
      if (key != "budget") {
        row.push_back(cell(value));
        continue;
      }
      for (const std::string& category : categories) {
        const bool shown = value.contains(category);
        row.push_back(shown ? cell(value[category]["planned"]) : std::string());
        row.push_back(shown ? cell(value[category]["disbursed"]) : std::string());
      }
    }
    csv.row(row);
  }
  return std::move(csv).take();
}

std::string rejections_csv(const std::vector<engine::RejectionRecord>& rejections) {
  Csv csv;
  csv.row({"case_id", "event_id", "type", "reason", "partition", "offset", "detail"});
  for (const engine::RejectionRecord& r : rejections) {
    csv.row({r.case_id, r.event_id, r.type ? std::string(events::to_string(*r.type)) : "",
             std::string(engine::to_string(r.reason)), std::to_string(r.partition.value()),
             std::to_string(r.offset.value()), defuse_formula(r.detail)});
  }
  return std::move(csv).take();
}

std::string periods_csv(const MonthlyFlows& flows) {
  Csv csv;
  csv.row({"currency", "month", "donations", "donations_amount", "refunds", "refunds_amount",
           "disbursements", "disbursements_amount", "pledges_made", "pledges_made_amount",
           "pledges_fulfilled", "pledges_fulfilled_amount", "pledges_cancelled",
           "pledges_cancelled_amount"});
  for (const auto& [key, month] : flows.months) {
    const uint8_t exp = flows.exponents.at(key.currency);
    std::vector<std::string> row{key.currency, key.month};
    for (const FlowCount* flow :
         {&month.donations, &month.refunds, &month.disbursements, &month.pledges_made,
          &month.pledges_fulfilled, &month.pledges_cancelled}) {
      row.push_back(std::to_string(flow->count));
      row.push_back(events::format_amount(flow->amount, exp));
    }
    csv.row(row);
  }
  return std::move(csv).take();
}

// ------------------------------------------------------------------ HTML

// What the page shows of report.json; every part optional.
struct AuditSummary {
  std::optional<std::string> result;  // "pass" or "fail"
  std::optional<std::string> day;     // the day the audit ran
  std::optional<std::string> log;
  std::optional<int64_t> events_read;
  std::optional<std::string> digest;
  std::optional<int64_t> findings;
  struct Partition {
    int64_t partition = 0;
    int64_t next_offset = 0;
    std::string chain_head;
  };
  std::vector<Partition> partitions;
};

std::optional<std::string> string_at(const ordered_json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<int64_t> integer_at(const ordered_json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

bool is_hex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

AuditSummary read_audit_summary(const ordered_json& report) {
  AuditSummary summary;
  summary.result = string_at(report, "result");
  // Only the day of the audit: the page shows no time finer than a day.
  if (auto generated = string_at(report, "generated_at")) {
    auto parsed = events::parse_timestamp(*generated);
    if (parsed) summary.day = events::format_date(*parsed);
  }
  summary.log = string_at(report, "log");
  summary.events_read = integer_at(report, "events_read");
  if (report.is_object() && report.contains("state_digest")) {
    auto digest = string_at(report["state_digest"], "value");
    if (digest && is_hex(*digest)) summary.digest = digest;
  }
  if (report.is_object() && report.contains("findings") && report["findings"].is_array()) {
    summary.findings = static_cast<int64_t>(report["findings"].size());
  }
  if (report.is_object() && report.contains("partitions") && report["partitions"].is_array()) {
    for (const ordered_json& entry : report["partitions"]) {
      auto partition = integer_at(entry, "partition");
      auto next = integer_at(entry, "next_offset");
      auto head = string_at(entry, "chain_head");
      if (!partition || !next || !head || !is_hex(*head)) continue;
      summary.partitions.push_back({*partition, *next, *head});
    }
  }
  return summary;
}

// A percentage with one decimal from a per-mille value, for CSS widths.
std::string percent(int64_t per_mille) {
  return fmt::format("{}.{}%", per_mille / 10, per_mille % 10);
}

int64_t progress_per_mille(const engine::CaseSummary& s) {
  const events::WideMinorUnits net = s.net().value();
  const events::WideMinorUnits goal = s.goal.value();
  if (goal <= 0 || net <= 0) return 0;
  return static_cast<int64_t>(std::min<events::WideMinorUnits>(1000, net * 1000 / goal));
}

std::string duration_text(int64_t seconds) {
  const int64_t days = seconds / 86'400;
  const int64_t hours = (seconds % 86'400) / 3'600;
  if (seconds < 3'600) return "under an hour";
  if (days == 0) return fmt::format("{} hour{}", hours, hours == 1 ? "" : "s");
  if (hours == 0) return fmt::format("{} day{}", days, days == 1 ? "" : "s");
  return fmt::format("{} d {} h", days, hours);
}

// Months as counts from year 0 ("YYYY-MM", years 0000-9999 as SPEC
// timestamps allow), so that stepping past December 9999 cannot wrap.
int month_number(const std::string& month) {
  return std::stoi(month.substr(0, 4)) * 12 + std::stoi(month.substr(5, 2)) - 1;
}

std::string month_text(int number) {
  return fmt::format("{:04}-{:02}", number / 12, number % 12 + 1);
}

// Above this many months, the chart shows only the months that have flows:
// one stray date (the year 0001 or 9999, both valid) must not make a chart of
// a hundred thousand points.
constexpr int kMaxChartMonths = 600;

// Every month from the first to the last month with an applied flow in
// `currency` (only the months with flows when that span is longer than
// kMaxChartMonths): each currency's chart starts at its own first month.
std::vector<std::string> month_range(const MonthlyFlows& flows, const std::string& currency) {
  std::set<std::string> months;
  for (const auto& [key, month] : flows.months) {
    if (key.currency == currency) months.insert(key.month);
  }
  std::vector<std::string> range;
  if (months.empty()) return range;
  const int first = month_number(*months.begin());
  const int last = month_number(*months.rbegin());
  if (last - first >= kMaxChartMonths) return {months.begin(), months.end()};
  for (int m = first; m <= last; ++m) range.push_back(month_text(m));
  return range;
}

// Case ids in the order a person reads them: runs of digits compare as
// numbers ("p-case-2" before "p-case-10"), the rest bytewise; ties (leading
// zeros) fall back to bytewise so that the order is total.
bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t ie = i;
      size_t je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      std::string_view x = a.substr(i, ie - i);
      std::string_view y = b.substr(j, je - j);
      while (x.size() > 1 && x[0] == '0') x.remove_prefix(1);
      while (y.size() > 1 && y[0] == '0') y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;
}

constexpr std::string_view kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#1f2933;background:#f4f6f8;font-size:14px;line-height:1.45}
main{max-width:1120px;margin:0 auto;padding:28px 32px 40px}
header{display:flex;justify-content:space-between;align-items:flex-start;gap:24px;border-bottom:3px solid #0b5563;padding-bottom:14px;margin-bottom:22px}
h1{font-size:26px;margin:0 0 4px;color:#0b3c49}
h2{font-size:18px;margin:30px 0 10px;color:#0b3c49}
.sub{color:#52606d;margin:0}
.badge{display:inline-block;padding:6px 14px;border-radius:16px;font-weight:bold;white-space:nowrap}
.pass{background:#d8f3e3;color:#10643a}.fail{background:#fde2e1;color:#a61b1b}.unknown{background:#e4e7eb;color:#3e4c59}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px}
.card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card .v{font-size:24px;font-weight:bold;color:#0b3c49}.card .l{color:#616e7c;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .s{color:#52606d;font-size:12px}
.card .v.multi{font-size:18px;line-height:1.3}
.why{color:#52606d;font-size:12px}.rej .why{display:block}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:10px;overflow:hidden;box-shadow:0 1px 3px rgba(0,0,0,.08)}
th,td{padding:7px 8px;text-align:left;border-bottom:1px solid #e4e7eb;vertical-align:middle}
th{background:#e8eef1;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:#3e4c59}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.k,td.d{white-space:nowrap}
tr.deficit td{background:#fdecec}tr.surplus td{background:#fff6e0}
.neg{color:#b42318;font-weight:bold}.plus{color:#9a5b00;font-weight:bold}
.bar{position:relative;width:80px;height:14px;background:#e4e7eb;border-radius:7px;overflow:hidden;display:inline-block;vertical-align:middle}
.bar span{position:absolute;left:0;top:0;bottom:0;background:#2f9e73;border-radius:7px}
.bar.partial span{background:#3b82c4}
.pct{display:inline-block;width:52px;text-align:right;margin-left:6px;color:#52606d;font-size:12px}
.st{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px}
.st-open{background:#e0ecf8;color:#1d4f91}.st-funded{background:#d8f3e3;color:#10643a}.st-closed{background:#e4e7eb;color:#3e4c59}
.rej td{background:#fff4f2}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:14px}
.chart{background:#fff;border-radius:10px;padding:10px 12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.chart svg{display:block;width:100%;max-width:820px;height:auto;margin:0 auto}
table.cases td{font-size:12px;padding:6px}
.chart h3{margin:2px 0 4px;font-size:14px;color:#3e4c59}
.mono{font-family:"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
.note{color:#616e7c;font-size:12px;margin:6px 0 0}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:#52606d}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:middle}
.sw-deficit{background:#f4b4b0;border:1px solid #b42318}.sw-surplus{background:#fbd78a;border:1px solid #9a5b00}
footer{margin-top:30px;color:#616e7c;font-size:12px;border-top:1px solid #d9e2ec;padding-top:10px}
)css";

class Html {
 public:
  void raw(std::string_view text) { out_ += text; }
  void text(std::string_view text) { out_ += html_escape(text); }
  template <typename... Args>
  void f(fmt::format_string<Args...> format, Args&&... args) {
    out_ += fmt::format(format, std::forward<Args>(args)...);
  }
  [[nodiscard]] std::string take() && { return std::move(out_); }

 private:
  std::string out_;
};

std::string e(std::string_view text) { return html_escape(text); }

// Amounts and counts on the page are grouped in thousands ("3,819.00");
// the CSVs and report.json keep SPEC section 2's digits.
std::string money_text(events::WideMinorUnits minor, uint8_t exponent) {
  return events::group_thousands(events::format_amount(minor, exponent));
}
std::string count_text(int64_t count) { return events::group_thousands(count); }

// A rejection reason as SPEC spells it, and what it means.
void reason_cell(Html& h, engine::RejectReason reason) {
  h.f("<b>{}</b> <span class=\"why\">{}</span>", e(engine::to_string(reason)),
      e(engine::plain_words(reason)));
}

void card(Html& h, std::string_view label, std::string_view value, std::string_view sub = {}) {
  h.f("<div class=\"card\"><div class=\"l\">{}</div><div class=\"v\">{}</div>", e(label), e(value));
  if (!sub.empty()) h.f("<div class=\"s\">{}</div>", e(sub));
  h.raw("</div>");
}

// Cumulative money received per month, one line chart per currency (amounts
// of different currencies are never drawn on one scale). Coordinates are
// integers computed from exact amounts.
void raised_chart(Html& h, const std::string& code, uint8_t exponent, const MonthlyFlows& flows,
                  const std::vector<std::string>& months) {
  constexpr int64_t kWidth = 560, kHeight = 220, kLeft = 92, kRight = 36, kTop = 12, kBottom = 34;
  constexpr int64_t kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;
  // Point 0 is the start (nothing raised yet); point i is the end of month i.
  std::vector<events::WideMinorUnits> cumulative{0};
  events::WideMinorUnits sum = 0;
  for (const std::string& month : months) {
    const auto it = flows.months.find(FlowKey{code, month});
    if (it != flows.months.end()) sum += it->second.donations.amount;
    cumulative.push_back(sum);
  }
  const events::WideMinorUnits max = std::max<events::WideMinorUnits>(sum, 1);
  const size_t n = cumulative.size();
  auto x_at = [&](size_t i) -> int64_t {
    if (n <= 1) return kLeft + kPlotW / 2;
    return kLeft + static_cast<int64_t>(i) * kPlotW / static_cast<int64_t>(n - 1);
  };
  auto y_at = [&](events::WideMinorUnits v) -> int64_t {
    return kTop + kPlotH - static_cast<int64_t>(v * kPlotH / max);
  };

  h.f("<div class=\"chart\"><h3>Cumulative donations received, {}</h3>", e(code));
  h.f("<svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"cumulative donations "
      "received in {} by month\" xmlns=\"http://www.w3.org/2000/svg\">",
      kWidth, kHeight, e(code));
  // Grid lines and labels at zero, half and the total (exact amounts).
  for (const events::WideMinorUnits level : {events::WideMinorUnits{0}, sum / 2, sum}) {
    const int64_t y = y_at(level);
    h.f("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#d9e2ec\"/>", kLeft, y,
        kLeft + kPlotW, y);
    h.f("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#52606d\">{}</text>",
        kLeft - 6, y + 4, e(money_text(level, exponent)));
  }
  if (n > 1) {
    std::string points;
    for (size_t i = 0; i < n; ++i) {
      points += fmt::format("{}{},{}", i == 0 ? "" : " ", x_at(i), y_at(cumulative[i]));
    }
    h.f("<polygon points=\"{},{} {} {},{}\" fill=\"#2f9e73\" fill-opacity=\"0.15\"/>", x_at(0),
        y_at(0), points, x_at(n - 1), y_at(0));
    h.f("<polyline points=\"{}\" fill=\"none\" stroke=\"#2f9e73\" stroke-width=\"2.5\"/>", points);
    for (size_t i = 1; i < n; ++i) {
      h.f("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#1d7a57\"/>", x_at(i), y_at(cumulative[i]));
    }
    // At most about eight month labels, each under its month's end point.
    const size_t step = std::max<size_t>(1, (months.size() + 7) / 8);
    for (size_t m = 0; m < months.size(); m += step) {
      h.f("<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" "
          "fill=\"#52606d\">{}</text>",
          x_at(m + 1), kHeight - 12, e(months[m]));
    }
  }
  h.raw("</svg></div>");
}

struct CaseRow {
  const CaseView* view = nullptr;
  int rank = 2;  // 0 deficit, 1 surplus, 2 the rest
};

std::string report_html(const std::vector<CaseView>& cases,
                        const std::vector<engine::RejectionRecord>& rejections,
                        const engine::ImpactReport& impact, const MonthlyFlows& flows,
                        const AuditSummary& audit) {
  Html h;
  h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
  h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
  h.raw("<title>Homeward audit report</title><style>");
  h.raw(kStyle);
  h.raw("</style></head><body><main>");

  // Header and the audit's verdict.
  h.raw(
      "<header><div><h1>Homeward audit report</h1><p class=\"sub\">Donations to the return "
      "and reintegration of survivors of human trafficking, one case at a time.");
  if (audit.day) h.f(" Audit of {}.", e(*audit.day));
  h.raw("</p>");
  if (audit.log) h.f("<p class=\"note\">Log: {}</p>", e(*audit.log));
  h.raw("</div>");
  if (audit.result == "pass") {
    h.raw("<span class=\"badge pass\">&#10003; Audit passed</span>");
  } else if (audit.result == "fail") {
    h.f("<span class=\"badge fail\">&#10007; Audit failed{}</span>",
        audit.findings
            ? fmt::format(": {} finding{}", *audit.findings, *audit.findings == 1 ? "" : "s")
            : std::string());
  } else {
    h.raw("<span class=\"badge unknown\">Audit result not available</span>");
  }
  h.raw("</header>");

  // Impact figures (SPEC section 6).
  h.raw("<h2>Impact</h2><div class=\"cards\">");
  if (impact.by_currency.size() == 1) {
    const auto& [code, totals] = *impact.by_currency.begin();
    const std::optional<events::Currency> currency = events::find_currency(code);
    const uint8_t exp = currency ? currency->exponent : 0;
    card(h, "Raised", fmt::format("{} {}", money_text(totals.received, exp), code),
         fmt::format("{} after refunds", money_text(totals.net, exp)));
  } else if (impact.by_currency.empty()) {
    card(h, "Raised", "nothing yet");
  } else {
    // Each currency's own total, one per line: currencies are never added.
    h.raw("<div class=\"card\"><div class=\"l\">Raised</div><div class=\"v multi\">");
    for (const auto& [code, totals] : impact.by_currency) {
      const std::optional<events::Currency> currency = events::find_currency(code);
      const uint8_t exp = currency ? currency->exponent : 0;
      h.f("<div>{} {}</div>", e(money_text(totals.received, exp)), e(code));
    }
    h.f("</div><div class=\"s\">in {} currencies, never added together</div></div>",
        impact.by_currency.size());
  }
  card(h, "Donations", count_text(impact.donations),
       fmt::format("from {} donor{}, {} refund{}", count_text(impact.donors),
                   impact.donors == 1 ? "" : "s", count_text(impact.refunds),
                   impact.refunds == 1 ? "" : "s"));
  card(h, "Cases", count_text(impact.cases_total),
       fmt::format("{} open, {} funded, {} closed", count_text(impact.cases_open),
                   count_text(impact.cases_funded), count_text(impact.cases_closed)));
  card(h, "Ever fully funded", count_text(impact.cases_ever_fully_funded),
       impact.median_seconds_to_fully_funded
           ? fmt::format("median {} from opening",
                         duration_text(*impact.median_seconds_to_fully_funded))
           : std::string("none yet"));
  h.raw("</div>");

  h.raw(
      "<h2>Money by currency</h2><table><tr><th>Currency</th><th class=\"n\">Received</th>"
      "<th class=\"n\">Refunded</th><th class=\"n\">Net</th><th class=\"n\">Pledged</th>"
      "<th class=\"n\">Disbursed</th><th class=\"n\">Surplus</th></tr>");
  for (const auto& [code, totals] : impact.by_currency) {
    const std::optional<events::Currency> currency = events::find_currency(code);
    const uint8_t exp = currency ? currency->exponent : 0;
    auto amount = [exp](events::WideMinorUnits m) { return e(money_text(m, exp)); };
    h.f("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td></tr>",
        e(code), amount(totals.received), amount(totals.refunded), amount(totals.net),
        amount(totals.pledged), amount(totals.disbursed), totals.surplus > 0 ? " plus" : "",
        amount(totals.surplus));
  }
  h.raw("</table>");

  // Money raised over time.
  h.raw("<h2>Money raised over time</h2>");
  bool any_chart = false;
  for (const auto& [code, exponent] : flows.exponents) {
    const std::vector<std::string> months = month_range(flows, code);
    if (months.empty()) continue;
    if (!any_chart) h.raw("<div class=\"charts\">");
    any_chart = true;
    raised_chart(h, code, exponent, flows, months);
  }
  if (!any_chart) {
    h.raw("<p class=\"note\">No donation has been received yet.</p>");
  } else {
    h.raw(
        "</div><p class=\"note\">Donations received (fulfilled pledges included) by the month "
        "they occurred in, UTC, summed from each currency's first month; refunds are in "
        "periods.csv.</p>");
  }

  // Cases: those that need attention first.
  std::vector<CaseRow> rows;
  rows.reserve(cases.size());
  for (const CaseView& view : cases) {
    const engine::CaseSummary& s = view.summary;
    const int rank = s.available().value() < 0 ? 0 : (s.surplus().value() > 0 ? 1 : 2);
    rows.push_back({&view, rank});
  }
  // Deficits first, then surpluses, each largest first; amounts of two
  // currencies are never compared, so within each the cases are grouped by
  // currency (by code). Then every other case, in natural id order.
  auto size_of = [](const CaseRow& row) -> int64_t {
    const engine::CaseSummary& s = row.view->summary;
    if (row.rank == 0) return -s.available().value();
    if (row.rank == 1) return s.surplus().value();
    return 0;
  };
  std::sort(rows.begin(), rows.end(), [&](const CaseRow& a, const CaseRow& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.rank < 2) {
      const std::string_view ca = a.view->summary.currency.code_view();
      const std::string_view cb = b.view->summary.currency.code_view();
      if (ca != cb) return ca < cb;
      const int64_t sa = size_of(a);
      const int64_t sb = size_of(b);
      if (sa != sb) return sa > sb;
    }
    return natural_less(a.view->case_id, b.view->case_id);
  });
  h.raw("<h2>Cases</h2>");
  h.raw(
      "<p class=\"legend\"><span>Cases needing attention first, largest first within each "
      "currency:</span><span><i class=\"sw sw-deficit\"></i>deficit: more paid out than "
      "held (after a chargeback)</span><span><i class=\"sw sw-surplus\"></i>surplus: more "
      "than the goal, to refund or reallocate</span></p>");
  h.raw(
      "<table class=\"cases\"><tr><th>Case</th><th>Status</th><th>Progress to "
      "goal</th><th>Currency</th>"
      "<th class=\"n\">Goal</th><th class=\"n\">Net</th><th class=\"n\">Available</th><th "
      "class=\"n\">Surplus</th>"
      "<th class=\"n\">Donations</th><th>Opened</th><th>Fully funded</th></tr>");
  const size_t shown_cases = std::min(rows.size(), kHtmlRowsMax);
  for (size_t i = 0; i < shown_cases; ++i) {
    const CaseView& view = *rows[i].view;
    const engine::CaseSummary& s = view.summary;
    const int64_t per_mille = progress_per_mille(s);
    const std::string status(engine::to_string(s.status()));
    const char* row_class =
        rows[i].rank == 0 ? " class=\"deficit\"" : (rows[i].rank == 1 ? " class=\"surplus\"" : "");
    h.f("<tr{}><td class=\"k\">{}</td><td><span class=\"st st-{}\">{}</span></td>", row_class,
        e(view.case_id), e(status), e(status));
    h.f("<td class=\"d\"><span class=\"bar{}\"><span style=\"width:{}\"></span></span><span "
        "class=\"pct\">{}</span></td>",
        per_mille >= 1000 ? "" : " partial", percent(per_mille), percent(per_mille));
    // One currency per case, in its own column: the amounts stay narrow.
    auto amount = [&](MinorUnits m) { return e(money_text(m.value(), s.currency.exponent)); };
    h.f("<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>", e(s.currency.code_view()),
        amount(s.goal), amount(s.net()));
    h.f("<td class=\"n{}\">{}</td>", s.available().value() < 0 ? " neg" : "",
        amount(s.available()));
    h.f("<td class=\"n{}\">{}</td>", s.surplus().value() > 0 ? " plus" : "", amount(s.surplus()));
    h.f("<td class=\"n\">{}</td><td class=\"d\">{}</td><td class=\"d\">{}</td></tr>",
        count_text(s.donations), e(events::format_date(s.opened_at)),
        s.fully_funded_at ? e(events::format_date(*s.fully_funded_at)) : std::string("&ndash;"));
  }
  h.raw("</table>");
  if (cases.empty()) h.raw("<p class=\"note\">No case has been opened.</p>");
  if (shown_cases < rows.size()) {
    h.f("<p class=\"note\">{} more cases are listed in cases.csv.</p>",
        count_text(static_cast<int64_t>(rows.size() - shown_cases)));
  }

  // Rejected events.
  h.f("<h2>Rejected events ({})</h2>", count_text(static_cast<int64_t>(rejections.size())));
  if (rejections.empty()) {
    h.raw("<p class=\"note\">No event was rejected.</p>");
  } else {
    h.raw(
        "<p class=\"note\">Every event the ledger rules refused, with the reason; none of them "
        "changed a figure.</p>");
    h.raw(
        "<table><tr><th>Case</th><th>Event</th><th>Type</th><th>Reason</th>"
        "<th class=\"n\">Partition</th><th class=\"n\">Offset</th></tr>");
    const size_t shown = std::min(rejections.size(), kHtmlRowsMax);
    for (size_t i = 0; i < shown; ++i) {
      const engine::RejectionRecord& r = rejections[i];
      h.f("<tr class=\"rej\"><td class=\"k\">{}</td><td class=\"k\">{}</td><td>{}</td><td>",
          r.case_id.empty() ? std::string("&ndash;") : e(r.case_id),
          r.event_id.empty() ? std::string("&ndash;") : e(r.event_id),
          r.type ? e(events::to_string(*r.type)) : std::string("&ndash;"));
      reason_cell(h, r.reason);
      // Positions stay ungrouped: they are looked up, not read as amounts.
      h.f("</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>", r.partition.value(),
          r.offset.value());
    }
    h.raw("</table>");
    if (shown < rejections.size()) {
      h.f("<p class=\"note\">{} more rejections are listed in rejections.csv.</p>",
          count_text(static_cast<int64_t>(rejections.size() - shown)));
    }
  }

  // The audit trail.
  h.raw("<h2>Audit trail</h2><table>");
  h.f("<tr><th>Events read from the log</th><td class=\"n\">{}</td></tr>",
      audit.events_read ? count_text(*audit.events_read) : std::string("not available"));
  h.f("<tr><th>Applied / duplicates / rejected</th><td class=\"n\">{} / {} / {}</td></tr>",
      count_text(impact.events.applied), count_text(impact.events.duplicates),
      count_text(impact.events.rejected));
  h.raw("<tr><th>Rejections by reason</th><td>");
  bool any_reason = false;
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    const int64_t count = impact.events.rejected_by_reason[i];
    if (count == 0) continue;
    h.raw(any_reason ? "<br>" : "");
    any_reason = true;
    h.f("{} &times; ", count_text(count));
    reason_cell(h, static_cast<engine::RejectReason>(i));
  }
  h.raw(any_reason ? "</td></tr>" : "none</td></tr>");
  h.f("<tr><th>State digest (SHA-256)</th><td class=\"mono\">{}</td></tr>",
      audit.digest ? e(*audit.digest) : std::string("not available"));
  for (const AuditSummary::Partition& p : audit.partitions) {
    h.f("<tr><th>Chain head, partition {} at offset {}</th><td class=\"mono\">{}</td></tr>",
        p.partition, p.next_offset, e(p.chain_head));
  }
  h.raw(
      "</table><p class=\"note\">Anyone can replay the same log and must reach the same digest "
      "and chain heads; report.json has every check and finding.</p>");

  h.raw(
      "<footer>Privacy: this page names no donor and no survivor; cases are anonymous ids, "
      "dates are shown to the day. Amounts are exact, in each currency's minor unit; currencies "
      "are never added together.</footer>");
  h.raw("</main></body></html>\n");
  return std::move(h).take();
}

}  // namespace

std::string csv_field(std::string_view text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Status write_reports(const std::filesystem::path& out_dir, const RocksProjectionStore& replayed,
                     const nlohmann::ordered_json& audit_report) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, fmt::format("cannot create the report directory {}: {}",
                                                  out_dir.string(), ec.message()));
  }
  auto cases = replayed.list_cases();
  if (!cases) return std::unexpected(cases.error());
  auto rejections = replayed.list_rejections();
  if (!rejections) return std::unexpected(rejections.error());
  auto impact = replayed.impact_report();
  if (!impact) return std::unexpected(impact.error());
  auto flows = monthly_flows(replayed);
  if (!flows) return std::unexpected(flows.error());

  if (auto s = engine::write_file_durably(out_dir / "cases.csv", cases_csv(*cases)); !s) return s;
  if (auto s = engine::write_file_durably(out_dir / "rejections.csv", rejections_csv(*rejections));
      !s)
    return s;
  if (auto s = engine::write_file_durably(out_dir / "periods.csv", periods_csv(*flows)); !s)
    return s;
  const AuditSummary audit = read_audit_summary(audit_report);
  return engine::write_file_durably(out_dir / "report.html",
                                    report_html(*cases, *rejections, *impact, *flows, audit));
}

}  // namespace homeward::projections::audit
