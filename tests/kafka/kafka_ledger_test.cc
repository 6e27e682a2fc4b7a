// Kafka mode end to end, against librdkafka's mock cluster over TCP: the same
// stream gives the same ledger as the embedded log; faults injected while
// publishing and projecting lose nothing acknowledged and count nothing
// twice; two projectors agree; records written by another client (kcat) are
// projected like Homeward's own, and garbage is rejected `malformed`.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include <map>

#include <nlohmann/json.hpp>

#include "connectors/kafka/kafka_log.h"
#include "events/codec.h"
#include "tests/kafka/support/kafka_clients.h"
#include "tests/kafka/support/ledger_runs.h"
#include "tests/kafka/support/mock_kafka_cluster.h"
#include "tests/support/temp_dir.h"

namespace homeward::connectors {
namespace {

using std::chrono::milliseconds;
using testing::Documents;
using testing::MockKafkaCluster;
using testing::TempDir;

constexpr int64_t kStreamEvents = 2000;

using testing::open_appender;
using testing::open_reader;

// Small fetches and a small prefetch queue, so that a fault injected while
// projecting meets a reader that still has fetching to do.
KafkaOptions slow_reader_options(const MockKafkaCluster& kafka) {
  KafkaOptions options = kafka.options();
  options.properties.emplace_back("message.max.bytes", "32768");
  options.properties.emplace_back("fetch.max.bytes", "32768");
  options.properties.emplace_back("max.partition.fetch.bytes", "16384");
  options.properties.emplace_back("queued.max.messages.kbytes", "32");
  return options;
}

// Projects the whole topic into a fresh store in `dir`; the documents.
Documents kafka_projection(const KafkaOptions& options, const std::filesystem::path& dir,
                           const engine::ProgressCallback& progress = {},
                           size_t batch_events_max = 100) {
  auto reader = open_reader(options);
  auto store = testing::open_store(dir);
  if (reader == nullptr || store == nullptr) return {};
  engine::ProjectorOptions projector_options;
  projector_options.batch_events_max = batch_events_max;
  EXPECT_GT(testing::project(*reader, *store, projector_options, progress), 0);
  return testing::documents_of(*store);
}

int64_t records_in_topic(const KafkaOptions& options) {
  auto reader = open_reader(options);
  if (reader == nullptr) return -1;
  auto ends = reader->end_offsets();
  if (!ends) {
    ADD_FAILURE() << ends.error().message;
    return -1;
  }
  int64_t total = 0;
  for (const auto& [partition, end] : *ends) total += end.value();
  return total;
}

std::set<int64_t> failed_lines(const engine::PublishReport& report) {
  std::set<int64_t> lines;
  for (const auto& failure : report.failed) lines.insert(failure.line);
  return lines;
}

// The lines of `ndjson` whose numbers are in `keep`.
std::string only_lines(const std::string& ndjson, const std::set<int64_t>& keep) {
  std::istringstream in(ndjson);
  std::string line;
  std::string kept;
  int64_t number = 0;
  while (std::getline(in, line)) {
    if (keep.contains(++number)) kept += line + "\n";
  }
  return kept;
}

// event_id of each line, by line number.
std::map<int64_t, std::string> event_ids_of_lines(const std::string& ndjson) {
  std::istringstream in(ndjson);
  std::string line;
  std::map<int64_t, std::string> ids;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ids[++number] = nlohmann::json::parse(line)["event_id"].get<std::string>();
  }
  return ids;
}

// How many records of the whole topic carry each event_id.
std::map<std::string, int64_t> event_ids_in_topic(const KafkaOptions& options) {
  std::map<std::string, int64_t> counts;
  const int64_t total = records_in_topic(options);
  auto reader = open_reader(options);
  if (reader == nullptr) return counts;
  for (const engine::LogRecord& record :
       testing::read_records(*reader, static_cast<size_t>(total), milliseconds(60'000))) {
    auto event = events::decode_record(record.key, record.value);
    if (!event) {
      ADD_FAILURE() << event.error().message;
      continue;
    }
    ++counts[event->event_id];
  }
  return counts;
}

// ------------------------------------------------- embedded log vs Kafka

class KafkaLedgerPartitions : public ::testing::TestWithParam<int> {};

TEST_P(KafkaLedgerPartitions, SameStreamGivesTheSameLedgerAsTheEmbeddedLog) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 11);
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());
  ASSERT_FALSE(reference.cases.empty());

