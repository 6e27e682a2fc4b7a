// Kafka mode through the `homeward` command line: the dev broker in its own
// process driven by the three commands of docs/kafka.md, and a
// `project --kafka --follow` process killed with SIGKILL and restarted.
// Child processes are the real binary (fork + exec); every wait is a poll
// with a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "connectors/cli/cli.h"
#include "projections/record_codec.h"
#include "tests/kafka/support/ledger_runs.h"
#include "tests/kafka/support/mock_kafka_cluster.h"
#include "tests/support/child_process.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward::connectors {
namespace {

using Clock = std::chrono::steady_clock;
using testing::Documents;
using testing::MockKafkaCluster;
using testing::TempDir;

using testing::CliRun;
using testing::run_homeward;

// The homeward binary in a child process (tests/support/child_process.h).
class Child : public testing::ChildProcess {
 public:
  Child(const std::vector<std::string>& args, const std::filesystem::path& stderr_file)
      : ChildProcess(HOMEWARD_BINARY, args, stderr_file) {}
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

TEST(KafkaCli, DevBrokerServesTheThreeCommandsOfTheDocs) {
  TempDir work;
  const std::string ndjson = testing::generated_stream(500, 5);
  const auto events_file = work.path() / "events.ndjson";
  std::ofstream(events_file) << ndjson;

  Child broker({"dev-broker", "--partitions", "3", "--brokers", "2"}, work.path() / "broker.err");
  ASSERT_TRUE(broker.started());
  const std::string address = broker.read_line(std::chrono::seconds(20));
  ASSERT_TRUE(address.starts_with("127.0.0.1:"))
      << address << read_file(work.path() / "broker.err");

  const std::string data = (work.path() / "kafka-data").string();
  const CliRun published =
      run_homeward({"--kafka", address, "--data", data, "publish", events_file.string()});
  ASSERT_EQ(published.code, 0) << published.err;
  EXPECT_EQ(published.out, "appended 500, refused 0\n");
  const CliRun projected = run_homeward({"--kafka", address, "--data", data, "project"});
  ASSERT_EQ(projected.code, 0) << projected.err;
  EXPECT_EQ(projected.out, "read 500 events; the projections are up to date\n");
  const CliRun stats = run_homeward({"--kafka", address, "--data", data, "stats", "--json"});
  ASSERT_EQ(stats.code, 0) << stats.err;
  const CliRun cases = run_homeward({"--kafka", address, "--data", data, "cases", "--json"});
  const CliRun rejections =
      run_homeward({"--kafka", address, "--data", data, "rejections", "--json"});

  // The same file through the embedded log.
  const std::string embedded = (work.path() / "embedded-data").string();
  ASSERT_EQ(run_homeward({"--data", embedded, "publish", events_file.string()}).code, 0);
  EXPECT_EQ(stats.out, run_homeward({"--data", embedded, "stats", "--json"}).out);
  EXPECT_EQ(cases.out, run_homeward({"--data", embedded, "cases", "--json"}).out);
  EXPECT_EQ(testing::without_positions(nlohmann::ordered_json::parse(rejections.out)).dump(),
            testing::without_positions(
                nlohmann::ordered_json::parse(
                    run_homeward({"--data", embedded, "rejections", "--json"}).out))
                .dump());

  EXPECT_EQ(broker.stop(SIGTERM, std::chrono::seconds(20)), 0)
      << read_file(work.path() / "broker.err");
  EXPECT_NE(read_file(work.path() / "broker.err").find("dev broker stopped"), std::string::npos);
}

// A port of 127.0.0.1 from the ephemeral range that is free now (bound to
// 0, read, closed); -1 when that fails.
int free_loopback_port() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  if (probe < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  int port = -1;
  if (::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(probe);
  return port;
}

TEST(KafkaCli, DevBrokerFixedPortForwardsToTheMockBroker) {
  TempDir work;
  const int port = free_loopback_port();
  ASSERT_GT(port, 0);

  Child broker({"dev-broker", "--port", std::to_string(port)}, work.path() / "broker.err");
  ASSERT_TRUE(broker.started());
  const std::string printed = broker.read_line(std::chrono::seconds(20));
  ASSERT_EQ(printed, fmt::format("127.0.0.1:{}", port)) << read_file(work.path() / "broker.err");
  const std::string data = (work.path() / "data").string();
  const CliRun published = run_homeward({"--kafka", printed, "--data", data, "publish", "-"},
                                        testing::generated_stream(50, 3));
  ASSERT_EQ(published.code, 0) << published.err;
  EXPECT_EQ(published.out, "appended 50, refused 0\n");
  const CliRun projected = run_homeward({"--kafka", printed, "--data", data, "project"});
  EXPECT_EQ(projected.out, "read 50 events; the projections are up to date\n") << projected.err;
  EXPECT_EQ(broker.stop(SIGINT, std::chrono::seconds(20)), 0);
}

// The offsets the default group committed (information only), summed.
int64_t committed_sum(const MockKafkaCluster& kafka, int partitions) {
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", kafka.bootstrap_servers().c_str(), errstr.data(),
                    errstr.size());
  rd_kafka_conf_set(conf, "group.id", "homeward-projector", errstr.data(), errstr.size());
  rd_kafka_conf_set(conf, "log_level", "3", errstr.data(), errstr.size());
  rd_kafka_t* monitor = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.data(), errstr.size());
  if (monitor == nullptr) return -1;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, kafka.topic().c_str(), p);
  }
  int64_t sum = 0;
  if (rd_kafka_committed(monitor, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) sum += std::max<int64_t>(0, list->elems[i].offset);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(monitor);
  return sum;
}

