// Issue 11 item 5 in Kafka mode: `homeward --kafka ... publish` in a child
// process, stopped by SIGINT in the middle of its input, finishes the batch in
// flight (its delivery reports), says where to go on, exits 130; going on
// with --from-line puts every line in the topic exactly once, so the topic
// exports and projects to exactly what one clean publish gives.
//
// 200,000 events, not the embedded test's million: librdkafka's mock cluster
// keeps at most 5 MiB per partition (docs/kafka.md), and the generated
// stream's hottest case alone overflows that at a million events.
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/kafka/support/ledger_runs.h"
#include "tests/kafka/support/mock_kafka_cluster.h"
#include "tests/support/cli_runner.h"
#include "tests/support/interrupted_publish.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {
namespace {

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(KafkaPublishInterrupt, SigintThenFromLinePutsEveryLineInTheTopicExactlyOnce) {
  constexpr int64_t kEvents = 200'000;
  constexpr int64_t kFedBeforeSignal = 120'000;
  constexpr int kPartitions = 16;
  MockKafkaCluster kafka(1, kPartitions);
  TempDir work;
  const std::string ndjson = generated_stream(kEvents, 43);
  const std::filesystem::path file = work.path() / "events.ndjson";
  std::ofstream(file, std::ios::binary) << ndjson;
  const std::string data = (work.path() / "data").string();
  const std::vector<std::string> kafka_args{
      "--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(), "--data", data};

  const InterruptedPublish stopped = publish_and_interrupt(HOMEWARD_BINARY, kafka_args, work.path(),
                                                           ndjson, kFedBeforeSignal, SIGINT);
  ASSERT_EQ(stopped.code, 130) << stopped.out << stopped.err;
  EXPECT_NE(stopped.err.find("interrupted by SIGINT"), std::string::npos) << stopped.err;
  ASSERT_GT(stopped.next_line, 1) << stopped.err;
  EXPECT_LE(stopped.next_line, kFedBeforeSignal + 1);
  EXPECT_EQ(stopped.appended, stopped.next_line - 1) << stopped.out;
  EXPECT_EQ(stopped.last_appended_line, stopped.next_line - 1) << stopped.err;

  std::vector<std::string> rest_args = kafka_args;
  for (const std::string& arg : {std::string("publish"), file.string(), std::string("--from-line"),
                                 std::to_string(stopped.next_line)}) {
    rest_args.push_back(arg);
  }
  const CliRun rest = run_homeward(rest_args);
  ASSERT_EQ(rest.code, 0) << rest.err;
  EXPECT_EQ(rest.out, fmt::format("appended {}, refused 0\n", kEvents - stopped.appended));

  // The clean publish, into the embedded log: Kafka's partitions order the
  // records differently, so the export is compared as a set of lines, and
  // the figures (which do not depend on that order, SPEC 1.2) as documents.
  const std::string clean = (work.path() / "clean").string();
  ASSERT_EQ(run_homeward({"--data", clean, "publish", file.string()}).code, 0);
  std::vector<std::string> export_args = kafka_args;
  export_args.push_back("export");
  const CliRun exported = run_homeward(export_args);
  ASSERT_EQ(exported.code, 0) << exported.err;
  const std::vector<std::string> topic_lines = sorted_lines(exported.out);
  const std::vector<std::string> clean_lines =
      sorted_lines(run_homeward({"--data", clean, "export"}).out);
  EXPECT_EQ(topic_lines.size(), static_cast<size_t>(kEvents));
  EXPECT_TRUE(topic_lines == clean_lines) << "the topic does not hold each line exactly once";
  for (const char* query : {"stats", "cases"}) {
    SCOPED_TRACE(query);
    std::vector<std::string> args = kafka_args;
    args.push_back(query);
    args.push_back("--json");
    const CliRun figures = run_homeward(args);
    ASSERT_EQ(figures.code, 0) << figures.err;
    EXPECT_TRUE(figures.out == run_homeward({"--data", clean, query, "--json"}).out);
  }
}

}  // namespace
}  // namespace homeward::testing
