// The audit's CSV and HTML reports: parsed back and checked against the
// store's own figures, periods against the impact report's totals, the HTML
// for privacy (no donor_ref, no time finer than a day), and the HTML page
// rendered by headless Chromium.
#include "projections/audit/reports.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/rules.h"
#include "events/money.h"
#include "projections/json_output.h"
#include "tests/reports/reports_test_support.h"

namespace homeward::testing {
namespace {

using nlohmann::ordered_json;
using projections::audit::csv_field;
using projections::audit::html_escape;
using projections::audit::write_reports;

using CsvRows = std::vector<std::vector<std::string>>;

// An RFC 4180 reader written for the test (independent of the writer):
// fields separated by commas, records by CRLF, quoted fields with "" for ".
CsvRows parse_csv(const std::string& text) {
  CsvRows rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool field_started = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      rows.push_back(std::move(row));
      row.clear();
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "a bare LF ends no CSV record";
      field.push_back(c);
      field_started = true;
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << "the last record has no CRLF";
  return rows;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Rows as maps from the header's names.
std::vector<std::map<std::string, std::string>> records_of(const CsvRows& rows) {
  std::vector<std::map<std::string, std::string>> out;
  if (rows.empty()) return out;
  for (size_t r = 1; r < rows.size(); ++r) {
    EXPECT_EQ(rows[r].size(), rows[0].size()) << "row " << r;
    std::map<std::string, std::string> record;
    for (size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) {
      record[rows[0][c]] = rows[r][c];
    }
    out.push_back(std::move(record));
  }
  return out;
}

// Exact decimal strings to minor units (the test's own parse, for sums).
int64_t minor(const std::string& amount, int exponent) {
  const size_t dot = amount.find('.');
  std::string digits = amount.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : amount.substr(dot + 1);
  EXPECT_EQ(static_cast<int>(fraction.size()), exponent) << amount;
  const bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  const int64_t value = std::stoll(digits + fraction);
  return negative ? -value : value;
}

// The rich stream with distinctive donor refs (so that a search for them
// cannot hit other text), months apart so that periods have several rows, and
// a malformed record whose detail must be quoted in the CSV.
std::vector<AppendRequest> report_stream(std::set<std::string>& donor_refs) {
  std::vector<Event> events = interleave(rich_case_streams(), 5);
  for (size_t i = 0; i < events.size(); ++i) {
    Event& event = events[i];
    // Spread over several months: every 40th event of the merge one month on,
    // which keeps each case's own order of occurred_at meaningless anyway.
    event.occurred_at =
        TimestampMicros(event.occurred_at.value() + int64_t{static_cast<int64_t>(i / 40)} * 31 *
                                                        kSecondsPerDay * kMicrosPerSecond);
    auto rename = [&](std::string& donor) {
      donor = "zq-donor-" + donor;
      donor_refs.insert(donor);
    };
    if (auto* d = std::get_if<events::DonationReceived>(&event.body)) rename(d->donor_ref);
    if (auto* p = std::get_if<events::PledgeMade>(&event.body)) rename(p->donor_ref);
  }
  std::vector<AppendRequest> records = requests(events);
  records.insert(records.begin() + 9,
                 AppendRequest{"case-2", "=bad, \"bytes\"\nhere", events::EventType::kCaseOpened});
  return records;
}

ordered_json passing_audit_report() {
  return ordered_json::parse(R"({
    "homeward_audit_report": 1, "generated_at": "2026-11-23T16:45:12.123456Z",
    "log": "the embedded log in /tmp/x/log", "result": "pass", "events_read": 321,
    "partitions": [{"partition": 0, "next_offset": 321,
                    "chain_head": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}],
    "state_digest": {"algorithm": "sha256", "value": "abcdef0123456789"},
    "findings": []
  })");
}

// Every element that the page opens is closed, in order (a card left open
// once pulled the rest of the page into it, which no figure test saw).
void expect_balanced_tags(const std::string& html) {
  std::vector<std::string> open;
  const std::regex tag(R"(<(/?)([a-z][a-z0-9]*)\b[^>]*?(/?)>)");
  const std::set<std::string> empty = {"meta", "br", "line", "circle", "polygon", "polyline"};
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::string name = (*it)[2];
    if (empty.contains(name) || (*it)[3] == "/") continue;
    if ((*it)[1] == "") {
      open.push_back(name);
      continue;
    }
    ASSERT_FALSE(open.empty()) << "</" << name << "> closes nothing";
    ASSERT_EQ(open.back(), name) << "</" << name << "> closes <" << open.back() << ">";
    open.pop_back();
  }
  EXPECT_TRUE(open.empty()) << open.size() << " elements left open, the last <" << open.back()
                            << ">";
}

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    live_ = project_records(report_stream(donor_refs_));
    ASSERT_NE(live_, nullptr);
    auto written = write_reports(out_.path(), *live_->store, passing_audit_report());
    ASSERT_TRUE(written.has_value()) << written.error().message;
  }

  std::set<std::string> donor_refs_;
  std::unique_ptr<Projected> live_;
  TempDir out_;
};