TEST(KafkaCli, ProjectorKilledWithSigkillAndRestartedReachesTheSameStateAsOneRun) {
  constexpr int kPartitions = 3;
  constexpr int64_t kEvents = 3000;
  MockKafkaCluster kafka(1, kPartitions);
  TempDir work;
  const std::string ndjson = testing::generated_stream(kEvents, 91);
  {
    auto appender = KafkaAppender::open(kafka.options());
    ASSERT_TRUE(appender.has_value()) << appender.error().message;
    ASSERT_EQ(testing::publish(**appender, ndjson, 1000).appended, kEvents);
  }
  // The uninterrupted run.
  Documents reference;
  std::vector<std::pair<std::string, std::string>> reference_records;
  {
    auto reader = KafkaReader::open(kafka.options());
    ASSERT_TRUE(reader.has_value());
    auto store = testing::open_store(work.path() / "reference");
    ASSERT_NE(store, nullptr);
    ASSERT_EQ(testing::project(**reader, *store), kEvents);
    reference = testing::documents_of(*store);
    ASSERT_TRUE(store
                    ->for_each_record([&](std::string_view key, std::string_view value) {
                      reference_records.emplace_back(key, value);
                    })
                    .has_value());
  }

  // The child reads in small fetches from a slow broker, so that it is
  // killed in the middle of the stream.
  const auto config = work.path() / "client.properties";
  std::ofstream(config) << "# small fetches for the test\n"
                        << "message.max.bytes=8192\nfetch.max.bytes=8192\n"
                        << "max.partition.fetch.bytes=2048\nqueued.max.messages.kbytes=8\n";
  ASSERT_TRUE(kafka.cluster().set_broker_rtt(1, 30).has_value());
  const std::string data = (work.path() / "data").string();
  Child projector({"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(), "--data", data,
                   "--kafka-config", config.string(), "--quiet", "project", "--follow"},
                  work.path() / "projector.err");
  ASSERT_TRUE(projector.started());
  int64_t committed = 0;
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(60);
  while (committed == 0 && Clock::now() < give_up) committed = committed_sum(kafka, kPartitions);
  ASSERT_GT(committed, 0) << "the projector made no progress: "
                          << read_file(work.path() / "projector.err");

  // While it runs, a second projector into the same store is refused.
  const CliRun second = run_homeward(
      {"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(), "--data", data, "project"});
  EXPECT_EQ(second.code, 5);
  EXPECT_NE(second.err.find("is being written by another homeward process (pid "),
            std::string::npos)
      << second.err;

  EXPECT_EQ(projector.stop(SIGKILL, std::chrono::seconds(20)), 128 + SIGKILL);
  EXPECT_LT(committed, kEvents) << "killed after the end of the stream: nothing was tested";
  ASSERT_TRUE(kafka.cluster().set_broker_rtt(1, 0).has_value());

  // Restarted (in this process), it finishes the stream.
  auto reader = KafkaReader::open(kafka.options());
  ASSERT_TRUE(reader.has_value());
  auto store = testing::open_store(data + "/projections");
  ASSERT_NE(store, nullptr);
  const int64_t read_after_restart = testing::project(**reader, *store);
  // The store runs with its WAL off (DESIGN decision 2): a kill may lose the
  // last batches, never split one, so anything from 0 to all is re-read.
  EXPECT_GE(read_after_restart, 0);
  EXPECT_LE(read_after_restart, kEvents);
  testing::expect_same_ledger(testing::documents_of(*store), reference);
  std::vector<std::pair<std::string, std::string>> records;
  ASSERT_TRUE(store
                  ->for_each_record([&](std::string_view key, std::string_view value) {
                    records.emplace_back(key, value);
                  })
                  .has_value());
  // The CLI's store also records the log it was built from.
  const auto source = std::find_if(records.begin(), records.end(), [](const auto& record) {
    return record.first == projections::kSourceKey;
  });
  ASSERT_NE(source, records.end()) << "the store does not name its log";
  EXPECT_NE(source->second.find("topic '" + kafka.topic() + "'"), std::string::npos)
      << source->second;
  records.erase(source);
  EXPECT_TRUE(records == reference_records) << "chain heads, positions or state differ";
}

TEST(KafkaCli, CommandsAgainstBrokersThatCannotBeReachedSaySoAtOnce) {
  TempDir work;
  const int port = free_loopback_port();
  ASSERT_GT(port, 0);
  const std::string nobody = fmt::format("127.0.0.1:{}", port);
  const auto events_file = work.path() / "events.ndjson";
  std::ofstream(events_file) << testing::generated_stream(200, 4);
  const std::string data = (work.path() / "data").string();
  const std::vector<std::vector<std::string>> commands = {
      {"publish", events_file.string()}, {"stats"}, {"project"}};
  for (const auto& command : commands) {
    SCOPED_TRACE(command.front());
    std::vector<std::string> args{"--kafka", nobody, "--data", data};
    args.insert(args.end(), command.begin(), command.end());
    const auto err_file = work.path() / fmt::format("{}.err", command.front());
    const Clock::time_point started = Clock::now();
    Child child(args, err_file);
    ASSERT_TRUE(child.started());
    // It ends by itself: librdkafka's message timeout alone is 60 s, and
    // the bound is generous for a loaded machine.
    EXPECT_EQ(child.stop(0, std::chrono::seconds(30)), 1);
    const std::string out = child.read_output(std::chrono::seconds(5));
    std::cerr
        << command.front() << " ended after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
        << " ms\n";
    EXPECT_EQ(out, "");
    const std::string err = read_file(err_file);
    EXPECT_NE(err.find(fmt::format("error: cannot reach the Kafka brokers at {}: all brokers "
                                   "down (",
                                   nobody)),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("Connection refused"), std::string::npos) << err;
    // One warning and the error, not a line per reconnect attempt.
    EXPECT_LE(std::count(err.begin(), err.end(), '\n'), 3) << err;
    EXPECT_EQ(err.find("librdkafka"), std::string::npos) << err;
  }
}

TEST(KafkaCli, ProjectionsOfTheEmbeddedLogAreRefusedForATopicAndTheOtherWayRound) {
  MockKafkaCluster kafka(1, 3);
  TempDir work;
  const auto events_file = work.path() / "events.ndjson";
  std::ofstream(events_file) << testing::generated_stream(200, 17);
  const std::string embedded = (work.path() / "embedded").string();
  const std::string kafka_data = (work.path() / "kafka").string();
  const std::vector<std::string> kafka_args = {"--kafka", kafka.bootstrap_servers(), "--topic",
                                               kafka.topic()};

  ASSERT_EQ(run_homeward({"--data", embedded, "publish", events_file.string()}).code, 0);
  const CliRun embedded_cases = run_homeward({"--data", embedded, "cases", "--json"});
  ASSERT_EQ(embedded_cases.code, 0) << embedded_cases.err;
  std::vector<std::string> args = kafka_args;
  args.insert(args.end(), {"--data", kafka_data, "publish", events_file.string()});
  ASSERT_EQ(run_homeward(args).code, 0);

  // The topic's events with the embedded log's projections: refused, and
  // the projections are left as they were.
  args = kafka_args;
  args.insert(args.end(), {"--data", embedded, "cases", "--json"});
  const CliRun mixed = run_homeward(args);
  EXPECT_EQ(mixed.code, 1);
  EXPECT_EQ(mixed.out, "");
  EXPECT_NE(mixed.err.find("were built from embedded log "), std::string::npos) << mixed.err;
  EXPECT_NE(mixed.err.find("would mix two ledgers"), std::string::npos) << mixed.err;
  EXPECT_EQ(run_homeward({"--data", embedded, "cases", "--json"}).out, embedded_cases.out);

  // And the other way round: projections of the topic beside an embedded
  // log (one copied in; `publish` itself refuses to start a log beside
  // projections).
  args = kafka_args;
  args.insert(args.end(), {"--data", kafka_data, "cases", "--json"});
  ASSERT_EQ(run_homeward(args).code, 0);
  const CliRun refused_publish =
      run_homeward({"--data", kafka_data, "publish", events_file.string()});
  EXPECT_EQ(refused_publish.code, 1);
  EXPECT_NE(refused_publish.err.find("holds projections but no log"), std::string::npos)
      << refused_publish.err;
  std::filesystem::copy(embedded + "/log", kafka_data + "/log",
                        std::filesystem::copy_options::recursive);
  const CliRun mixed_again = run_homeward({"--data", kafka_data, "stats"});
  EXPECT_EQ(mixed_again.code, 1);
  EXPECT_NE(mixed_again.err.find("were built from Kafka cluster "), std::string::npos)
      << mixed_again.err;
}

TEST(KafkaCli, PublishWithUnansweredRecordsSaysUnknownExitsSixAndResendingCountsOnce) {
  constexpr int kPartitions = 3;
  MockKafkaCluster kafka(1, kPartitions);
  TempDir work;
  const auto events_file = work.path() / "events.ndjson";
  std::ofstream(events_file) << testing::generated_stream(300, 61);
  const auto config = work.path() / "client.properties";
  std::ofstream(config) << "message.timeout.ms=2000\n";
  const std::string data = (work.path() / "data").string();
  const std::vector<std::string> kafka_args = {
      "--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(), "--data", data};
  auto with = [&kafka_args](std::vector<std::string> rest) {
    std::vector<std::string> args = kafka_args;
    args.insert(args.end(), rest.begin(), rest.end());
    return args;
  };

  for (const bool json : {false, true}) {
    SCOPED_TRACE(json ? "--json" : "text");
    // The broker writes the next produce requests (one per partition) but
    // answers after 5 s, past the message timeout: a paused broker.
    ASSERT_TRUE(kafka.cluster()
                    .push_broker_errors(1, kApiProduce,
                                        std::vector<std::pair<rd_kafka_resp_err_t, int>>(
                                            kPartitions, {RD_KAFKA_RESP_ERR_NO_ERROR, 5000}))
                    .has_value());
    std::vector<std::string> publish = {"--kafka-config", config.string(), "publish",
                                        events_file.string()};
    if (json) publish.push_back("--json");
    const auto err_file = work.path() / fmt::format("publish-{}.err", json);
    Child child(with(publish), err_file);
    ASSERT_TRUE(child.started());
    EXPECT_EQ(child.stop(0, std::chrono::seconds(60)), 6) << read_file(err_file);
    const std::string out = child.read_output(std::chrono::seconds(5));
    const std::string err = read_file(err_file);
    if (json) {
      const auto document = nlohmann::json::parse(out);
      ASSERT_FALSE(document["unknown"].empty()) << out;
      EXPECT_NE(document["unknown"][0]["reason"].get<std::string>().find("may be in topic"),
                std::string::npos)
          << out;
    } else {
      EXPECT_NE(out.find(", unknown "), std::string::npos) << out;
      EXPECT_NE(err.find(": unknown: no answer from Kafka"), std::string::npos) << err;
      EXPECT_NE(err.find("with the same event_id"), std::string::npos) << err;
    }
    // Unknown is never called failed, and nothing is an error line.
    EXPECT_EQ(err.find("error"), std::string::npos) << err;
  }

  // The portal does as told: the same file again, unchanged.
  const CliRun again = run_homeward(with({"publish", events_file.string()}));
  ASSERT_EQ(again.code, 0) << again.err;
  const std::string embedded = (work.path() / "embedded").string();
  ASSERT_EQ(run_homeward({"--data", embedded, "publish", events_file.string()}).code, 0);
  Documents via_kafka;
  Documents reference;
  for (auto [documents, args] :
       {std::pair{&via_kafka, kafka_args},
        std::pair{&reference, std::vector<std::string>{"--data", embedded}}}) {
    auto query = [&args](const std::string& command) {
      std::vector<std::string> full = args;
      full.insert(full.end(), {command, "--json"});
      const CliRun run = run_homeward(full);
      EXPECT_EQ(run.code, 0) << run.err;
      return nlohmann::ordered_json::parse(run.out);
    };
    documents->cases = query("cases");
    documents->stats = query("stats");
    documents->rejections = query("rejections");
  }
  // Each event counted once: the copies that had arrived are duplicates.
  testing::expect_same_ledger(testing::without_duplicate_counts(via_kafka),
                              testing::without_duplicate_counts(reference));
  EXPECT_GT(via_kafka.stats["events"]["duplicates"].get<int64_t>(),
            reference.stats["events"]["duplicates"].get<int64_t>())
      << "no record reported unknown had arrived: nothing was tested";
}

TEST(KafkaCli, FollowStopsOnTheFirstSignalWhileTheBrokerIsDown) {
  constexpr int kPartitions = 3;
  constexpr int64_t kEvents = 300;
  TempDir work;
  // Down: the broker refuses connections. Not answering: it keeps them and
  // answers nothing (a paused process, a network that drops packets), which
  // librdkafka cannot tell from a slow broker.
  enum class Outage { kDown, kNotAnswering };
  for (const auto& [signal_number, outage] :
       {std::pair{SIGTERM, Outage::kDown}, std::pair{SIGINT, Outage::kDown},
        std::pair{SIGTERM, Outage::kNotAnswering}}) {
    SCOPED_TRACE(fmt::format("{}, broker {}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
                             outage == Outage::kDown ? "down" : "not answering"));
    MockKafkaCluster kafka(1, kPartitions);
    {
      auto appender = KafkaAppender::open(kafka.options());
      ASSERT_TRUE(appender.has_value()) << appender.error().message;
      ASSERT_EQ(testing::publish(**appender, testing::generated_stream(kEvents, 17), 100).appended,
                kEvents);
    }
    const std::string run_name = fmt::format("{}-{}", signal_number, static_cast<int>(outage));
    const auto err_file = work.path() / fmt::format("follow-{}.err", run_name);
    Child projector({"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(), "--data",
                     (work.path() / fmt::format("data-{}", run_name)).string(), "--quiet",
                     "project", "--follow"},
                    err_file);
    ASSERT_TRUE(projector.started());
    int64_t committed = 0;
    const Clock::time_point give_up = Clock::now() + std::chrono::seconds(60);
    while (committed < kEvents && Clock::now() < give_up) {
      committed = committed_sum(kafka, kPartitions);
    }
    ASSERT_EQ(committed, kEvents) << read_file(err_file);

    // The broker goes away; the projector is then inside its calls to Kafka
    // (metadata, end offsets, fetches), which wait for it.
    if (outage == Outage::kDown) {
      ASSERT_TRUE(kafka.cluster().set_broker_down(1).has_value());
    } else {
      ASSERT_TRUE(kafka.cluster().set_broker_rtt(1, 600'000).has_value());
    }
    ::poll(nullptr, 0, 3000);
    const Clock::time_point signalled = Clock::now();
    // A generous bound: without the fix it never ends on one signal.
    EXPECT_EQ(projector.stop(signal_number, std::chrono::seconds(30)), 0) << read_file(err_file);
    std::cerr
        << "stopped after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled).count()
        << " ms\n";
    EXPECT_NE(projector.read_output(std::chrono::seconds(5)).find("stopped on request"),
              std::string::npos);
    // Retriable conditions are warnings, once per client (the consumer and
    // the producer) and outage, not an error line per reconnect attempt.
    const std::string err = read_file(err_file);
    EXPECT_EQ(err.find("error"), std::string::npos) << err;
    size_t transport_warnings = 0;
    for (size_t at = err.find("(_TRANSPORT)"); at != std::string::npos;
         at = err.find("(_TRANSPORT)", at + 1)) {
      ++transport_warnings;
    }
    EXPECT_LE(transport_warnings, 2U) << err;
  }
}

}  // namespace
}  // namespace homeward::connectors