  MockKafkaCluster kafka(3, GetParam());
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  const engine::PublishReport report = testing::publish(*appender, ndjson, 500);
  EXPECT_EQ(report.appended, kStreamEvents);
  EXPECT_TRUE(report.failed.empty());

  TempDir dir;
  const Documents kafka_documents = kafka_projection(kafka.options(), dir.path());
  testing::expect_same_ledger(kafka_documents, reference);
  // The comparison is not vacuous: the stream has duplicates and rejections.
  EXPECT_GT(reference.stats["events"]["duplicates"].get<int64_t>(), 0);
  EXPECT_GT(reference.rejections.size(), 0U);
  EXPECT_EQ(reference.stats["events"]["applied"].get<int64_t>() +
                reference.stats["events"]["duplicates"].get<int64_t>() +
                reference.stats["events"]["rejected"].get<int64_t>(),
            kStreamEvents);
}

INSTANTIATE_TEST_SUITE_P(Partitions, KafkaLedgerPartitions, ::testing::Values(1, 3, 8));

// --------------------------------------------------- unknown outcomes

// Jepsen's lesson: a timeout is indeterminate. The broker takes the records
// but its answers come after message.timeout.ms (a paused broker); every
// such record is reported unknown, never failed, and sending the unknown and
// failed lines again with the same event_id counts each event once.
TEST(KafkaOutcomes, UnansweredRecordsAreUnknownNeverFailedAndResendingCountsThemOnce) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 53);
  std::set<int64_t> first_lines;
  std::set<int64_t> middle_lines;
  std::set<int64_t> last_lines;
  for (int64_t line = 1; line <= kStreamEvents; ++line) {
    (line <= 600 ? first_lines : line <= 1200 ? middle_lines : last_lines).insert(line);
  }
  const std::string middle = only_lines(ndjson, middle_lines);
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());

  MockKafkaCluster kafka(1, 3);
  KafkaOptions options = kafka.options();
  options.properties.emplace_back("message.timeout.ms", "2000");
  engine::PublishReport paused;
  {
    // The portal's producer, running when the broker pauses.
    auto appender = open_appender(options);
    ASSERT_NE(appender, nullptr);
    ASSERT_EQ(testing::publish(*appender, only_lines(ndjson, first_lines), 100).appended, 600);
    // Paused: every answer comes 5 s late, after the message timeout.
    ASSERT_TRUE(kafka.cluster().set_broker_rtt(1, 5000).has_value());
    const auto started = std::chrono::steady_clock::now();
    paused = testing::publish(*appender, middle, 25);
    const auto took = std::chrono::steady_clock::now() - started;
    std::cerr << "paused broker: " << paused.appended << " appended, " << paused.failed.size()
              << " failed, " << paused.unknown.size() << " unknown, in "
              << std::chrono::duration_cast<milliseconds>(took).count() << " ms (24 batches)\n";
    // Within message.timeout.ms plus a margin in total, not per batch (the
    // bound is generous for a loaded machine).
    EXPECT_LT(took, std::chrono::seconds(40));
  }
  ASSERT_TRUE(kafka.cluster().set_broker_rtt(1, 0).has_value());
  EXPECT_EQ(paused.appended + static_cast<int64_t>(paused.failed.size() + paused.unknown.size()),
            600);
  ASSERT_FALSE(paused.unknown.empty());
  for (const auto& unknown : paused.unknown) {
    EXPECT_NE(unknown.reason.find("may be in topic"), std::string::npos) << unknown.reason;
  }

  // The portal sends again exactly the lines without a position, with
  // their event_ids, then the rest of the stream.
  std::set<int64_t> resend;
  const std::map<int64_t, std::string> middle_ids = event_ids_of_lines(middle);
  std::map<std::string, int64_t> unknown_per_id;
  for (const auto& failure : paused.failed) resend.insert(failure.line);
  for (const auto& unknown : paused.unknown) {
    resend.insert(unknown.line);
    ++unknown_per_id[middle_ids.at(unknown.line)];
  }
  {
    auto appender = open_appender(options);
    ASSERT_NE(appender, nullptr);
    const engine::PublishReport again =
        testing::publish(*appender, only_lines(middle, resend), 100);
    EXPECT_EQ(again.appended, static_cast<int64_t>(resend.size()));
    EXPECT_EQ(testing::publish(*appender, only_lines(ndjson, last_lines), 100).appended, 800);
  }

  // A line reported failed never reached the topic; a line reported unknown
  // may have: then the topic holds its event twice.
  std::map<std::string, int64_t> in_stream;
  for (const auto& [line, id] : event_ids_of_lines(ndjson)) ++in_stream[id];
  int64_t arrived_unknown = 0;
  for (const auto& [id, count] : event_ids_in_topic(kafka.options())) {
    const int64_t extra = count - in_stream[id];
    EXPECT_GE(extra, 0) << id;
    EXPECT_LE(extra, unknown_per_id[id]) << id << " is in the topic more often than it was "
                                         << "reported unknown: a failed line had arrived";
    arrived_unknown += extra;
  }
  std::cerr << arrived_unknown << " of " << paused.unknown.size()
            << " records reported unknown had arrived\n";
  EXPECT_GT(arrived_unknown, 0) << "no unknown record had arrived: nothing was tested";

  // Counted once: the second copies are duplicates, the figures are the
  // stream's.
  TempDir dir;
  const Documents documents = kafka_projection(kafka.options(), dir.path());
  testing::expect_same_ledger(testing::without_duplicate_counts(documents),
                              testing::without_duplicate_counts(reference));
  EXPECT_EQ(documents.stats["events"]["duplicates"].get<int64_t>(),
            reference.stats["events"]["duplicates"].get<int64_t>() + arrived_unknown);
}