TEST_F(ReportsTest, CasesCsvHoldsExactlyTheCaseDocuments) {
  auto cases = live_->store->list_cases();
  ASSERT_TRUE(cases.has_value());
  const auto records = records_of(parse_csv(read_file(out_.path() / "cases.csv")));
  ASSERT_EQ(records.size(), cases->size());
  ASSERT_GE(records.size(), 8U);
  for (size_t i = 0; i < records.size(); ++i) {
    const ordered_json expected = projections::case_json((*cases)[i].case_id, (*cases)[i].summary);
    const auto& record = records[i];
    for (const auto& [key, value] : expected.items()) {
      if (key == "budget") {
        for (size_t c = 0; c < events::kCategoryCount; ++c) {
          const std::string category(events::to_string(static_cast<events::Category>(c)));
          const std::string planned = record.at("budget_" + category + "_planned");
          const std::string disbursed = record.at("budget_" + category + "_disbursed");
          if (value.contains(category)) {
            EXPECT_EQ(planned, value[category]["planned"].get<std::string>());
            EXPECT_EQ(disbursed, value[category]["disbursed"].get<std::string>());
          } else {
            EXPECT_EQ(planned, "");
            EXPECT_EQ(disbursed, "");
          }
        }
        continue;
      }
      const std::string cell = record.at(key);
      if (value.is_null()) {
        EXPECT_EQ(cell, "") << key;
      } else if (value.is_string()) {
        EXPECT_EQ(cell, value.get<std::string>()) << key;
      } else {
        EXPECT_EQ(cell, value.dump()) << key;
      }
    }
  }
  // SPEC order: the first columns are the case fields as section 7 lists them.
  const CsvRows rows = parse_csv(read_file(out_.path() / "cases.csv"));
  EXPECT_EQ(rows[0][0], "case_id");
  EXPECT_EQ(rows[0][1], "currency");
  EXPECT_EQ(rows[0][2], "status");
  EXPECT_EQ(rows[0].back(), "events_rejected");
}

TEST_F(ReportsTest, RejectionsCsvMatchesTheRejectionList) {
  auto rejections = live_->store->list_rejections();
  ASSERT_TRUE(rejections.has_value());
  const ordered_json expected = projections::rejections_json(*rejections);
  const auto records = records_of(parse_csv(read_file(out_.path() / "rejections.csv")));
  ASSERT_EQ(records.size(), expected.size());
  ASSERT_GE(records.size(), 20U);
  for (size_t i = 0; i < records.size(); ++i) {
    for (const char* key : {"case_id", "event_id", "type", "reason"}) {
      const ordered_json& value = expected[i][key];
      EXPECT_EQ(records[i].at(key), value.is_null() ? "" : value.get<std::string>()) << key;
    }
    EXPECT_EQ(records[i].at("partition"), expected[i]["partition"].dump());
    EXPECT_EQ(records[i].at("offset"), expected[i]["offset"].dump());
  }
  // The malformed record: its detail survives quoting, and cannot run as a
  // spreadsheet formula.
  bool found_malformed = false;
  for (const auto& record : records) {
    if (record.at("reason") == "malformed" && record.at("offset") == "9") {
      found_malformed = true;
      EXPECT_EQ(record.at("case_id"), "case-2");
      EXPECT_FALSE(record.at("detail").empty());
    }
  }
  EXPECT_TRUE(found_malformed);
}

