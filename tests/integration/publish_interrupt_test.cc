// Issue 11 item 5 over the embedded log, with the real binary in a child
// process: SIGTERM or SIGINT in the middle of a publish finishes the batch in
// flight, prints the summary, the last line appended and the --from-line to
// go on with, and exits 130; going on from that line leaves exactly the log
// of one uninterrupted publish (every line once: no duplicate records).
#include <signal.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/generator.h"
#include "tests/support/cli_runner.h"
#include "tests/support/interrupted_publish.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {
namespace {

std::string generated_stream(int64_t events, uint64_t seed) {
  std::ostringstream out;
  auto summary = bench::generate({.events = events, .seed = seed}, out);
  EXPECT_TRUE(summary.has_value()) << summary.error().message;
  return out.str();
}

// The documents a clean publish and an interrupted one gone on with must
// share: the whole log as NDJSON, and SPEC section 7's figures.
void expect_same_ledger(const std::string& data, const std::string& clean) {
  const CliRun exported = run_homeward({"--data", data, "export"});
  const CliRun exported_clean = run_homeward({"--data", clean, "export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  ASSERT_EQ(exported_clean.code, 0) << exported_clean.err;
  // Not EXPECT_EQ: a difference would print two logs of 180 MB.
  EXPECT_EQ(exported.out.size(), exported_clean.out.size());
  EXPECT_TRUE(exported.out == exported_clean.out) << "the exported logs differ";
  for (const char* query : {"stats", "rejections", "cases"}) {
    SCOPED_TRACE(query);
    const CliRun figures = run_homeward({"--data", data, query, "--json"});
    const CliRun clean_figures = run_homeward({"--data", clean, query, "--json"});
    ASSERT_EQ(figures.code, 0) << figures.err;
    EXPECT_TRUE(figures.out == clean_figures.out);
  }
}

TEST(PublishInterrupt, SigtermInAMillionEventsThenFromLineGivesExactlyOneCleanPublish) {
  constexpr int64_t kEvents = 1'000'000;
  constexpr int64_t kFedBeforeSignal = 600'000;
  TempDir work;
  const std::string ndjson = generated_stream(kEvents, 41);
  const std::filesystem::path file = work.path() / "events.ndjson";
  std::ofstream(file, std::ios::binary) << ndjson;
  const std::string data = (work.path() / "data").string();

  const InterruptedPublish stopped = publish_and_interrupt(
      HOMEWARD_BINARY, {"--data", data}, work.path(), ndjson, kFedBeforeSignal, SIGTERM);
  ASSERT_EQ(stopped.code, 130) << stopped.out << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted by SIGTERM"), std::string::npos) << stopped.err;
  // Every line of the generated stream passes stage 1 and none is blank, so
  // the lines before the one to go on from are exactly the appended ones.
  ASSERT_GT(stopped.next_line, 1) << stopped.err;
  EXPECT_LE(stopped.next_line, kFedBeforeSignal + 1);
  EXPECT_EQ(stopped.appended, stopped.next_line - 1) << stopped.out;
  EXPECT_EQ(stopped.last_appended_line, stopped.next_line - 1) << stopped.err;

  const CliRun rest = run_homeward(
      {"--data", data, "publish", file.string(), "--from-line", std::to_string(stopped.next_line)});
  ASSERT_EQ(rest.code, 0) << rest.err;
  EXPECT_EQ(rest.out, fmt::format("appended {}, refused 0\n", kEvents - stopped.appended));

  const std::string clean = (work.path() / "clean").string();
  const CliRun published = run_homeward({"--data", clean, "publish", file.string()});
  ASSERT_EQ(published.code, 0) << published.err;
  expect_same_ledger(data, clean);
}

// With --json the document says so too; refusals keep the file's line
// numbers on both sides of the interruption.
TEST(PublishInterrupt, SigintWithJsonGivesTheLineToGoOnFromAndRefusalsKeepTheirLines) {
  constexpr int64_t kEvents = 200'000;
  constexpr int64_t kFedBeforeSignal = 150'000;
  std::string ndjson = generated_stream(kEvents, 42);
  // A refused line early (line 3) and one late (the last line).
  const size_t third = prefix_bytes(ndjson, 2);
  ndjson.insert(third, "not json\n");
  ndjson += "{\"type\":\"CaseClosed\"}\n";
  const int64_t lines = kEvents + 2;
  TempDir work;
  const std::filesystem::path file = work.path() / "events.ndjson";
  std::ofstream(file, std::ios::binary) << ndjson;
  const std::string data = (work.path() / "data").string();

  const InterruptedPublish stopped = publish_and_interrupt(
      HOMEWARD_BINARY, {"--data", data}, work.path(), ndjson, kFedBeforeSignal, SIGINT, {"--json"});
  ASSERT_EQ(stopped.code, 130) << stopped.out << stopped.err;
  const auto document = nlohmann::json::parse(stopped.out);
  EXPECT_EQ(document["interrupted"], true);
  const int64_t next_line = document["next_line"];
  EXPECT_EQ(next_line, stopped.next_line) << stopped.err;
  ASSERT_GT(next_line, 3);
  EXPECT_LE(next_line, kFedBeforeSignal + 1);
  EXPECT_EQ(document["appended"], next_line - 2);  // every line but line 3
  EXPECT_EQ(document["last_appended_line"], next_line - 1);
  ASSERT_EQ(document["refused"].size(), 1u);
  EXPECT_EQ(document["refused"][0]["line"], 3);

  const CliRun rest = run_homeward({"--data", data, "publish", file.string(), "--from-line",
                                    std::to_string(next_line), "--json"});
  ASSERT_EQ(rest.code, 3) << rest.err;
  const auto rest_document = nlohmann::json::parse(rest.out);
  EXPECT_EQ(rest_document["appended"], lines - next_line);
  ASSERT_EQ(rest_document["refused"].size(), 1u);
  EXPECT_EQ(rest_document["refused"][0]["line"], lines);
  EXPECT_FALSE(rest_document.contains("interrupted"));

  const std::string clean = (work.path() / "clean").string();
  ASSERT_EQ(run_homeward({"--data", clean, "publish", file.string()}).code, 3);
  expect_same_ledger(data, clean);
}

// With --wait, the lines appended before the signal get their stage-2
// outcomes (issue 11 item 6), and going on from --from-line with --wait
// gives the rest: together, exactly the outcomes of one clean publish.
TEST(PublishInterrupt, SigtermWithWaitGivesTheOutcomesOfTheLinesAppendedBeforeIt) {
  constexpr int64_t kEvents = 200'000;
  constexpr int64_t kFedBeforeSignal = 120'000;
  const std::string ndjson = generated_stream(kEvents, 43);
  TempDir work;
  const std::filesystem::path file = work.path() / "events.ndjson";
  std::ofstream(file, std::ios::binary) << ndjson;
  const std::string data = (work.path() / "data").string();

  const InterruptedPublish stopped =
      publish_and_interrupt(HOMEWARD_BINARY, {"--data", data}, work.path(), ndjson,
                            kFedBeforeSignal, SIGTERM, {"--wait", "--json"});
  ASSERT_EQ(stopped.code, 130) << stopped.out << stopped.err;
  const auto first = nlohmann::json::parse(stopped.out);
  const int64_t next_line = first["next_line"];
  ASSERT_GT(next_line, 1);
  ASSERT_EQ(first["outcomes"].size(), static_cast<size_t>(first["appended"].get<int64_t>()));
  EXPECT_EQ(first["outcomes"].back()["line"], next_line - 1);

  const CliRun rest = run_homeward({"--data", data, "publish", file.string(), "--from-line",
                                    std::to_string(next_line), "--wait", "--json"});
  ASSERT_EQ(rest.code, 0) << rest.err;
  const auto second = nlohmann::json::parse(rest.out);
  EXPECT_EQ(second["outcomes"][0]["line"], next_line);

  const std::string clean = (work.path() / "clean").string();
  const CliRun published =
      run_homeward({"--data", clean, "publish", file.string(), "--wait", "--json"});
  ASSERT_EQ(published.code, 0) << published.err;
  const auto whole = nlohmann::json::parse(published.out);
  // The same outcome for every line (positions too: one partition, the same
  // order), and the totals add up.
  nlohmann::json both = first["outcomes"];
  for (const auto& outcome : second["outcomes"]) both.push_back(outcome);
  EXPECT_TRUE(both == whole["outcomes"]) << "the outcomes differ";
  for (const char* word : {"applied", "duplicate", "rejected"}) {
    EXPECT_EQ(first["outcome_totals"][word].get<int64_t>() +
                  second["outcome_totals"][word].get<int64_t>(),
              whole["outcome_totals"][word])
        << word;
  }
  expect_same_ledger(data, clean);
}

}  // namespace
}  // namespace homeward::testing