TEST(KafkaOutcomes, PublishAgainstBrokersThatAreGoneEndsWithinTheMessageTimeoutInTotal) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 59);
  MockKafkaCluster kafka(1, 3);
  KafkaOptions options = kafka.options();
  options.properties.emplace_back("message.timeout.ms", "3000");
  auto appender = open_appender(options);
  ASSERT_NE(appender, nullptr);
  std::set<int64_t> first_lines;
  std::set<int64_t> rest_lines;
  for (int64_t line = 1; line <= kStreamEvents; ++line) {
    (line <= 200 ? first_lines : rest_lines).insert(line);
  }
  ASSERT_EQ(testing::publish(*appender, only_lines(ndjson, first_lines), 100).appended, 200);
  ASSERT_TRUE(kafka.cluster().set_broker_down(1).has_value());
  const auto started = std::chrono::steady_clock::now();
  const engine::PublishReport gone =
      testing::publish(*appender, only_lines(ndjson, rest_lines), 50);
  const auto took = std::chrono::steady_clock::now() - started;
  std::cerr << "brokers gone: " << gone.failed.size() << " failed, " << gone.unknown.size()
            << " unknown, in " << std::chrono::duration_cast<milliseconds>(took).count()
            << " ms (36 batches)\n";
  EXPECT_EQ(gone.appended, 0);
  EXPECT_EQ(static_cast<int64_t>(gone.failed.size() + gone.unknown.size()), kStreamEvents - 200);
  // message.timeout.ms (3 s) plus a margin, not 3 s per batch; generous.
  EXPECT_LT(took, std::chrono::seconds(40));
  ASSERT_TRUE(kafka.cluster().set_broker_up(1).has_value());
}

// ----------------------------------------------------------------- faults

