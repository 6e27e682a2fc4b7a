// Kafka offsets that hold no record: another service writes events to the
// topic with a transactional producer (librdkafka's, against the mock
// cluster over TCP), committing one transaction and aborting another,
// between Homeward's own records. Each transaction leaves a marker in every
// partition it touched (written as the broker would, see
// support/transaction_markers.h), so the last offsets of a partition are
// not records. The projector must reach the end of such a partition, store
// its position past the markers, resume from there, and give the ledger of
// the same events through the embedded log; `audit` and `export` must reach
// the end too.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "connectors/kafka/kafka_log.h"
#include "engine/publisher.h"
#include "tests/kafka/support/kafka_clients.h"
#include "tests/kafka/support/ledger_runs.h"
#include "tests/kafka/support/mock_kafka_cluster.h"
#include "tests/kafka/support/transaction_markers.h"
#include "tests/support/cli_runner.h"
#include "tests/support/temp_dir.h"

namespace homeward::connectors {
namespace {

using testing::Documents;
using testing::MarkerType;
using testing::MockKafkaCluster;
using testing::TempDir;

// The records Homeward's publisher makes of some NDJSON lines, kept instead
// of appended: what the other service's transactional producer sends.
class CapturingLog final : public engine::EventLogAppender {
 public:
  Result<std::vector<Result<engine::LogPosition>>> append(
      std::span<const engine::AppendRequest> requests) override {
    std::vector<Result<engine::LogPosition>> positions;
    for (const engine::AppendRequest& request : requests) {
      records.push_back(request);
      positions.emplace_back(engine::LogPosition{Partition{0}, Offset{0}});
    }
    return positions;
  }
  std::vector<engine::AppendRequest> records;
};

std::vector<engine::AppendRequest> records_of(const std::string& ndjson) {
  CapturingLog log;
  engine::Publisher publisher(log);
  std::istringstream in(ndjson);
  auto report = publisher.publish_ndjson(in);
  EXPECT_TRUE(report.has_value());
  return log.records;
}

// The lines of `ndjson` numbered [first, last] (1-based).
std::string lines_between(const std::string& ndjson, int64_t first, int64_t last) {
  std::set<int64_t> skip;
  int64_t count = 0;
  for (const char c : ndjson) count += c == '\n' ? 1 : 0;
  for (int64_t line = 1; line <= count; ++line) {
    if (line < first || line > last) skip.insert(line);
  }
  return testing::without_lines(ndjson, skip);
}

// Another service's transactional producer (librdkafka's own API).
class TransactionalProducer {
 public:
  TransactionalProducer(const MockKafkaCluster& kafka, int linger_ms) : topic_(kafka.topic()) {
    std::array<char, 512> errstr{};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"bootstrap.servers", kafka.bootstrap_servers()},
             {"transactional.id", "portal-service-1"},
             // Homeward's partitioner (docs/kafka.md): a case stays in its partition.
             {"partitioner", "murmur2_random"},
             {"linger.ms", std::to_string(linger_ms)},
             {"log_level", "3"}}) {
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr.data(), errstr.size()) !=
          RD_KAFKA_CONF_OK) {
        ADD_FAILURE() << key << ": " << errstr.data();
      }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.data(), errstr.size());
    if (producer_ == nullptr) {
      ADD_FAILURE() << errstr.data();
      return;
    }
    check(rd_kafka_init_transactions(producer_, 20'000), "init_transactions");
  }
  ~TransactionalProducer() {
    if (producer_ != nullptr) rd_kafka_destroy(producer_);
  }
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // Begins a transaction and queues `records` in it.
  void produce(const std::vector<engine::AppendRequest>& records) {
    check(rd_kafka_begin_transaction(producer_), "begin_transaction");
    for (const engine::AppendRequest& record : records) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(const_cast<char*>(record.key.data()), record.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
          RD_KAFKA_V_END);
      ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    }
  }
  void commit() { check(rd_kafka_commit_transaction(producer_, 20'000), "commit_transaction"); }
  void abort() { check(rd_kafka_abort_transaction(producer_, 20'000), "abort_transaction"); }

  // Partitions that records of this producer reached, and how many did.
  std::set<int32_t> partitions;
  int64_t delivered = 0;

 private:
  static void on_delivery(rd_kafka_t* /*producer*/, const rd_kafka_message_t* message,
                          void* opaque) {
    auto* self = static_cast<TransactionalProducer*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->partitions.insert(message->partition);
      ++self->delivered;
    }
  }
  static void check(rd_kafka_error_t* error, const char* what) {
    if (error == nullptr) return;
    ADD_FAILURE() << what << ": " << rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
  }

  std::string topic_;
  rd_kafka_t* producer_ = nullptr;
};

// Each partition's next offset in the store is the topic's end offset.
void expect_at_end(projections::RocksProjectionStore& store, KafkaReader& reader) {
  auto ends = reader.end_offsets();
  auto checkpoints = store.load_checkpoints();
  ASSERT_TRUE(ends.has_value()) << ends.error().message;
  ASSERT_TRUE(checkpoints.has_value()) << checkpoints.error().message;
  for (const auto& [partition, end] : *ends) {
    const auto it = checkpoints->find(partition);
    const int64_t at = it == checkpoints->end() ? 0 : it->second.next_offset.value();
    EXPECT_EQ(at, end.value()) << "partition " << partition.value();
  }
}

class KafkaTransactions : public ::testing::TestWithParam<int> {};

TEST_P(KafkaTransactions, ProjectorReachesTheEndWhenTheLastOffsetsAreTransactionMarkers) {
  const int partitions = GetParam();
  MockKafkaCluster kafka(1, partitions);
  TempDir work;
  const std::string ndjson = testing::generated_stream(900, 23);
  const std::string homeward_first = lines_between(ndjson, 1, 400);
  const std::string portal_committed = lines_between(ndjson, 401, 600);
  const std::string homeward_after = lines_between(ndjson, 601, 900);

  auto appender = testing::open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  const engine::PublishReport first = testing::publish(*appender, homeward_first, 100);
  ASSERT_TRUE(first.failed.empty());

  // The portal's transaction commits; the broker writes COMMIT markers.
  const std::vector<engine::AppendRequest> committed = records_of(portal_committed);
  ASSERT_FALSE(committed.empty());
  {
    TransactionalProducer portal(kafka, 5);
    portal.produce(committed);
    portal.commit();
    ASSERT_EQ(portal.delivered, static_cast<int64_t>(committed.size()));
    for (const int32_t partition : portal.partitions) {
      auto marker = testing::write_transaction_marker(kafka.bootstrap_servers(), kafka.topic(),
                                                      partition, MarkerType::kCommit);
      ASSERT_TRUE(marker.has_value()) << marker.error().message;
    }
  }

  // The topic now ends with markers: the projector must still get there.
  const auto store_dir = work.path() / "projections";
  {
    auto reader = testing::open_reader(kafka.options());
    auto store = testing::open_store(store_dir);
    ASSERT_NE(reader, nullptr);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(testing::project(*reader, *store),
              first.appended + static_cast<int64_t>(committed.size()));
    expect_at_end(*store, *reader);
  }

  // More of Homeward's records, then a transaction the portal aborts: its
  // records never reach the broker (a long linger, purged by the abort), and
  // the broker writes ABORT markers in the partitions the transaction had.
  const engine::PublishReport after = testing::publish(*appender, homeward_after, 100);
  ASSERT_TRUE(after.failed.empty());
  {
    TransactionalProducer portal(kafka, 30'000);
    portal.produce(records_of(lines_between(ndjson, 1, 50)));
    portal.abort();
    EXPECT_EQ(portal.delivered, 0);
    for (int32_t partition = 0; partition < partitions; ++partition) {
      auto marker = testing::write_transaction_marker(kafka.bootstrap_servers(), kafka.topic(),
                                                      partition, MarkerType::kAbort);
      ASSERT_TRUE(marker.has_value()) << marker.error().message;
    }
  }

  // Resumed from the stored positions, past the COMMIT markers.
  Documents resumed;
  {
    auto reader = testing::open_reader(kafka.options());
    auto store = testing::open_store(store_dir);
    ASSERT_NE(reader, nullptr);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(testing::project(*reader, *store), after.appended);
    expect_at_end(*store, *reader);
    // Nothing is left: a second catch-up reads nothing and waits for nothing.
    EXPECT_EQ(testing::project(*reader, *store), 0);
    resumed = testing::documents_of(*store);
  }
  const Documents reference = testing::embedded_run(ndjson, work.path() / "embedded");
  testing::expect_same_ledger(resumed, reference);

  // The audit replays the topic to its end and agrees with the live store;
  // the export reads every event and stops at the end.
  const std::string data = work.path().string();
  const testing::CliRun audit =
      testing::run_homeward({"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(),
                             "--data", data, "audit", "--out", (work.path() / "audit").string()});
  EXPECT_EQ(audit.code, 0) << audit.out << audit.err;
  const testing::CliRun exported =
      testing::run_homeward({"--kafka", kafka.bootstrap_servers(), "--topic", kafka.topic(),
                             "--data", data, "export", "-"});
  EXPECT_EQ(exported.code, 0) << exported.err;
  const testing::CliRun embedded_export =
      testing::run_homeward({"--data", (work.path() / "embedded").string(), "export", "-"});
  ASSERT_EQ(embedded_export.code, 0) << embedded_export.err;
  EXPECT_EQ(std::count(exported.out.begin(), exported.out.end(), '\n'),
            std::count(embedded_export.out.begin(), embedded_export.out.end(), '\n'));
}

INSTANTIATE_TEST_SUITE_P(Partitions, KafkaTransactions, ::testing::Values(1, 3));

}  // namespace
}  // namespace homeward::connectors
