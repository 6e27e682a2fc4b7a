// Internal to connectors/kafka: librdkafka configuration objects and the
// conversion of librdkafka errors to homeward::Error (the module edge).
// Thread-safe: no shared state besides spdlog's default logger.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "connectors/kafka/kafka_config.h"
#include "events/error.h"

namespace homeward::connectors::kafka_detail {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// A property Homeward's guarantees rest on: the user may repeat it, not change it.
struct FixedProperty {
  std::string_view key;
  std::string_view value;
  std::string_view why;
  std::string_view alias = {};  // another spelling of the same value ("-1" for "all")
};

// A configuration with `defaults`, then the user's properties and brokers,
// then `fixed`; librdkafka's logs and errors are routed to spdlog.
[[nodiscard]] Result<ConfPtr> make_conf(const KafkaOptions& options,
                                        const KafkaProperties& defaults,
                                        std::span<const FixedProperty> fixed);

// Sets one property; kInvalidArgument with librdkafka's reason when refused.
[[nodiscard]] Status set_property(rd_kafka_conf_t* conf, std::string_view key,
                                  std::string_view value);

// Reads a property back (after defaults, user's and fixed were applied).
[[nodiscard]] std::string get_property(const rd_kafka_conf_t* conf, const char* key);

// The homeward::Error for a librdkafka error code: "context: reason (NAME)".
[[nodiscard]] Error to_error(rd_kafka_resp_err_t err, std::string_view context,
                             std::string_view detail = {});
[[nodiscard]] ErrorCode classify(rd_kafka_resp_err_t err);

// Creates a client; the conf is consumed on success.
[[nodiscard]] Result<rd_kafka_t*> new_client(rd_kafka_type_t type, ConfPtr conf,
                                             std::string_view what);

}  // namespace homeward::connectors::kafka_detail