TEST_F(ReportsTest, PeriodsSumToTheTotalsByCurrency) {
  auto impact = live_->store->impact_report();
  ASSERT_TRUE(impact.has_value());
  const auto records = records_of(parse_csv(read_file(out_.path() / "periods.csv")));
  struct Sums {
    int64_t received = 0, refunded = 0, disbursed = 0, pledged = 0, donations = 0, refunds = 0;
  };
  std::map<std::string, Sums> sums;
  std::set<std::string> months;
  for (const auto& r : records) {
    const int exp = events::find_currency(r.at("currency"))->exponent;
    Sums& s = sums[r.at("currency")];
    s.received += minor(r.at("donations_amount"), exp);
    s.refunded += minor(r.at("refunds_amount"), exp);
    s.disbursed += minor(r.at("disbursements_amount"), exp);
    s.pledged += minor(r.at("pledges_made_amount"), exp) -
                 minor(r.at("pledges_fulfilled_amount"), exp) -
                 minor(r.at("pledges_cancelled_amount"), exp);
    s.donations += std::stoll(r.at("donations"));
    s.refunds += std::stoll(r.at("refunds"));
    EXPECT_TRUE(std::regex_match(r.at("month"), std::regex(R"(\d{4}-\d{2})"))) << r.at("month");
    months.insert(r.at("month"));
  }
  EXPECT_GE(months.size(), 3U);
  ASSERT_EQ(sums.size(), impact->by_currency.size());
  int64_t donations = 0, refunds = 0;
  for (const auto& [code, totals] : impact->by_currency) {
    SCOPED_TRACE(code);
    ASSERT_TRUE(sums.contains(code));
    EXPECT_EQ(sums[code].received, static_cast<int64_t>(totals.received));
    EXPECT_EQ(sums[code].refunded, static_cast<int64_t>(totals.refunded));
    EXPECT_EQ(sums[code].disbursed, static_cast<int64_t>(totals.disbursed));
    EXPECT_EQ(sums[code].pledged, static_cast<int64_t>(totals.pledged));
    donations += sums[code].donations;
    refunds += sums[code].refunds;
  }
  EXPECT_EQ(donations, impact->donations);
  EXPECT_EQ(refunds, impact->refunds);
}

TEST_F(ReportsTest, HtmlNamesNoDonorAndNoTimeFinerThanADay) {
  const std::string html = read_file(out_.path() / "report.html");
  ASSERT_GT(html.size(), 2000U);
  ASSERT_GE(donor_refs_.size(), 5U);
  for (const std::string& donor : donor_refs_) {
    EXPECT_EQ(html.find(donor), std::string::npos) << donor;
  }
  EXPECT_EQ(html.find("zq-donor"), std::string::npos);
  std::smatch match;
  EXPECT_FALSE(std::regex_search(html, match, std::regex(R"(\d{1,2}:\d{2})"))) << match.str();
  EXPECT_FALSE(std::regex_search(html, match, std::regex(R"(\d{4}-\d{2}-\d{2}T)"))) << match.str();
  // The day of the audit is there, its time is not.
  EXPECT_NE(html.find("2026-11-23"), std::string::npos);
}

TEST_F(ReportsTest, HtmlIsSelfContainedAndShowsTheFigures) {
  const std::string html = read_file(out_.path() / "report.html");
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"),
            html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Audit passed"), std::string::npos);
  EXPECT_NE(html.find("abcdef0123456789"), std::string::npos);
  auto cases = live_->store->list_cases();
  ASSERT_TRUE(cases.has_value());
  for (const auto& view : *cases) EXPECT_NE(html.find(">" + view.case_id + "<"), std::string::npos);
  // A case with a deficit (a chargeback after spending) is highlighted.
  bool any_deficit = false;
  for (const auto& view : *cases) any_deficit = any_deficit || view.summary.available().value() < 0;
  ASSERT_TRUE(any_deficit);
  EXPECT_NE(html.find("<tr class=\"deficit\">"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"rej\">"), std::string::npos);
  expect_balanced_tags(html);
}

