// The command line's manners (issue 11, item 8): a mistyped command is named
// with a suggestion, `--as-of` takes a date meaning the end of that day in
// UTC, human tables group thousands and keep long ids from breaking their
// layout while JSON keeps SPEC's digits, and every help text is free of
// CLI11's artefacts and ends with examples.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "connectors/cli/help.h"
#include "connectors/cli/table_output.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::run_homeward;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class CliManners : public ::testing::Test {
 protected:
  std::string data() const { return (dir_.path() / "data").string(); }
  void publish(const std::string& ndjson) {
    const CliRun run = run_homeward({"--data", data(), "publish", "-"}, ndjson);
    ASSERT_EQ(run.code, 0) << run.err;
  }
  testing::TempDir dir_;
};

// ------------------------------------------------------------ unknown commands

TEST(CliCommandNames, AnUnknownCommandIsNamedWithTheNearestOne) {
  CliRun run = run_homeward({"cses"});
  EXPECT_EQ(run.code, 2);
  EXPECT_TRUE(run.out.empty());
  EXPECT_EQ(run.err,
            "homeward: error: 'cses' is not a command; did you mean 'cases'? "
            "(homeward --help lists them)\n");
  // Global options and their values before it are skipped.
  run = run_homeward({"--data", "somewhere", "-q", "--log-level=info", "rejection", "--json"});
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("'rejection' is not a command; did you mean 'rejections'?"),
            std::string::npos)
      << run.err;
  run = run_homeward({"frobnicate"});
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.err,
            "homeward: error: 'frobnicate' is not a command (homeward --help lists them)\n");
}

TEST(CliCommandNames, AnOptionValueThatLooksLikeACommandIsStillAValue) {
  testing::TempDir dir;
  // "cses" is --data's value here; "cases" is the command (on no ledger).
  const CliRun run = run_homeward({"--data", (dir.path() / "cses").string(), "cases"});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("no ledger"), std::string::npos) << run.err;
  EXPECT_EQ(run_homeward({"--help"}).code, 0);
  EXPECT_EQ(run_homeward({"--version"}).code, 0);
}

TEST(CliCommandNames, SuggestionsAreOnlyForLikelyTypos) {
  const std::vector<std::string> names = {"case", "cases", "stats", "export", "audit", "demo"};
  EXPECT_EQ(connectors::cli::closest_name("stat", names), "stats");
  EXPECT_EQ(connectors::cli::closest_name("exprot", names), "export");  // neighbours swapped
  EXPECT_EQ(connectors::cli::closest_name("auidt", names), "audit");
  EXPECT_EQ(connectors::cli::closest_name("statss", names), "stats");
  EXPECT_EQ(connectors::cli::closest_name("x", names), std::nullopt);
  EXPECT_EQ(connectors::cli::closest_name("publish", names), std::nullopt);
  EXPECT_EQ(connectors::cli::closest_name("dmeoxx", names), std::nullopt);
}

// --------------------------------------------------------------- --as-of date

TEST_F(CliManners, AsOfADateMeansTheEndOfThatDayInUtc) {
  publish(
      R"({"type":"CaseOpened","event_id":"o","occurred_at":"2015-06-01T00:00:00Z","case_id":"c-1","currency":"USD","goal":"100.00"})"
      "\n"
      // The last microsecond of June 5th (UTC; 07:59:59.999999 on the 6th at +08:00).
      R"({"type":"DonationReceived","event_id":"d1","occurred_at":"2015-06-06T07:59:59.999999+08:00","case_id":"c-1","donor_ref":"d-1","amount":"10.00","currency":"USD"})"
      "\n"
      // June 6th, 00:00:00 UTC: after the end of June 5th.
      R"({"type":"DonationReceived","event_id":"d2","occurred_at":"2015-06-06T00:00:00Z","case_id":"c-1","donor_ref":"d-2","amount":"20.00","currency":"USD"})"
      "\n");
  const CliRun by_date =
      run_homeward({"--data", data(), "case", "c-1", "--as-of", "2015-06-05", "--json"});
  ASSERT_EQ(by_date.code, 0) << by_date.err;
  EXPECT_EQ(json::parse(by_date.out)["net"], "10.00");
  const CliRun by_time = run_homeward(
      {"--data", data(), "case", "c-1", "--as-of", "2015-06-05T23:59:59.999999Z", "--json"});
  EXPECT_EQ(by_date.out, by_time.out);
  const CliRun next_day =
      run_homeward({"--data", data(), "stats", "--as-of", "2015-06-06", "--json"});
  ASSERT_EQ(next_day.code, 0);
  EXPECT_EQ(json::parse(next_day.out)["by_currency"]["USD"]["net"], "30.00");
  // The human form says what the date was taken to mean.
  const CliRun human = run_homeward({"--data", data(), "cases", "--as-of", "2015-06-05"});
  EXPECT_EQ(human.out.rfind("As of the end of 2015-06-05 UTC (2015-06-05T23:59:59.999999Z", 0), 0u)
      << human.out;
}