TEST(KafkaFaults, ProduceErrorsAreRetriedAndEveryAcknowledgedEventIsProjectedOnce) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 21);
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());

  MockKafkaCluster kafka(3, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  int batches = 0;
  const engine::PublishReport report =
      testing::publish(*appender, ndjson, 200, [&](const engine::PublishProgress&) {
        if (++batches != 2) return;
        // Mid-stream: the next produce requests fail with retriable errors.
        kafka.cluster().push_request_errors(
            kApiProduce,
            {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
             RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
             RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
             RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
      });
  EXPECT_EQ(report.appended, kStreamEvents);
  ASSERT_TRUE(report.failed.empty()) << report.failed.front().reason;

  // And while projecting: fetch errors.
  TempDir dir;
  bool injected = false;
  const Documents documents = kafka_projection(
      slow_reader_options(kafka), dir.path(), [&](const engine::ProjectionProgress&) {
        if (injected) return;
        injected = true;
        kafka.cluster().push_request_errors(
            kApiFetch,
            {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
             RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION});
      });
  EXPECT_TRUE(injected);
  // Retries may have written a record twice; each extra record must show up
  // as one more duplicate and change nothing else.
  const int64_t extra = records_in_topic(kafka.options()) - kStreamEvents;
  ASSERT_GE(extra, 0);
  testing::expect_same_ledger(testing::without_duplicate_counts(documents),
                              testing::without_duplicate_counts(reference));
  EXPECT_EQ(documents.stats["events"]["duplicates"].get<int64_t>(),
            reference.stats["events"]["duplicates"].get<int64_t>() + extra);
}

TEST(KafkaFaults, BrokerDownForSecondsWhilePublishingAndProjectingLosesNothing) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 31);
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());

  MockKafkaCluster kafka(3, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  // The outage lasts a fixed time: this is the fault itself, not a wait for
  // a condition.
  auto outage = [&kafka](int32_t broker) {
    return std::thread([&kafka, broker] {
      EXPECT_TRUE(kafka.cluster().set_broker_down(broker).has_value());
      std::this_thread::sleep_for(std::chrono::seconds(3));
      EXPECT_TRUE(kafka.cluster().set_broker_up(broker).has_value());
    });
  };
  std::thread publish_outage;
  int batches = 0;
  const engine::PublishReport report =
      testing::publish(*appender, ndjson, 200, [&](const engine::PublishProgress&) {
        if (++batches == 2) publish_outage = outage(1);
      });
  publish_outage.join();
  EXPECT_EQ(report.appended + static_cast<int64_t>(report.failed.size()), kStreamEvents);
  ASSERT_TRUE(report.failed.empty()) << report.failed.front().reason;

  TempDir dir;
  std::thread project_outage;
  const Documents documents = kafka_projection(slow_reader_options(kafka), dir.path(),
                                               [&](const engine::ProjectionProgress&) {
                                                 if (!project_outage.joinable())
                                                   project_outage = outage(2);
                                               });
  ASSERT_TRUE(project_outage.joinable());
  project_outage.join();
  const int64_t extra = records_in_topic(kafka.options()) - kStreamEvents;
  ASSERT_GE(extra, 0);
  testing::expect_same_ledger(testing::without_duplicate_counts(documents),
                              testing::without_duplicate_counts(reference));
  EXPECT_EQ(documents.stats["events"]["duplicates"].get<int64_t>(),
            reference.stats["events"]["duplicates"].get<int64_t>() + extra);
}

