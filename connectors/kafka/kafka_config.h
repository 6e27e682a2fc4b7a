// Configuration of Homeward's Kafka clients: where the brokers are, which
// topic holds the log, and the librdkafka properties a deployment needs (SASL,
// TLS, timeouts) read from a `key=value` file (`--kafka-config FILE`).
//
// The same user properties go to the producer and to the consumer. Homeward
// sets its own defaults first (throughput and bounded memory for the producer,
// manual assignment for the consumer), then the user's properties, then the
// few properties its guarantees rest on; a user property that contradicts one
// of those is refused rather than silently overridden. Plain values;
// thread-compatible.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/error.h"

namespace homeward::connectors {

inline constexpr std::string_view kDefaultKafkaTopic = "homeward.events";
inline constexpr std::string_view kDefaultKafkaGroup = "homeward-projector";

// librdkafka properties in the order they are to be applied.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

struct KafkaOptions {
  // `bootstrap.servers`; may be empty when `properties` names them.
  std::string brokers;
  std::string topic = std::string(kDefaultKafkaTopic);
  // From `--kafka-config`; applied to both clients.
  KafkaProperties properties;
  // Group offsets are committed only as information for monitoring tools
  // (consumer lag dashboards); Homeward never reads them back.
  std::string group_id = std::string(kDefaultKafkaGroup);
  // Metadata and watermark requests of the reader.
  std::chrono::milliseconds request_timeout{10'000};
  // How often `read` looks for partitions added to the topic.
  std::chrono::milliseconds metadata_refresh{5'000};
  // When set and true (a stop signal), the clients' blocking calls give up
  // within about 100 ms with kUnavailable instead of waiting for brokers
  // that are down. Not owned; must outlive the clients.
  const std::atomic<bool>* interrupt = nullptr;
};

// Parses `key=value` lines. Blank lines and lines whose first non-blank
// character is '#' are skipped; keys and values are trimmed of surrounding
// blanks; the value may contain '='. `origin` names the text in errors
// ("FILE:LINE: ..."), which have code kInvalidArgument.
[[nodiscard]] Result<KafkaProperties> parse_kafka_properties(std::string_view text,
                                                             std::string_view origin);

// The most bytes a properties file may hold: 1 MiB. librdkafka's whole
// configuration is a few KiB; the bound keeps `--kafka-config /dev/zero` (or
// a FIFO that never ends, or a file given by mistake) from being read into
// memory without end.
inline constexpr size_t kMaxKafkaPropertiesBytes = size_t{1} << 20;

// Reads and parses a properties file (kNotFound / kIo when it cannot be read,
// kInvalidArgument when it holds more than kMaxKafkaPropertiesBytes: it is
// read no further than that).
[[nodiscard]] Result<KafkaProperties> load_kafka_properties(const std::filesystem::path& file);

}  // namespace homeward::connectors
