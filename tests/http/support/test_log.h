// The log a test's `homeward serve` follows, of either kind the server
// supports: the embedded log inside the server's data directory, or a topic
// of three partitions on librdkafka's mock cluster, which runs in the test
// process and speaks the Kafka protocol on 127.0.0.1 (the server, a child
// process, and the CLI, run in-process, reach it as any cluster). Suites
// that run on both are parameterised over LogKind.
//
// The CLI's documents to compare with come from its own projections: on the
// embedded log those of the server's data directory, taken before the server
// starts (the server is the directory's writer); on Kafka those of another
// directory (`cli_data`), brought up to the end of the same topic, at any
// time. Not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "connectors/embedded_log/embedded_log.h"
#include "connectors/kafka/kafka_log.h"
#include "engine/event_log.h"
#include "tests/http/support/serve_process.h"
#include "tests/kafka/support/mock_kafka_cluster.h"

namespace homeward::testing {

enum class LogKind { kEmbedded, kKafka };

inline const char* to_string(LogKind kind) {
  return kind == LogKind::kEmbedded ? "Embedded" : "Kafka";
}
// For INSTANTIATE_TEST_SUITE_P's names: "Embedded", "Kafka".
inline std::string log_kind_name(const ::testing::TestParamInfo<LogKind>& info) {
  return to_string(info.param);
}
// For GoogleTest's messages and ctest's test names (instead of the bytes).
inline void PrintTo(LogKind kind, std::ostream* out) { *out << to_string(kind); }

class TestLog {
 public:
  // `work` holds the server's data directory and, on Kafka, the CLI's.
  TestLog(LogKind kind, const std::filesystem::path& work)
      : kind_(kind), server_data_(work / "data"), cli_data_(work / "cli-data") {
    if (kind == LogKind::kKafka) {
      cluster_ = std::make_unique<MockKafkaCluster>(1, 3);
    } else {
      cli_data_ = server_data_;
    }
  }

  [[nodiscard]] LogKind kind() const { return kind_; }
  [[nodiscard]] bool is_kafka() const { return kind_ == LogKind::kKafka; }
  [[nodiscard]] const std::filesystem::path& server_data() const { return server_data_; }

  // `homeward` arguments running ARGS on this log with the CLI's projections.
  [[nodiscard]] std::vector<std::string> cli_args(const std::vector<std::string>& args) const {
    return with_log(cli_data_, args);
  }
  // `homeward` arguments running ARGS on this log with the server's data directory.
  [[nodiscard]] std::vector<std::string> server_data_args(
      const std::vector<std::string>& args) const {
    return with_log(server_data_, args);
  }

  // `homeward serve` on this log and the server's data directory.
  [[nodiscard]] std::unique_ptr<ServeProcess> serve(const std::vector<std::string>& extra,
                                                    const std::filesystem::path& stderr_file) {
    return std::make_unique<ServeProcess>(server_data_, extra, stderr_file, global_options());
  }

  // Appends one record whose bytes are not an event (another producer's
  // mistake), which stage 2 rejects `malformed`. Not beside a running server
  // on the embedded log (the server is its writer).
  void append_malformed_record() {
    engine::AppendRequest request;
    request.key = "r-usd";
    request.value = "these bytes are not a FlatBuffers event";
    const std::vector<engine::AppendRequest> requests{request};
    Result<std::vector<Result<engine::LogPosition>>> appended =
        std::vector<Result<engine::LogPosition>>{};
    if (is_kafka()) {
      auto producer = connectors::KafkaAppender::open(cluster_->options());
      ASSERT_TRUE(producer.has_value()) << producer.error().message;
      appended = (*producer)->append(requests);
    } else {
      auto log = connectors::EmbeddedLog::open(server_data_ / "log");
      ASSERT_TRUE(log.has_value()) << log.error().message;
      appended = (*log)->append(requests);
    }
    ASSERT_TRUE(appended.has_value()) << appended.error().message;
    ASSERT_EQ(appended->size(), 1u);
    ASSERT_TRUE(appended->front().has_value()) << appended->front().error().message;
  }

  // The end of the log as a Homeward-Position (`P:OFFSET,...`, every
  // partition): a server whose position reaches it has projected every
  // record. On the embedded log, not beside a running server.
  [[nodiscard]] std::string end_position() {
    Result<engine::OffsetMap> ends = engine::OffsetMap{};
    if (is_kafka()) {
      auto reader = connectors::KafkaReader::open(cluster_->options());
      if (!reader) return fail(reader.error());
      ends = (*reader)->end_offsets();
    } else {
      auto log =
          connectors::EmbeddedLog::open(server_data_ / "log", connectors::EmbeddedLogMode::kRead);
      if (!log) return fail(log.error());
      ends = (*log)->end_offsets();
    }
    if (!ends) return fail(ends.error());
    std::string text;
    for (const auto& [partition, offset] : *ends) {
      text += fmt::format("{}{}:{}", text.empty() ? "" : ",", partition.value(), offset.value());
    }
    return text;
  }

 private:
  [[nodiscard]] std::vector<std::string> global_options() const {
    if (!is_kafka()) return {};
    return {"--kafka", cluster_->bootstrap_servers(), "--topic", cluster_->topic()};
  }
  [[nodiscard]] std::vector<std::string> with_log(const std::filesystem::path& data,
                                                  const std::vector<std::string>& args) const {
    std::vector<std::string> full{"--data", data.string()};
    for (const std::string& option : global_options()) full.push_back(option);
    full.insert(full.end(), args.begin(), args.end());
    return full;
  }
  static std::string fail(const Error& error) {
    ADD_FAILURE() << "cannot read the end of the log: " << error.message;
    return "";
  }

  LogKind kind_;
  std::filesystem::path server_data_;
  std::filesystem::path cli_data_;
  std::unique_ptr<MockKafkaCluster> cluster_;
};

}  // namespace homeward::testing