TEST(KafkaFaults, DelayedAckMakesTheProducerResendAndTheResendIsCountedAsDuplicate) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 41);
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());

  MockKafkaCluster kafka(1, 1);
  KafkaOptions options = kafka.options();
  // The producer gives up on a request after 1 s and sends it again.
  options.properties.emplace_back("request.timeout.ms", "1000");
  options.properties.emplace_back("socket.timeout.ms", "1000");
  auto appender = open_appender(options);
  ASSERT_NE(appender, nullptr);
  int batches = 0;
  const engine::PublishReport report =
      testing::publish(*appender, ndjson, 200, [&](const engine::PublishProgress&) {
        if (++batches != 3) return;
        // The broker writes the next produce request but answers after 2.5 s.
        EXPECT_TRUE(kafka.cluster()
                        .push_broker_errors(1, kApiProduce, {{RD_KAFKA_RESP_ERR_NO_ERROR, 2500}})
                        .has_value());
      });
  ASSERT_TRUE(report.failed.empty()) << report.failed.front().reason;
  EXPECT_EQ(report.appended, kStreamEvents);

  TempDir dir;
  const Documents documents = kafka_projection(kafka.options(), dir.path());
  const int64_t extra = records_in_topic(kafka.options()) - kStreamEvents;
  // The mock does not deduplicate an idempotent producer without a
  // transactional.id: the resend is in the topic twice.
  EXPECT_GT(extra, 0) << "the delayed ack did not cause a resend";
  testing::expect_same_ledger(testing::without_duplicate_counts(documents),
                              testing::without_duplicate_counts(reference));
  EXPECT_EQ(documents.stats["events"]["duplicates"].get<int64_t>(),
            reference.stats["events"]["duplicates"].get<int64_t>() + extra);
}

TEST(KafkaFaults, LeaderMovedMidStreamLosesNothing) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 51);
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());

  MockKafkaCluster kafka(3, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  auto move_leaders = [&kafka](int32_t shift) {
    for (int32_t partition = 0; partition < 3; ++partition) {
      EXPECT_TRUE(kafka.cluster()
                      .set_partition_leader(kafka.topic(), partition, 1 + (partition + shift) % 3)
                      .has_value());
    }
  };
  int batches = 0;
  const engine::PublishReport report =
      testing::publish(*appender, ndjson, 200, [&](const engine::PublishProgress&) {
        if (++batches == 3) move_leaders(1);
      });
  ASSERT_TRUE(report.failed.empty()) << report.failed.front().reason;
  EXPECT_EQ(report.appended, kStreamEvents);

  TempDir dir;
  bool moved = false;
  const Documents documents = kafka_projection(slow_reader_options(kafka), dir.path(),
                                               [&](const engine::ProjectionProgress&) {
                                                 if (moved) return;
                                                 moved = true;
                                                 move_leaders(2);
                                               });
  EXPECT_TRUE(moved);
  const int64_t extra = records_in_topic(kafka.options()) - kStreamEvents;
  ASSERT_GE(extra, 0);
  testing::expect_same_ledger(testing::without_duplicate_counts(documents),
                              testing::without_duplicate_counts(reference));
  EXPECT_EQ(documents.stats["events"]["duplicates"].get<int64_t>(),
            reference.stats["events"]["duplicates"].get<int64_t>() + extra);
}

