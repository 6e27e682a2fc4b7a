// `homeward case|cases|stats --as-of` and `homeward donor`, run in-process
// through run_cli on the demo scenario (demo/pilot.ndjson): each as-of
// document must equal the same command's document over a fresh data
// directory that was given only the lines that occurred by then.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/cli/cli.h"
#include "events/ndjson.h"
#include "events/timestamp.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {
namespace {

using nlohmann::json;

std::vector<std::string> pilot_lines() {
  std::ifstream in(HOMEWARD_DEMO_PILOT_FILE);
  EXPECT_TRUE(in.good()) << HOMEWARD_DEMO_PILOT_FILE;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// Publishes `lines` into a fresh data directory in `dir`.
void publish(const std::filesystem::path& dir, const std::vector<std::string>& lines) {
  const CliRun run = run_homeward({"--data", dir.string(), "-q", "publish", "-"}, join(lines));
  // The pilot is all well-formed: exit 0.
  ASSERT_EQ(run.code, 0) << run.err;
}

json run_json(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--data", dir.string(), "-q"});
  const CliRun run = run_homeward(args);
  EXPECT_EQ(run.code, 0) << run.err;
  return run.code == 0 ? json::parse(run.out) : json();
}

TEST(AsOfCli, EachCutEqualsAFreshDataDirectoryOfTheEarlierLines) {
  const std::vector<std::string> lines = pilot_lines();
  ASSERT_GE(lines.size(), 50U);
  TempDir live;
  publish(live.path(), lines);

  for (const std::string cut :
       {"2015-06-01T12:00:00Z", "2015-06-03T00:00:00+07:00", "2015-06-06T08:00:00Z",
        "2015-07-15T00:00:00Z", "2015-09-30T23:59:59.999999Z", "2016-01-01T00:00:00Z"}) {
    SCOPED_TRACE(cut);
    const auto t = events::parse_timestamp(cut);
    ASSERT_TRUE(t.has_value());
    std::vector<std::string> earlier;
    for (const std::string& line : lines) {
      auto event = events::parse_event_json(line);
      ASSERT_TRUE(event.has_value()) << line;
      if (event->occurred_at <= *t) earlier.push_back(line);
    }
    ASSERT_FALSE(earlier.empty());
    TempDir fresh;
    publish(fresh.path(), earlier);

    EXPECT_EQ(run_json(live.path(), {"cases", "--json", "--as-of", cut}),
              run_json(fresh.path(), {"cases", "--json"}));
    EXPECT_EQ(run_json(live.path(), {"stats", "--json", "--as-of", cut}),
              run_json(fresh.path(), {"stats", "--json"}));
    EXPECT_EQ(run_json(live.path(), {"case", "case-2015-001", "--json", "--as-of", cut}),
              run_json(fresh.path(), {"case", "case-2015-001", "--json"}));
  }
}

TEST(AsOfCli, ACaseNotYetOpenedIsUnknownAndABadTimestampIsAUsageError) {
  TempDir live;
  publish(live.path(), pilot_lines());
  CliRun run = run_homeward({"--data", live.path().string(), "-q", "case", "case-2015-001",
                             "--as-of", "2015-05-01T00:00:00Z"});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("unknown as of 2015-05-01T00:00:00Z"), std::string::npos) << run.err;

  run = run_homeward({"--data", live.path().string(), "-q", "stats", "--as-of", "yesterday"});
  EXPECT_EQ(run.code, 2);
  run = run_homeward(
      {"--data", live.path().string(), "-q", "cases", "--as-of", "2015-02-30T00:00:00Z"});
  EXPECT_EQ(run.code, 2);

  // Human output says which time it shows.
  run = run_homeward(
      {"--data", live.path().string(), "-q", "stats", "--as-of", "2015-06-03T00:00:00+07:00"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out.rfind("As of 2015-06-02T17:00:00Z", 0), 0U) << run.out;
}

TEST(DonorCli, PrintsTheStatementAndRefusesAnUnknownDonor) {
  TempDir live;
  publish(live.path(), pilot_lines());
  const json statement = run_json(live.path(), {"donor", "dnr-008", "--json"});
  ASSERT_TRUE(statement.is_object());
  EXPECT_EQ(statement["donor_ref"], "dnr-008");
  ASSERT_FALSE(statement["donations"].empty());
  for (const json& donation : statement["donations"]) {
    EXPECT_FALSE(donation["case_id"].get<std::string>().empty());
  }
  ASSERT_FALSE(statement["cases"].empty());

  CliRun run = run_homeward({"--data", live.path().string(), "-q", "donor", "dnr-008"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("personal data"), std::string::npos);

  run = run_homeward({"--data", live.path().string(), "-q", "donor", "nobody-at-all", "--json"});
  EXPECT_EQ(run.code, 1);
  EXPECT_TRUE(run.out.empty());
  EXPECT_NE(run.err.find("no donation or pledge of donor nobody-at-all"), std::string::npos)
      << run.err;

  run = run_homeward({"donor", "--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_NE((run.out + run.err).find("PERSONAL DATA"), std::string::npos);
}

}  // namespace
}  // namespace homeward::testing