TEST_F(CliManners, AnImpossibleDateIsAUsageErrorAboutThatDate) {
  publish(
      R"({"type":"CaseOpened","event_id":"o","occurred_at":"2015-06-01T00:00:00Z","case_id":"c-1","currency":"USD","goal":"100.00"})"
      "\n");
  for (const char* bad : {"2015-02-30", "2015-13-01", "2015-6-1", "20150601", "yesterday"}) {
    const CliRun run = run_homeward({"--data", data(), "stats", "--as-of", bad});
    EXPECT_EQ(run.code, 2) << bad;
    EXPECT_NE(run.err.find("--as-of"), std::string::npos) << run.err;
    EXPECT_EQ(run.err.find("T23:59:59"), std::string::npos) << run.err;
  }
}

// ------------------------------------------------------------------- tables

TEST(CliTables, ThousandsAreGroupedInTheIntegerPartOnly) {
  using connectors::cli::group_thousands;
  EXPECT_EQ(group_thousands("12000000000000.000"), "12,000,000,000,000.000");
  EXPECT_EQ(group_thousands("-1234.50"), "-1,234.50");
  EXPECT_EQ(group_thousands("-123.50"), "-123.50");
  EXPECT_EQ(group_thousands("999"), "999");
  EXPECT_EQ(group_thousands("1000"), "1,000");
  EXPECT_EQ(group_thousands("0.00"), "0.00");
  EXPECT_EQ(group_thousands("100000"), "100,000");
  EXPECT_EQ(group_thousands(int64_t{9'223'372'036'854'775'807}), "9,223,372,036,854,775,807");
  EXPECT_EQ(group_thousands(int64_t{-1000}), "-1,000");
}

// A KWD case of twelve donations of 1,000,000,000,000.000 (SPEC's largest
// amount, 10^15 fils) under a 128-character case_id, and a short USD case.
class CliLargeLedger : public CliManners {
 protected:
  void SetUp() override {
    std::string ndjson = fmt::format(
        R"({{"type":"CaseOpened","event_id":"o1","occurred_at":"2015-06-01T00:00:00Z","case_id":"{}","currency":"KWD","goal":"1000000000000.000"}})"
        "\n"
        R"({{"type":"CaseOpened","event_id":"o2","occurred_at":"2015-06-01T00:00:00Z","case_id":"short","currency":"USD","goal":"1500.00"}})"
        "\n",
        long_id_);
    for (int i = 0; i < 12; ++i) {
      ndjson += fmt::format(
          R"({{"type":"DonationReceived","event_id":"d{}","occurred_at":"2015-06-02T00:00:00Z","case_id":"{}","donor_ref":"d-{}","amount":"1000000000000.000","currency":"KWD"}})"
          "\n",
          i, long_id_, i);
    }
    ndjson += fmt::format(
        R"({{"type":"RefundIssued","event_id":"r1","occurred_at":"2015-06-03T00:00:00Z","case_id":"{}","donation_id":"nope","amount":"1","currency":"KWD","reason":"error"}})"
        "\n",
        long_id_);
    publish(ndjson);
  }
  const std::string long_id_ = std::string(120, 'a') + "-0000001";
};

TEST_F(CliLargeLedger, HumanOutputGroupsThousandsAndJsonKeepsSpecDigits) {
  const CliRun cases = run_homeward({"--data", data(), "cases"});
  ASSERT_EQ(cases.code, 0) << cases.err;
  // net 12 x 10^12 KWD, surplus 11 x 10^12, the USD goal 1,500.00.
  EXPECT_NE(cases.out.find("12,000,000,000,000.000"), std::string::npos) << cases.out;
  EXPECT_NE(cases.out.find("11,000,000,000,000.000"), std::string::npos) << cases.out;
  EXPECT_NE(cases.out.find("1,500.00"), std::string::npos) << cases.out;
  const CliRun one = run_homeward({"--data", data(), "case", long_id_});
  EXPECT_TRUE(std::regex_search(one.out, std::regex("\nnet +12,000,000,000,000\\.000 KWD\n")))
      << one.out;
  const CliRun stats = run_homeward({"--data", data(), "stats"});
  EXPECT_NE(stats.out.find("KWD       12,000,000,000,000.000"), std::string::npos) << stats.out;

  const json document = json::parse(run_homeward({"--data", data(), "cases", "--json"}).out);
  EXPECT_EQ(document[0]["net"], "12000000000000.000");
  EXPECT_EQ(document[1]["goal"], "1500.00");
  const json impact = json::parse(run_homeward({"--data", data(), "stats", "--json"}).out);
  EXPECT_EQ(impact["by_currency"]["KWD"]["received"], "12000000000000.000");
}