TEST(KafkaFaults, PermanentProduceErrorFailsOnlyThoseLinesAndTheRestIsProjected) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 61);
  MockKafkaCluster kafka(1, 1);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  int batches = 0;
  const engine::PublishReport report =
      testing::publish(*appender, ndjson, 200, [&](const engine::PublishProgress&) {
        if (++batches != 4) return;
        kafka.cluster().push_request_errors(kApiProduce,
                                            {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
      });
  ASSERT_FALSE(report.failed.empty()) << "the refused produce request must fail its lines";
  EXPECT_EQ(report.appended + static_cast<int64_t>(report.failed.size()), kStreamEvents);
  for (const auto& failure : report.failed) {
    EXPECT_NE(failure.reason.find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos)
        << failure.reason;
  }
  // Exactly the acknowledged lines are in the ledger: the reference is the
  // stream without the failed lines.
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(
      testing::without_lines(ndjson, failed_lines(report)), reference_dir.path());
  TempDir dir;
  const Documents documents = kafka_projection(kafka.options(), dir.path());
  EXPECT_EQ(records_in_topic(kafka.options()), report.appended);
  testing::expect_same_ledger(documents, reference);
}

// ------------------------------------------------- projectors and stores

TEST(KafkaProjectors, TwoProjectorsWithSeparateStoresReachIdenticalState) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 71);
  MockKafkaCluster kafka(3, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  ASSERT_EQ(testing::publish(*appender, ndjson, 500).appended, kStreamEvents);

  TempDir first_dir;
  TempDir second_dir;
  Documents first;
  Documents second;
  // At the same time, each with its own reader and store.
  std::thread first_projector(
      [&] { first = kafka_projection(kafka.options(), first_dir.path(), {}, 300); });
  std::thread second_projector(
      [&] { second = kafka_projection(slow_reader_options(kafka), second_dir.path(), {}, 70); });
  first_projector.join();
  second_projector.join();
  ASSERT_FALSE(first.cases.empty());
  EXPECT_EQ(first.cases.dump(), second.cases.dump());
  EXPECT_EQ(first.stats.dump(), second.stats.dump());
  // Same topic: even the positions agree.
  EXPECT_EQ(first.rejections.dump(), second.rejections.dump());

  // And every store record, chain heads and positions included, is the same.
  auto first_store = testing::open_store(first_dir.path());
  auto second_store = testing::open_store(second_dir.path());
  ASSERT_NE(first_store, nullptr);
  ASSERT_NE(second_store, nullptr);
  std::vector<std::pair<std::string, std::string>> first_records;
  std::vector<std::pair<std::string, std::string>> second_records;
  ASSERT_TRUE(first_store
                  ->for_each_record([&](std::string_view key, std::string_view value) {
                    first_records.emplace_back(key, value);
                  })
                  .has_value());
  ASSERT_TRUE(second_store
                  ->for_each_record([&](std::string_view key, std::string_view value) {
                    second_records.emplace_back(key, value);
                  })
                  .has_value());
  EXPECT_GT(first_records.size(), 0U);
  EXPECT_TRUE(first_records == second_records);
}

