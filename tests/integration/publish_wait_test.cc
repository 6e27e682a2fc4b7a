// Issue 11 item 6: `publish --wait` projects what it appended and reports,
// per line, the stage-2 outcome of SPEC section 4: `applied`, `duplicate`
// (the same event_id already handled in the same case, every field
// identical) or `rejected` with the SPEC reason code.
//
// The outcomes are held to three things that share no code with the lookup
// behind them (projections/read_models/event_outcomes.h): the SPEC's words
// for a hand-written stream with every reason a publisher can produce, the
// reference fold of the SPEC (tests/support/reference_fold.h) line by line
// over a generated stream, and the projector's own record of the same
// events: `rejections --json` (every rejection at its position, with its
// reason), `stats --json` (the event totals) and `cases --json` (each case's
// counters).
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/generator.h"
#include "events/ndjson.h"
#include "tests/support/cli_runner.h"
#include "tests/support/reference_fold.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {
namespace {

using nlohmann::json;

std::string donation(std::string_view id, std::string_view case_id, std::string_view amount,
                     std::string_view currency = "USD", std::string_view donor = "d-1") {
  return fmt::format(
      R"({{"type":"DonationReceived","event_id":"{}","occurred_at":"2015-06-02T09:30:00Z","case_id":"{}","donor_ref":"{}","amount":"{}","currency":"{}"}})",
      id, case_id, donor, amount, currency);
}

std::string opened(std::string_view id, std::string_view case_id, std::string_view currency,
                   std::string_view goal) {
  return fmt::format(
      R"({{"type":"CaseOpened","event_id":"{}","occurred_at":"2015-06-01T08:00:00Z","case_id":"{}","currency":"{}","goal":"{}"}})",
      id, case_id, currency, goal);
}

// A stream with one line for each outcome a publisher's events can have
// (every SPEC reason but `malformed`, which stage 1 keeps out of the log),
// with the SPEC's verdict for each line: "" for a line that has none (refused
// at stage 1, or blank), else applied, duplicate or rejected:REASON.
struct Line {
  std::string text;
  std::string expected;
};

std::vector<Line> every_outcome() {
  const std::string w = "w-1";
  std::vector<Line> lines = {
      {donation("e0", w, "5.00"), "rejected:unknown_case"},
      {opened("e1", w, "USD", "100.00"), "applied"},
      {opened("e1b", w, "USD", "100.00"), "rejected:case_exists"},
      {donation("e2", w, "25.00"), "applied"},
      {donation("e2", w, "25.00"), "duplicate"},
      {donation("e2", w, "26.00"), "rejected:conflicting_duplicate"},
      {donation("e3", w, "25.00", "EUR"), "rejected:currency_mismatch"},
      {R"({"type":"PledgeMade","event_id":"p1","occurred_at":"2015-06-03T08:00:00Z","case_id":"w-1","donor_ref":"d-2","amount":"10.00","currency":"USD"})",
       "applied"},
      {R"({"type":"PledgeFulfilled","event_id":"e4","occurred_at":"2015-06-03T09:00:00Z","case_id":"w-1","pledge_id":"p-none"})",
       "rejected:unknown_pledge"},
      {R"({"type":"PledgeFulfilled","event_id":"e5","occurred_at":"2015-06-03T10:00:00Z","case_id":"w-1","pledge_id":"p1"})",
       "applied"},
      {R"({"type":"PledgeCancelled","event_id":"e6","occurred_at":"2015-06-03T11:00:00Z","case_id":"w-1","pledge_id":"p1"})",
       "rejected:pledge_not_outstanding"},
      {R"({"type":"RefundIssued","event_id":"e7","occurred_at":"2015-06-04T08:00:00Z","case_id":"w-1","donation_id":"nope","amount":"1.00","currency":"USD","reason":"donor_request"})",
       "rejected:unknown_donation"},
      {R"({"type":"RefundIssued","event_id":"e8","occurred_at":"2015-06-04T09:00:00Z","case_id":"w-1","donation_id":"e2","amount":"30.00","currency":"USD","reason":"donor_request"})",
       "rejected:refund_exceeds_donation"},
      // received 35.00, nothing refunded or disbursed: available 35.00.
      {R"({"type":"FundsDisbursed","event_id":"e9","occurred_at":"2015-06-05T08:00:00Z","case_id":"w-1","category":"shelter","amount":"100.00","currency":"USD"})",
       "rejected:insufficient_funds"},
      {R"({"type":"FundsDisbursed","event_id":"e10","occurred_at":"2015-06-05T09:00:00Z","case_id":"w-1","category":"shelter","amount":"5.00","currency":"USD"})",
       "applied"},
      {"not json", ""},
      {"", ""},
      {R"({"type":"CaseClosed","event_id":"e11","occurred_at":"2015-06-06T08:00:00Z","case_id":"w-1","reason":"completed"})",
       "applied"},
      {R"({"type":"CaseGoalChanged","event_id":"e12","occurred_at":"2015-06-06T09:00:00Z","case_id":"w-1","currency":"USD","goal":"50.00"})",
       "rejected:case_closed"},
      {R"({"type":"PledgeMade","event_id":"e13","occurred_at":"2015-06-06T10:00:00Z","case_id":"w-1","donor_ref":"d-3","amount":"1.00","currency":"USD"})",
       "rejected:case_closed"},
      // The money arrived: a donation to a closed case is applied (surplus).
      {donation("e14", w, "1.00"), "applied"},
      {R"({"type":"CaseClosed","event_id":"e15","occurred_at":"2015-06-06T08:00:00Z","case_id":"w-none","reason":"other"})",
       "rejected:unknown_case"},
      {opened("k0", "k-1", "KRW", "1"), "applied"},
  };
  // KRW has no minor unit: 9,223 donations of 10^15 won fit in a signed
  // 64-bit total (9.223e18), the 9,224th would leave it: overflow.
  for (int i = 1; i <= 9224; ++i) {
    lines.push_back({donation(fmt::format("k{}", i), "k-1", "1000000000000000", "KRW"),
                     i <= 9223 ? "applied" : "rejected:overflow"});
  }
  return lines;
}

std::string joined(const std::vector<Line>& lines) {
  std::string text;
  for (const Line& line : lines) text += line.text + "\n";
  return text;
}

// "applied", "duplicate" or "rejected:REASON" of one element of "outcomes".
std::string verdict(const json& outcome) {
  const std::string word = outcome.at("outcome");
  return word == "rejected" ? "rejected:" + outcome.at("rejection_reason").get<std::string>()
                            : word;
}

std::filesystem::path write_file(const TempDir& work, const std::string& name,
                                 const std::string& text) {
  const std::filesystem::path path = work.path() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// line -> "applied" / "duplicate" / "rejected:REASON", from the document.
std::map<int64_t, std::string> verdicts_by_line(const json& document) {
  std::map<int64_t, std::string> verdicts;
  for (const json& outcome : document.at("outcomes")) {
    EXPECT_TRUE(verdicts.emplace(outcome.at("line").get<int64_t>(), verdict(outcome)).second)
        << "line " << outcome.at("line") << " has two outcomes";
  }
  return verdicts;
}

// What the projector recorded must be what --wait said: every rejected
// outcome is a rejection at that position with that reason and nothing else
// is; the totals are the store's event totals (a fresh data directory: these
// are all its events); each case's counters are the outcomes of its lines
// from its applied CaseOpened on (SPEC section 5, counters).
void expect_outcomes_are_the_projections(const std::string& data, const json& document,
                                         const std::vector<std::string>& input_lines) {
  using Rejection = std::tuple<std::string, std::string, std::string>;  // case, position, reason
  std::set<Rejection> told;
  std::map<std::string, int64_t> told_by_reason;
  std::map<std::string, std::array<int64_t, 3>> told_per_case;  // applied, duplicates, rejected
  std::set<std::string> opened_cases;
  for (const json& outcome : document.at("outcomes")) {
    const std::string case_id = outcome.at("case_id");
    const std::string word = outcome.at("outcome");
    const auto line = outcome.at("line").get<int64_t>();
    const auto event = events::parse_event_json(input_lines.at(static_cast<size_t>(line - 1)));
    ASSERT_TRUE(event.has_value()) << "line " << line;
    EXPECT_EQ(event->case_id, case_id) << "line " << line;
    if (word == "applied" && event->type() == events::EventType::kCaseOpened) {
      opened_cases.insert(case_id);
    }
    const bool counts_in_case = opened_cases.contains(case_id);
    if (word == "rejected") {
      const std::string reason = outcome.at("rejection_reason");
      told.emplace(case_id, outcome.at("position").get<std::string>(), reason);
      ++told_by_reason[reason];
    }
    if (counts_in_case) {
      ++told_per_case[case_id][word == "applied" ? 0 : word == "duplicate" ? 1 : 2];
    }
  }

  const CliRun rejections = run_homeward({"--data", data, "rejections", "--json"});
  ASSERT_EQ(rejections.code, 0) << rejections.err;
  std::set<Rejection> recorded;
  for (const json& r : json::parse(rejections.out)) {
    recorded.emplace(
        r.at("case_id").get<std::string>(),
        fmt::format("{}:{}", r.at("partition").get<int>(), r.at("offset").get<int64_t>()),
        r.at("reason").get<std::string>());
  }
  EXPECT_EQ(told, recorded);

  const CliRun stats = run_homeward({"--data", data, "stats", "--json"});
  ASSERT_EQ(stats.code, 0) << stats.err;
  const json events = json::parse(stats.out).at("events");
  const json& totals = document.at("outcome_totals");
  EXPECT_EQ(totals.at("applied"), events.at("applied"));
  EXPECT_EQ(totals.at("duplicate"), events.at("duplicates"));
  EXPECT_EQ(totals.at("rejected"), events.at("rejected"));
  EXPECT_EQ(totals.at("rejected_by_reason"), events.at("rejected_by_reason"));
  EXPECT_EQ(json(told_by_reason), events.at("rejected_by_reason"));
  EXPECT_EQ(document.at("appended").get<int64_t>(), totals.at("applied").get<int64_t>() +
                                                        totals.at("duplicate").get<int64_t>() +
                                                        totals.at("rejected").get<int64_t>());

  const CliRun cases = run_homeward({"--data", data, "cases", "--json"});
  ASSERT_EQ(cases.code, 0) << cases.err;
  std::map<std::string, std::array<int64_t, 3>> recorded_per_case;
  for (const json& c : json::parse(cases.out)) {
    recorded_per_case[c.at("case_id").get<std::string>()] = {
        c.at("events_applied").get<int64_t>(), c.at("duplicates").get<int64_t>(),
        c.at("events_rejected").get<int64_t>()};
  }
  EXPECT_EQ(told_per_case, recorded_per_case);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(PublishWait, EachAppendedLineGetsItsSpecOutcomeAndTheTotalsAreTheProjections) {
  TempDir work;
  const std::vector<Line> lines = every_outcome();
  const std::string text = joined(lines);
  const auto file = write_file(work, "every-outcome.ndjson", text);
  const std::string data = (work.path() / "data").string();

  const CliRun run = run_homeward({"--data", data, "publish", file.string(), "--wait", "--json"});
  // One line refused at stage 1; stage-2 rejections do not change the exit code.
  ASSERT_EQ(run.code, 3) << run.err;
  const json document = json::parse(run.out);
  ASSERT_EQ(document.at("refused").size(), 1u);
  EXPECT_EQ(document.at("refused")[0].at("line"), 16);

  const std::map<int64_t, std::string> verdicts = verdicts_by_line(document);
  std::map<int64_t, std::string> expected;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!lines[i].expected.empty()) expected[static_cast<int64_t>(i + 1)] = lines[i].expected;
  }
  EXPECT_EQ(verdicts, expected);
  // In input order, each with the position the log gave it (one partition).
  int64_t previous_line = 0;
  int64_t previous_offset = -1;
  for (const json& outcome : document.at("outcomes")) {
    EXPECT_GT(outcome.at("line").get<int64_t>(), previous_line);
    previous_line = outcome.at("line");
    const std::string position = outcome.at("position");
    ASSERT_TRUE(position.starts_with("0:")) << position;
    const int64_t offset = std::stoll(position.substr(2));
    EXPECT_GT(offset, previous_offset);
    previous_offset = offset;
  }
  expect_outcomes_are_the_projections(data, document, split_lines(text));
}

// A portal that sends its events again (it never got an answer) is told
// `duplicate` for each of them, and nothing is counted twice. The one
// exception is SPEC section 4's rule 1 itself: a line whose event_id was
// already taken by a different event is `conflicting_duplicate` again.
TEST(PublishWait, PublishingTheSameLinesAgainGivesDuplicatesAndLeavesTheFiguresAsTheyWere) {
  TempDir work;
  const std::vector<Line> lines = every_outcome();
  const auto file = write_file(work, "every-outcome.ndjson", joined(lines));
  const std::string data = (work.path() / "data").string();
  ASSERT_EQ(run_homeward({"--data", data, "publish", file.string()}).code, 3);
  const CliRun cases_before = run_homeward({"--data", data, "cases", "--json"});
  const CliRun stats_before = run_homeward({"--data", data, "stats", "--json"});
  ASSERT_EQ(cases_before.code, 0);

  const CliRun again = run_homeward({"--data", data, "publish", file.string(), "--wait", "--json"});
  ASSERT_EQ(again.code, 3) << again.err;
  const json document = json::parse(again.out);
  const int64_t appended = document.at("appended");
  ASSERT_GT(appended, 0);
  int64_t conflicting = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> in_case;  // duplicates, rejected
  for (const json& outcome : document.at("outcomes")) {
    const auto line = outcome.at("line").get<size_t>();
    const bool conflicted = lines.at(line - 1).expected == "rejected:conflicting_duplicate";
    EXPECT_EQ(verdict(outcome), conflicted ? "rejected:conflicting_duplicate" : "duplicate")
        << outcome.dump();
    conflicting += conflicted ? 1 : 0;
    auto& counts = in_case[outcome.at("case_id").get<std::string>()];
    ++(conflicted ? counts.second : counts.first);
  }
  ASSERT_EQ(conflicting, 1);
  EXPECT_EQ(document.at("outcome_totals"),
            json({{"applied", 0},
                  {"duplicate", appended - 1},
                  {"rejected", 1},
                  {"rejected_by_reason", {{"conflicting_duplicate", 1}}}}));

  // Money, cases and donors as they were; only the counters of these
  // outcomes grew.
  json expected_stats = json::parse(stats_before.out);
  json& events = expected_stats["events"];
  events["duplicates"] = events["duplicates"].get<int64_t>() + appended - 1;
  events["rejected"] = events["rejected"].get<int64_t>() + 1;
  events["rejected_by_reason"]["conflicting_duplicate"] =
      events["rejected_by_reason"]["conflicting_duplicate"].get<int64_t>() + 1;
  EXPECT_EQ(json::parse(run_homeward({"--data", data, "stats", "--json"}).out), expected_stats);
  json cases_expected = json::parse(cases_before.out);
  for (json& c : cases_expected) {
    // Every line of a case that exists counts in it now (it opened before).
    const auto& counts = in_case[c["case_id"].get<std::string>()];
    c["duplicates"] = c["duplicates"].get<int64_t>() + counts.first;
    c["events_rejected"] = c["events_rejected"].get<int64_t>() + counts.second;
  }
  EXPECT_EQ(json::parse(run_homeward({"--data", data, "cases", "--json"}).out), cases_expected);
}

// A generated stream (every event type, re-sent lines, lines stage 2 must
// reject) with the hand-written one after it: each line's outcome is the
// SPEC reference fold's verdict.
TEST(PublishWait, OutcomesOfAGeneratedStreamAreTheReferenceFoldsVerdicts) {
  std::ostringstream generated;
  auto summary = bench::generate({.events = 30'000, .seed = 11}, generated);
  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  ASSERT_GT(summary->duplicates, 0);
  ASSERT_GT(summary->expected_rejections, 0);
  const std::string text = generated.str() + joined(every_outcome());
  const std::vector<std::string> lines = split_lines(text);
  TempDir work;
  const auto file = write_file(work, "events.ndjson", text);
  const std::string data = (work.path() / "data").string();

  const CliRun run = run_homeward({"--data", data, "publish", file.string(), "--wait", "--json"});
  ASSERT_EQ(run.code, 3) << run.err;
  const json document = json::parse(run.out);
  const std::map<int64_t, std::string> verdicts = verdicts_by_line(document);

  ReferenceFold reference;
  std::map<int64_t, std::string> expected;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto event = events::parse_event_json(lines[i]);
    if (!event) continue;  // refused at stage 1: no outcome
    const std::string said = reference.fold(*event, static_cast<int64_t>(i));
    expected[static_cast<int64_t>(i + 1)] = said.empty()          ? "applied"
                                            : said == "duplicate" ? "duplicate"
                                                                  : "rejected:" + said;
  }
  ASSERT_EQ(verdicts.size(), expected.size());
  int64_t differences = 0;
  for (const auto& [line, want] : expected) {
    const auto it = verdicts.find(line);
    if (it == verdicts.end() || it->second != want) {
      if (++differences <= 10) {
        ADD_FAILURE() << "line " << line << ": told "
                      << (it == verdicts.end() ? "nothing" : it->second) << ", the SPEC says "
                      << want;
      }
    }
  }
  EXPECT_EQ(differences, 0);
  EXPECT_EQ(document.at("outcome_totals").at("duplicate"), reference.duplicates);
  EXPECT_EQ(document.at("outcome_totals").at("rejected"), reference.rejected);
  expect_outcomes_are_the_projections(data, document, lines);
}

// Without --json: one line per appended line, then the totals; the publish
// summary first, as without --wait.
TEST(PublishWait, TheHumanReportSaysEachLinesOutcomeAndTheTotals) {
  TempDir work;
  const std::string text = opened("e1", "h-1", "USD", "10.00") + "\n" +
                           donation("e2", "h-1", "4.00") + "\n" + donation("e2", "h-1", "4.00") +
                           "\n" + donation("e3", "h-9", "4.00") + "\n";
  const auto file = write_file(work, "events.ndjson", text);
  const std::string data = (work.path() / "data").string();
  const CliRun run = run_homeward({"--data", data, "publish", file.string(), "--wait"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "appended 4, refused 0\n"
            "line 1: applied\n"
            "line 2: applied\n"
            "line 3: duplicate\n"
            "line 4: rejected: unknown_case\n"
            "applied 2, duplicate 1, rejected 1 (unknown_case 1)\n");
}

// --wait with nothing appended (every line refused) reports no outcome and
// still exits 3.
TEST(PublishWait, NothingAppendedGivesNoOutcomes) {
  TempDir work;
  const std::string data = (work.path() / "data").string();
  const CliRun run = run_homeward({"--data", data, "publish", "-", "--wait", "--json"}, "{}\n");
  ASSERT_EQ(run.code, 3) << run.err;
  const json document = json::parse(run.out);
  EXPECT_EQ(document.at("appended"), 0);
  EXPECT_EQ(document.at("outcomes"), json::array());
  EXPECT_EQ(document.at("outcome_totals").at("applied"), 0);
}

}  // namespace
}  // namespace homeward::testing
