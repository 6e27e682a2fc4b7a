// Test support for Kafka mode: a mock cluster on 127.0.0.1 with one topic,
// client options pointing at it, and helpers to read a whole topic back.
//
// The cluster is connectors::MockCluster (the one `homeward dev-broker`
// runs); its fault-injection API (request errors, broker down/up, RTT,
// leader moves) is reached through cluster(). Not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_config.h"
#include "connectors/kafka/kafka_log.h"
#include "connectors/kafka/mock_cluster.h"
#include "engine/event_log.h"

namespace homeward::testing {

class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int brokers = 1, int partitions = 1,
                            std::string topic = "homeward.events")
      : topic_(std::move(topic)) {
    auto cluster = connectors::MockCluster::start(brokers);
    if (!cluster) throw std::runtime_error(cluster.error().message);
    cluster_ = std::move(*cluster);
    if (auto created = cluster_->create_topic(topic_, partitions); !created) {
      throw std::runtime_error(created.error().message);
    }
  }

  [[nodiscard]] connectors::MockCluster& cluster() { return *cluster_; }
  [[nodiscard]] const std::string& topic() const { return topic_; }
  [[nodiscard]] const std::string& bootstrap_servers() const {
    return cluster_->bootstrap_servers();
  }

  // Options for Homeward's clients, with timeouts short enough for tests.
  [[nodiscard]] connectors::KafkaOptions options() const {
    connectors::KafkaOptions options;
    options.brokers = cluster_->bootstrap_servers();
    options.topic = topic_;
    options.properties = {
        {"topic.metadata.propagation.max.ms", "1000"},
        {"reconnect.backoff.max.ms", "200"},
    };
    options.request_timeout = std::chrono::milliseconds(5000);
    return options;
  }

 private:
  std::string topic_;
  std::unique_ptr<connectors::MockCluster> cluster_;
};

// Reads from `reader` until it has `count` records or `deadline` passes.
inline std::vector<engine::LogRecord> read_records(engine::EventLogReader& reader, size_t count,
                                                   std::chrono::milliseconds deadline) {
  std::vector<engine::LogRecord> records;
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  engine::RecordBatch batch;
  while (records.size() < count && std::chrono::steady_clock::now() < give_up) {
    auto read = reader.read(count - records.size(), std::chrono::milliseconds(100), batch);
    if (!read) {
      ADD_FAILURE() << "read failed: " << read.error().message;
      break;
    }
    for (auto& record : batch.records) records.push_back(std::move(record));
  }
  return records;
}

}  // namespace homeward::testing
