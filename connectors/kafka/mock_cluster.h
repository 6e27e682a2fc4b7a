// A Kafka cluster for trying Homeward and for tests: librdkafka's mock
// cluster (rdkafka_mock.h), which speaks the Kafka protocol over TCP on
// 127.0.0.1, behind `homeward dev-broker` and the fault tests.
//
// Limits (librdkafka 2.0.2, see docs/kafka.md): the brokers listen on
// ephemeral ports (the API cannot choose them); data lives in memory and is
// gone when the cluster is destroyed; each partition keeps at most 5 MiB or
// 100,000 record batches and drops its oldest batches beyond that (as
// retention would); an idempotent producer without a transactional.id is not
// deduplicated by the mock, so a delayed ack can leave duplicates.
//
// The fault-injection methods wrap the mock's API for tests; the clients that
// talk to the cluster (KafkaAppender, KafkaReader) know nothing about it.
// Ownership: a MockCluster owns the mock and the librdkafka handle it needs.
// Threads: the mock runs on its own thread; the methods here may be called
// from any one thread at a time.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "events/error.h"

struct rd_kafka_mock_cluster_s;

namespace homeward::connectors {

// Kafka protocol request types (ApiKey) used in fault injection.
inline constexpr int16_t kApiProduce = 0;
inline constexpr int16_t kApiFetch = 1;
inline constexpr int16_t kApiListOffsets = 2;
inline constexpr int16_t kApiMetadata = 3;
inline constexpr int16_t kApiOffsetCommit = 8;
inline constexpr int16_t kApiInitProducerId = 22;

class MockCluster {
 public:
  // Starts `brokers` brokers (ids 1..brokers) on 127.0.0.1.
  [[nodiscard]] static Result<std::unique_ptr<MockCluster>> start(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // Creates a topic; replication factor min(3, brokers) when 0.
  [[nodiscard]] Status create_topic(const std::string& topic, int partitions,
                                    int replication_factor = 0);

  // "127.0.0.1:PORT,..." for bootstrap.servers.
  [[nodiscard]] const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  [[nodiscard]] int broker_count() const { return brokers_; }

  // Fault injection. The next requests of type `api_key` (to any broker)
  // fail with `errors`, in order.
  void push_request_errors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors);
  // The next requests of type `api_key` to `broker` answer with `error`
  // (NO_ERROR for a plain delay) after `rtt_ms`, one entry per request.
  [[nodiscard]] Status push_broker_errors(
      int32_t broker, int16_t api_key,
      const std::vector<std::pair<rd_kafka_resp_err_t, int>>& errors_and_rtts);
  void clear_request_errors(int16_t api_key);
  // Disconnects a broker and refuses connections (-1: every broker); leaders stay.
  [[nodiscard]] Status set_broker_down(int32_t broker);
  [[nodiscard]] Status set_broker_up(int32_t broker);
  // Delays every response of a broker (-1: every broker).
  [[nodiscard]] Status set_broker_rtt(int32_t broker, int rtt_ms);
  // Moves a partition's leadership (-1: leaderless).
  [[nodiscard]] Status set_partition_leader(const std::string& topic, int32_t partition,
                                            int32_t broker);

  // Metadata requests for `topic` answer with `error` (NO_ERROR clears it):
  // UNKNOWN_TOPIC_OR_PART makes it look deleted. The mock creates a missing
  // topic on any metadata request, so this is how a test removes one.
  void set_topic_error(const std::string& topic, rd_kafka_resp_err_t error);

  [[nodiscard]] rd_kafka_mock_cluster_s* raw() const { return cluster_; }

 private:
  MockCluster() = default;
  rd_kafka_t* handle_ = nullptr;  // needed by the mock for its bookkeeping
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  int brokers_ = 0;
  std::string bootstrap_servers_;
};

}  // namespace homeward::connectors
