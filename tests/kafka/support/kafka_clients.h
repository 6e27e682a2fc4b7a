// Opening Homeward's Kafka clients in a test: a failure to open is a test
// failure with the client's message, and the caller gets nullptr to stop on.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "connectors/kafka/kafka_log.h"

namespace homeward::testing {

inline std::unique_ptr<connectors::KafkaAppender> open_appender(
    const connectors::KafkaOptions& options) {
  auto appender = connectors::KafkaAppender::open(options);
  if (!appender) {
    ADD_FAILURE() << appender.error().message;
    return nullptr;
  }
  return std::move(*appender);
}

inline std::unique_ptr<connectors::KafkaReader> open_reader(
    const connectors::KafkaOptions& options) {
  auto reader = connectors::KafkaReader::open(options);
  if (!reader) {
    ADD_FAILURE() << reader.error().message;
    return nullptr;
  }
  return std::move(*reader);
}

}  // namespace homeward::testing