TEST(KafkaProjectors, ResumingFromTheStoreAfterMorePublishingMatchesOneRun) {
  const std::string ndjson = testing::generated_stream(kStreamEvents, 81);
  const size_t half = ndjson.find('\n', ndjson.size() / 2) + 1;
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(ndjson, reference_dir.path());

  MockKafkaCluster kafka(1, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  TempDir dir;
  const engine::PublishReport first = testing::publish(*appender, ndjson.substr(0, half), 500);
  ASSERT_TRUE(first.failed.empty());
  {
    auto reader = open_reader(kafka.options());
    auto store = testing::open_store(dir.path());
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(testing::project(*reader, *store), first.appended);
  }
  const engine::PublishReport second = testing::publish(*appender, ndjson.substr(half), 500);
  ASSERT_TRUE(second.failed.empty());
  auto reader = open_reader(kafka.options());
  auto store = testing::open_store(dir.path());
  ASSERT_NE(store, nullptr);
  // Only the new records are read: the positions come from the store.
  EXPECT_EQ(testing::project(*reader, *store), second.appended);
  testing::expect_same_ledger(testing::documents_of(*store), reference);
}

// ------------------------------------------------------- other producers

// Runs a command line; its exit status.
int run_command(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(KafkaOtherProducers, KcatEventFromFlatcIsProjectedAndGarbageIsRejectedMalformed) {
  MockKafkaCluster kafka(1, 1);
  TempDir work;
  // An event as another service would write it: FlatBuffers JSON through
  // flatc with the project's schema, produced by kcat with the case as key.
  const auto json_file = work.path() / "opened.json";
  std::ofstream(json_file)
      << R"({"schema_version": 1, "event_id": "kcat-open", "occurred_at_us": 1433145600000000,)"
      << R"( "case_id": "case-kcat", "source": "kcat-test", "body_type": "CaseOpened",)"
      << R"( "body": {"currency": "USD", "goal": 150000}})";
  const auto bin_dir = work.path() / "bin";
  ASSERT_EQ(run_command(fmt::format("'{}' -b -o '{}' '{}' '{}'", HOMEWARD_FLATC, bin_dir.string(),
                                    HOMEWARD_SCHEMA, json_file.string())),
            0);
  const auto event_file = bin_dir / "opened.hwev";
  ASSERT_TRUE(std::filesystem::exists(event_file));
  ASSERT_EQ(run_command(fmt::format("'{}' -P -b {} -t {} -k case-kcat '{}'", HOMEWARD_KCAT,
                                    kafka.bootstrap_servers(), kafka.topic(), event_file.string())),
            0);
  // Then garbage, one record per line.
  ASSERT_EQ(
      run_command(fmt::format("printf 'not flatbuffers\\n' | '{}' -P -b {} -t {} -k case-kcat",
                              HOMEWARD_KCAT, kafka.bootstrap_servers(), kafka.topic())),
      0);

  // The same event through Homeward's own publisher, for comparison.
  const std::string same_event_ndjson =
      R"({"type":"CaseOpened","event_id":"kcat-open","occurred_at":"2015-06-01T08:00:00Z",)"
      R"("case_id":"case-kcat","source":"kcat-test","currency":"USD","goal":"1500.00"})"
      "\n";
  TempDir reference_dir;
  const Documents reference = testing::embedded_run(same_event_ndjson, reference_dir.path());

  TempDir dir;
  const Documents documents = kafka_projection(kafka.options(), dir.path());
  EXPECT_EQ(documents.cases.dump(), reference.cases.dump());
  ASSERT_EQ(documents.cases.size(), 1U);
  EXPECT_EQ(documents.cases[0]["case_id"], "case-kcat");
  EXPECT_EQ(documents.cases[0]["goal"], "1500.00");
  ASSERT_EQ(documents.rejections.size(), 1U) << documents.rejections.dump();
  EXPECT_EQ(documents.rejections[0]["reason"], "malformed");
  EXPECT_EQ(documents.rejections[0]["partition"], 0);
  EXPECT_EQ(documents.rejections[0]["offset"], 1);
  EXPECT_EQ(documents.stats["events"]["applied"], 1);
  EXPECT_EQ(documents.stats["events"]["rejected"], 1);
}

// SPEC principle 2 relies on every record of a case sharing a partition,
// which Kafka gives only when the key is the case_id: a record produced with
// another key, or with none (kcat without -k: a null key), is malformed.
TEST(KafkaOtherProducers, ARecordWhoseKeyIsNotItsCaseIdIsRejectedMalformed) {
  MockKafkaCluster kafka(1, 1);
  TempDir work;
  const auto json_file = work.path() / "opened.json";
  std::ofstream(json_file) << R"({"event_id": "kcat-open", "occurred_at_us": 1433145600000000,)"
                           << R"( "case_id": "case-kcat", "body_type": "CaseOpened",)"
                           << R"( "body": {"currency": "USD", "goal": 150000}})";
  const auto bin_dir = work.path() / "bin";
  ASSERT_EQ(run_command(fmt::format("'{}' -b -o '{}' '{}' '{}'", HOMEWARD_FLATC, bin_dir.string(),
                                    HOMEWARD_SCHEMA, json_file.string())),
            0);
  const auto event_file = bin_dir / "opened.hwev";
  for (const std::string key_option : {"-k case-other", "", "-k case-kcat"}) {
    ASSERT_EQ(run_command(fmt::format("'{}' -P -b {} -t {} {} '{}'", HOMEWARD_KCAT,
                                      kafka.bootstrap_servers(), kafka.topic(), key_option,
                                      event_file.string())),
              0);
  }
  TempDir dir;
  const Documents documents = kafka_projection(kafka.options(), dir.path());
  ASSERT_EQ(documents.cases.size(), 1U);
  EXPECT_EQ(documents.cases[0]["events_applied"], 1);
  EXPECT_EQ(documents.stats["events"]["applied"], 1);
  EXPECT_EQ(documents.stats["events"]["rejected"], 2);
  ASSERT_EQ(documents.rejections.size(), 2U) << documents.rejections.dump();
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(documents.rejections[i]["reason"], "malformed");
    EXPECT_EQ(documents.rejections[i]["case_id"], "case-kcat");
    EXPECT_EQ(documents.rejections[i]["offset"], static_cast<int>(i));
  }
}

}  // namespace
}  // namespace homeward::connectors
