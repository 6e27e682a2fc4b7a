// `publish --wait` in Kafka mode (issue 11 item 6): over a topic of several
// partitions, each appended line's outcome is found at the partition and
// offset of its delivery report, and is the outcome the same line has on the
// embedded log; every rejection it reports is the projector's (`rejections
// --json`, position included) and its totals are `stats --json`'s.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "tests/kafka/support/ledger_runs.h"
#include "tests/kafka/support/mock_kafka_cluster.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward::connectors {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::run_homeward;

// line -> "applied" / "duplicate" / "rejected:REASON".
std::map<int64_t, std::string> verdicts(const json& document) {
  std::map<int64_t, std::string> by_line;
  for (const json& outcome : document.at("outcomes")) {
    const std::string word = outcome.at("outcome");
    by_line[outcome.at("line").get<int64_t>()] =
        word == "rejected"
            ? fmt::format("rejected:{}", outcome.at("rejection_reason").get<std::string>())
            : word;
  }
  return by_line;
}

TEST(KafkaPublishWait, OutcomesAreFoundAtEachRecordsPartitionAndOffsetAndEqualTheEmbeddedOnes) {
  constexpr int kPartitions = 3;
  testing::MockKafkaCluster kafka(1, kPartitions);
  testing::TempDir work;
  // A generated stream (re-sent lines and lines stage 2 rejects), and then
  // the same lines again: every one of those is a duplicate.
  const std::string stream = testing::generated_stream(3000, 71);
  const auto file = work.path() / "events.ndjson";
  std::ofstream(file, std::ios::binary) << stream << stream;
  const std::string data = (work.path() / "data").string();

  const CliRun run = run_homeward({"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(),
                                   "--data", data, "publish", file.string(), "--wait", "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  const json document = json::parse(run.out);
  ASSERT_EQ(document.at("outcomes").size(), 6000u);

  std::set<std::string> partitions;
  using Rejection = std::tuple<std::string, std::string, std::string>;
  std::set<Rejection> told;
  for (const json& outcome : document.at("outcomes")) {
    const std::string position = outcome.at("position");
    partitions.insert(position.substr(0, position.find(':')));
    if (outcome.at("outcome") == "rejected") {
      told.emplace(outcome.at("case_id").get<std::string>(), position,
                   outcome.at("rejection_reason").get<std::string>());
    }
  }
  EXPECT_EQ(partitions.size(), static_cast<size_t>(kPartitions));

  const CliRun rejections = run_homeward({"--kafka", kafka.bootstrap_servers(), "--topic",
                                          kafka.topic(), "--data", data, "rejections", "--json"});
  ASSERT_EQ(rejections.code, 0) << rejections.err;
  std::set<Rejection> recorded;
  for (const json& r : json::parse(rejections.out)) {
    recorded.emplace(
        r.at("case_id").get<std::string>(),
        fmt::format("{}:{}", r.at("partition").get<int>(), r.at("offset").get<int64_t>()),
        r.at("reason").get<std::string>());
  }
  EXPECT_FALSE(told.empty());
  EXPECT_EQ(told, recorded);

  const CliRun stats = run_homeward({"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(),
                                     "--data", data, "stats", "--json"});
  ASSERT_EQ(stats.code, 0) << stats.err;
  const json events = json::parse(stats.out).at("events");
  const json& totals = document.at("outcome_totals");
  EXPECT_EQ(totals.at("applied"), events.at("applied"));
  EXPECT_EQ(totals.at("duplicate"), events.at("duplicates"));
  EXPECT_EQ(totals.at("rejected"), events.at("rejected"));
  EXPECT_EQ(totals.at("rejected_by_reason"), events.at("rejected_by_reason"));

  // The second copy of the stream: all duplicates, save a line whose
  // event_id a different event took first (none in a generated stream).
  const std::map<int64_t, std::string> by_line = verdicts(document);
  for (int64_t line = 3001; line <= 6000; ++line) {
    EXPECT_EQ(by_line.at(line), "duplicate") << "line " << line;
  }

  const std::string embedded = (work.path() / "embedded").string();
  const CliRun local =
      run_homeward({"--data", embedded, "publish", file.string(), "--wait", "--json"});
  ASSERT_EQ(local.code, 0) << local.err;
  EXPECT_EQ(by_line, verdicts(json::parse(local.out)));
}

}  // namespace
}  // namespace homeward::connectors
