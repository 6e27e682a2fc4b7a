#include "connectors/kafka/mock_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <array>

#include <fmt/core.h>

#include "connectors/kafka/kafka_common.h"

namespace homeward::connectors {

Result<std::unique_ptr<MockCluster>> MockCluster::start(int brokers) {
  if (brokers < 1 || brokers > 64) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("a mock cluster has 1 to 64 brokers, not {}", brokers));
  }
  // The mock needs a client handle for its bookkeeping only; this one never
  // connects anywhere, so it names no brokers and logs only errors.
  kafka_detail::ConfPtr conf(rd_kafka_conf_new());
  if (auto set = kafka_detail::set_property(conf.get(), "log_level", "3"); !set) {
    return std::unexpected(set.error());
  }
  auto handle = kafka_detail::new_client(RD_KAFKA_PRODUCER, std::move(conf), "mock cluster handle");
  if (!handle) return std::unexpected(std::move(handle.error()));

  std::unique_ptr<MockCluster> cluster(new MockCluster());
  cluster->handle_ = *handle;
  cluster->cluster_ = rd_kafka_mock_cluster_new(cluster->handle_, brokers);
  if (cluster->cluster_ == nullptr) {
    return make_error(ErrorCode::kIo,
                      "cannot start librdkafka's mock cluster (no listening socket on "
                      "127.0.0.1?)");
  }
  cluster->brokers_ = brokers;
  cluster->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster->cluster_);
  return cluster;
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

Status MockCluster::create_topic(const std::string& topic, int partitions, int replication_factor) {
  if (topic.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the topic name is empty");
  }
  if (partitions < 1 || partitions > 10'000) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("a topic has 1 to 10000 partitions, not {}", partitions));
  }
  const int replicas = replication_factor > 0 ? replication_factor : std::min(3, brokers_);
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, replicas);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(
        kafka_detail::to_error(err, fmt::format("cannot create mock topic '{}'", topic)));
  }
  return {};
}

void MockCluster::push_request_errors(int16_t api_key,
                                      const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
}

Status MockCluster::push_broker_errors(
    int32_t broker, int16_t api_key,
    const std::vector<std::pair<rd_kafka_resp_err_t, int>>& errors_and_rtts) {
  // The C call is variadic; one entry per call appends to the same stack in order.
  for (const auto& [error, rtt_ms] : errors_and_rtts) {
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_broker_push_request_error_rtts(cluster_, broker, api_key, 1, error, rtt_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::unexpected(kafka_detail::to_error(
          err, fmt::format("cannot push errors for mock broker {}", broker)));
    }
  }
  return {};
}

void MockCluster::clear_request_errors(int16_t api_key) {
  rd_kafka_mock_clear_request_errors(cluster_, api_key);
}

void MockCluster::set_topic_error(const std::string& topic, rd_kafka_resp_err_t error) {
  rd_kafka_mock_topic_set_error(cluster_, topic.c_str(), error);
}

Status MockCluster::set_broker_down(int32_t broker) {
  const rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(cluster_, broker);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(
        kafka_detail::to_error(err, fmt::format("cannot take mock broker {} down", broker)));
  }
  return {};
}

Status MockCluster::set_broker_up(int32_t broker) {
  const rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(cluster_, broker);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(
        kafka_detail::to_error(err, fmt::format("cannot bring mock broker {} up", broker)));
  }
  return {};
}

Status MockCluster::set_broker_rtt(int32_t broker, int rtt_ms) {
  const rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(cluster_, broker, rtt_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(
        kafka_detail::to_error(err, fmt::format("cannot set the RTT of mock broker {}", broker)));
  }
  return {};
}

Status MockCluster::set_partition_leader(const std::string& topic, int32_t partition,
                                         int32_t broker) {
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(kafka_detail::to_error(
        err,
        fmt::format("cannot move the leader of {} [{}] to broker {}", topic, partition, broker)));
  }
  return {};
}

}  // namespace homeward::connectors
