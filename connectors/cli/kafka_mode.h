// Internal to the CLI: Kafka mode. With `--kafka BROKERS` (and `--topic`,
// `--kafka-config FILE`) the log is a Kafka topic (connectors/kafka) and only
// the projections stay in `--data DIR`. This file also holds
// `project --follow` and `homeward dev-broker` (librdkafka's mock cluster).
// Not thread-safe (one run at a time).
#pragma once

#include <memory>

#include "connectors/cli/command_context.h"
#include "connectors/cli/log_access.h"
#include "connectors/kafka/kafka_config.h"
#include "events/error.h"

namespace homeward::connectors::cli {

// The client options that the global options name (reads --kafka-config).
[[nodiscard]] Result<KafkaOptions> kafka_options(const GlobalOptions& options);

// The topic as a LogHandle: a KafkaReader and a KafkaAppender. Creates
// `--data DIR` for the projections when it is missing. Waits until a broker
// answers (KafkaReader::wait_for_brokers): a command against brokers that
// cannot be reached stops within seconds with one clear error.
[[nodiscard]] Result<std::unique_ptr<LogHandle>> open_kafka_log(const GlobalOptions& options);

}  // namespace homeward::connectors::cli