TEST(Reports, AFailedOrMissingAuditResultIsShownAsSuch) {
  auto p = project_events({at(opened("o", 100), hour(0))});
  ASSERT_NE(p, nullptr);
  TempDir out;
  ordered_json failed = {{"result", "fail"}, {"findings", ordered_json::array({1, 2})}};
  ASSERT_TRUE(write_reports(out.path(), *p->store, failed).has_value());
  EXPECT_NE(read_file(out.path() / "report.html").find("Audit failed: 2 findings"),
            std::string::npos);
  // Garbage where the report should be: still a page, saying so.
  ASSERT_TRUE(write_reports(out.path(), *p->store, ordered_json::array({"x"})).has_value());
  const std::string html = read_file(out.path() / "report.html");
  EXPECT_NE(html.find("Audit result not available"), std::string::npos);
  EXPECT_NE(html.find("State digest (SHA-256)</th><td class=\"mono\">not available"),
            std::string::npos);
}

// SPEC timestamps run from year 0000 to 9999: money dated in the first or
// the last month of that range is reported like any other (the month range
// once stepped past December 9999 and never ended).
TEST(Reports, MoneyInTheFirstAndLastMonthsOfTheCalendarIsReported) {
  // 9999-12-31T00:00:00Z and 0000-01-01T00:00:00Z.
  const TimestampMicros last(int64_t{253'402'214'400} * kMicrosPerSecond);
  const TimestampMicros first(int64_t{-62'167'219'200} * kMicrosPerSecond);
  auto p = project_events({at(opened("o", 100), hour(0)), at(donation("d1", "donor-a", 7), last),
                           at(donation("d2", "donor-b", 5), first)});
  ASSERT_NE(p, nullptr);
  TempDir out;
  ASSERT_TRUE(write_reports(out.path(), *p->store, passing_audit_report()).has_value());
  const std::string periods = read_file(out.path() / "periods.csv");
  EXPECT_NE(periods.find("USD,9999-12,1,0.07"), std::string::npos) << periods;
  EXPECT_NE(periods.find("USD,0000-01,1,0.05"), std::string::npos) << periods;
  const std::string html = read_file(out.path() / "report.html");
  EXPECT_NE(html.find(">9999-12<"), std::string::npos);
  EXPECT_NE(html.find(">0000-01<"), std::string::npos);
  // Only the two months with money are charted, not the 120,000 between.
  EXPECT_LT(html.size(), size_t{200'000});
}

TEST(Reports, AnUnwritableDirectoryIsAnIoError) {
  auto p = project_events({at(opened("o", 100), hour(0))});
  ASSERT_NE(p, nullptr);
  TempDir out;
  std::ofstream(out.path() / "file") << "x";
  auto written = write_reports(out.path() / "file" / "sub", *p->store, ordered_json::object());
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::kIo);
}

TEST(CsvField, QuotesOnlyWhatRfc4180Needs) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("-12.50"), "-12.50");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field(" padded"), "\" padded\"");
}

TEST(HtmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(html_escape("<b>&\"'x"), "&lt;b&gt;&amp;&quot;&#39;x");
  EXPECT_EQ(html_escape("case-2015-001"), "case-2015-001");
}

// ----------------------------------------------- the board's page (issue 11)

// Events of one case, in its order, `h` hours after 2015-06-01.
std::vector<Event> case_events(const std::string& case_id,
                               std::vector<std::pair<int, Event>> list) {
  std::vector<Event> out;
  for (auto& [h, event] : list) out.push_back(at(in_case(std::move(event), case_id), hour(h)));
  return out;
}

std::unique_ptr<Projected> project_cases(const std::vector<std::vector<Event>>& cases) {
  std::vector<Event> all;
  for (const auto& c : cases) all.insert(all.end(), c.begin(), c.end());
  return project_events(all);
}

std::string html_report(const Projected& p, TempDir& out) {
  EXPECT_TRUE(write_reports(out.path(), *p.store, passing_audit_report()).has_value());
  return read_file(out.path() / "report.html");
}

// The text between `from` and the next `to` after it.
std::string section(const std::string& html, const std::string& from, const std::string& to) {
  const size_t start = html.find(from);
  if (start == std::string::npos) return {};
  const size_t end = html.find(to, start + from.size());
  return html.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(BoardReport, AmountsAndCountsAreGroupedInThousandsAndTheCsvKeepsSpecDigits) {
  auto p = project_cases({case_events(
      "big", {{0, opened("o", 200'000'000)}, {1, donation("d1", "donor-a", 123'456'789)}})});
  ASSERT_NE(p, nullptr);
  TempDir out;
  const std::string html = html_report(*p, out);
  EXPECT_NE(html.find("1,234,567.89 USD"), std::string::npos);  // the headline
  EXPECT_NE(html.find(">2,000,000.00<"), std::string::npos);    // the goal in the case table
  EXPECT_EQ(html.find("1234567.89"), std::string::npos);
  EXPECT_NE(read_file(out.path() / "cases.csv").find(",1234567.89,"), std::string::npos);
}

TEST(BoardReport, TheHeadlineGivesEachCurrencysTotal) {
  auto p = project_cases(
      {case_events("usd-1", {{0, opened("o", 100'000)}, {1, donation("d1", "donor-a", 381'900)}}),
       case_events("jpy-1", {{0, opened("o", 100'000, kJpy)},
                             {1, donation("d1", "donor-b", 1'250'000, kJpy)}})});
  ASSERT_NE(p, nullptr);
  TempDir out;
  const std::string html = html_report(*p, out);
  expect_balanced_tags(html);
  const std::string headline =
      section(html, "<div class=\"l\">Raised</div>", "<div class=\"card\">");
  EXPECT_NE(headline.find("3,819.00 USD"), std::string::npos) << headline;
  EXPECT_NE(headline.find("1,250,000 JPY"), std::string::npos) << headline;
  EXPECT_NE(headline.find("never added together"), std::string::npos) << headline;
}

TEST(BoardReport, EveryReasonCodeHasPlainWordsBesideIt) {
  std::set<std::string_view> words;
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    const auto reason = static_cast<engine::RejectReason>(i);
    EXPECT_FALSE(engine::plain_words(reason).empty());
    words.insert(engine::plain_words(reason));
  }
  EXPECT_EQ(words.size(), engine::kRejectReasonCount) << "each reason its own words";

  auto p =
      project_cases({case_events("c-1", {{0, opened("o", 10'000)},
                                         {1, donation("d1", "donor-a", 1'000)},
                                         {2, refund("r1", "d1", 2'000)},
                                         {3, disbursement("x1", Category::kShelter, 5'000)}})});
  ASSERT_NE(p, nullptr);
  TempDir out;
  const std::string html = html_report(*p, out);
  for (const engine::RejectReason reason :
       {engine::RejectReason::kRefundExceedsDonation, engine::RejectReason::kInsufficientFunds}) {
    const std::string cell = fmt::format("<b>{}</b> <span class=\"why\">{}</span>",
                                         engine::to_string(reason), engine::plain_words(reason));
    // In the rejections table and in the audit trail's count by reason.
    const size_t first = html.find(cell);
    ASSERT_NE(first, std::string::npos) << cell;
    EXPECT_NE(html.find(cell, first + 1), std::string::npos) << cell;
  }
}

TEST(BoardReport, CasesNeedingAttentionComeFirstLargestFirst) {
  // Deficits: spend, then a chargeback of every donation. Surpluses: more
  // than the goal. Ids chosen so that id order and size order differ.
  auto deficit = [](const std::string& id, int64_t spent) {
    return case_events(id, {{0, opened("o", 100'000)},
                            {1, donation("d1", "donor-a", 50'000)},
                            {2, disbursement("x1", Category::kShelter, spent)},
                            {3, refund("r1", "d1", 50'000, events::RefundReason::kChargeback)}});
  };
  auto surplus = [](const std::string& id, int64_t over, const Currency& currency = kUsd) {
    return case_events(id, {{0, opened("o", 10'000, currency)},
                            {1, donation("d1", "donor-b", 10'000 + over, currency)}});
  };
  auto plain = [](const std::string& id) {
    return case_events(id, {{0, opened("o", 10'000)}, {1, donation("d1", "donor-c", 100)}});
  };
  auto p = project_cases({plain("p-case-10"), deficit("p-case-1", 1'000), plain("p-case-2"),
                          surplus("p-case-0", 500), deficit("p-case-11", 30'000),
                          surplus("p-case-3", 9'000), surplus("p-case-4", 700'000, kJpy),
                          deficit("p-case-5", 20'000)});
  ASSERT_NE(p, nullptr);
  TempDir out;
  const std::string table = section(html_report(*p, out), "<table class=\"cases\">", "</table>");
  std::vector<std::string> order;
  const std::regex id_cell("<td class=\"k\">([^<]+)</td>");
  for (auto it = std::sregex_iterator(table.begin(), table.end(), id_cell);
       it != std::sregex_iterator(); ++it) {
    order.push_back((*it)[1]);
  }
  EXPECT_EQ(order, (std::vector<std::string>{// deficits: 300.00, 200.00, 10.00
                                             "p-case-11", "p-case-5", "p-case-1",
                                             // surpluses by currency: JPY, then USD 90.00, 5.00
                                             "p-case-4", "p-case-3", "p-case-0",
                                             // the rest in natural order
                                             "p-case-2", "p-case-10"}));
}

TEST(BoardReport, EachCurrencysChartStartsAtItsOwnFirstMonth) {
  constexpr int kMonth = 31 * 24;  // hours: about a month on from 2015-06-01
  auto p = project_cases(
      {case_events("usd-1", {{0, opened("o", 100'000)},
                             {1, donation("d1", "donor-a", 1'000)},
                             {2 * kMonth, donation("d2", "donor-b", 2'000)}}),
       case_events("jpy-1", {{0, opened("o", 100'000, kJpy)},
                             {12 * kMonth, donation("d1", "donor-c", 5'000, kJpy)},
                             {13 * kMonth, donation("d2", "donor-d", 5'000, kJpy)}})});
  ASSERT_NE(p, nullptr);
  TempDir out;
  const std::string html = html_report(*p, out);
  const std::string usd = section(html, "Cumulative donations received, USD", "</svg>");
  const std::string jpy = section(html, "Cumulative donations received, JPY", "</svg>");
  ASSERT_FALSE(usd.empty());
  ASSERT_FALSE(jpy.empty());
  EXPECT_NE(usd.find(">2015-06<"), std::string::npos) << usd;
  EXPECT_NE(usd.find(">2015-08<"), std::string::npos) << usd;
  EXPECT_EQ(usd.find(">2016-0"), std::string::npos) << "USD stops at its last month";
  // JPY's first donation is in June 2016 (12 x 31 days on): its chart starts
  // there, not at USD's first month.
  EXPECT_EQ(jpy.find(">2015-"), std::string::npos) << jpy;
  EXPECT_NE(jpy.find(">2016-06<"), std::string::npos) << jpy;
  EXPECT_NE(jpy.find(">2016-07<"), std::string::npos) << jpy;
  // Two months: a point at the end of each (and the start, drawn without one).
  size_t circles = 0;
  for (size_t at = jpy.find("<circle"); at != std::string::npos; at = jpy.find("<circle", at + 1)) {
    ++circles;
  }
  EXPECT_EQ(circles, 2u) << jpy;
}

// The page as a browser draws it: Debian's chromium, headless, takes a
// screenshot; the PNG must exist and not be trivially small.
TEST_F(ReportsTest, HeadlessChromiumRendersThePage) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "chromium is not installed (Debian package `chromium`; ./run installs it)";
  }
  TempDir profile;
  const std::filesystem::path png = out_.path() / "screenshot.png";
  const std::string command =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir='" +
      profile.path().string() + "' --screenshot='" + png.string() +
      "' --window-size=1200,1600 'file://" + (out_.path() / "report.html").string() +
      "' >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 10'000U);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

}  // namespace
}  // namespace homeward::testing