TEST_F(CliLargeLedger, ALongIdHasALineOfItsOwnAndTheColumnsKeepTheirPlace) {
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"cases"}, {"rejections"}}) {
    std::vector<std::string> args = {"--data", data()};
    args.insert(args.end(), command.begin(), command.end());
    const CliRun run = run_homeward(args);
    ASSERT_EQ(run.code, 0) << run.err;
    const std::vector<std::string> lines = lines_of(run.out);
    ASSERT_GE(lines.size(), 4u) << run.out;
    // The whole id, alone on its line (copyable), right under the rule.
    EXPECT_EQ(lines[2], long_id_) << run.out;
    // The id column is as wide as the ids that fit in it, not 128 characters.
    const size_t second_column = lines[0].find("  ", lines[0].find("case_id")) + 2;
    EXPECT_LT(second_column, 40u) << run.out;
    // Its row follows, with the other cells under their headers.
    EXPECT_EQ(lines[3].substr(0, second_column), std::string(second_column, ' ')) << run.out;
    EXPECT_NE(lines[3][second_column], ' ') << run.out;
  }
}

// --------------------------------------------------------------------- help

std::vector<std::string> command_names() {
  const CliRun help = run_homeward({"--help"});
  EXPECT_EQ(help.code, 0);
  std::vector<std::string> names;
  bool in_commands = false;
  for (const std::string& line : lines_of(help.out)) {
    if (line == "Commands:") {
      in_commands = true;
      continue;
    }
    if (!in_commands) continue;
    if (line.empty()) break;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.push_back(name);
  }
  return names;
}

void expect_clean_help(const std::string& what, const std::string& help) {
  // CLI11's artefacts in an option's head: validator descriptions after its
  // type ("TIMESTAMP:TIMESTAMP", "INT:INT in [1 - 16]", "TEXT:{a,b}"),
  // generic type names, and defaults glued to them ("TEXT=warn").
  static const std::regex kHeadArtefact(
      R"(:|=|\b(TEXT|INT|UINT|FLOAT|NUMBER|REQUIRED|POSITIVE|BOOLEAN)\b)");
  static const std::regex kArtefact(R"(\bin \[[0-9]|\bTEXT\b|\bUINT\b|\bINT\b)");
  for (const std::string& line : lines_of(help)) {
    if (line.rfind("  homeward ", 0) == 0) continue;  // an example may hold HOST:PORT
    EXPECT_FALSE(std::regex_search(line, kArtefact)) << what << ": " << line;
    if (line.rfind("  -", 0) == 0 || (line.size() > 2 && line[2] >= 'A' && line[2] <= 'Z')) {
      // The head ends where the description starts (two spaces or more).
      const size_t end = line.find("  ", 2);
      EXPECT_FALSE(std::regex_search(line.substr(0, end), kHeadArtefact)) << what << ": " << line;
    }
  }
}

TEST(CliHelp, EveryCommandsHelpIsFreeOfLibraryArtefactsAndEndsWithExamples) {
  const std::vector<std::string> names = command_names();
  ASSERT_GE(names.size(), 11u);
  expect_clean_help("homeward --help", run_homeward({"--help"}).out);
  for (const std::string& name : names) {
    const CliRun help = run_homeward({name, "--help"});
    ASSERT_EQ(help.code, 0) << name;
    expect_clean_help(name, help.out);
    std::vector<std::string> lines = lines_of(help.out);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    // The last lines are "Examples:" (or "Example:") and one or two
    // `homeward NAME ...` lines.
    size_t examples = 0;
    while (examples < lines.size() &&
           lines[lines.size() - 1 - examples].rfind("  homeward ", 0) == 0) {
      ++examples;
    }
    EXPECT_GE(examples, 1u) << name << ":\n" << help.out;
    EXPECT_LE(examples, 2u) << name << ":\n" << help.out;
    ASSERT_GT(lines.size(), examples);
    const std::string& heading = lines[lines.size() - 1 - examples];
    EXPECT_TRUE(heading == "Examples:" || heading == "Example:") << name << ": " << heading;
    bool uses_it = false;
    for (size_t i = 0; i < examples; ++i) {
      uses_it = uses_it || lines[lines.size() - 1 - i].find(" " + name) != std::string::npos;
    }
    EXPECT_TRUE(uses_it) << name << "'s examples use it";
  }
}

TEST(CliHelp, OptionsShowTheirOwnTypeNamesAndDefaultsInWords) {
  const CliRun help = run_homeward({"--help"});
  EXPECT_NE(help.out.find("--data DIR"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("(default: ./homeward-data)"), std::string::npos) << help.out;
  const CliRun broker = run_homeward({"dev-broker", "--help"});
  EXPECT_NE(broker.out.find("--brokers N "), std::string::npos) << broker.out;
  const CliRun cases = run_homeward({"cases", "--help"});
  EXPECT_NE(cases.out.find("--as-of WHEN "), std::string::npos) << cases.out;
  EXPECT_NE(cases.out.find("YYYY-MM-DD"), std::string::npos) << cases.out;
}

}  // namespace
}  // namespace homeward
