#include "connectors/kafka/kafka_common.h"

#include <array>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

namespace homeward::connectors::kafka_detail {
namespace {

constexpr size_t kErrstrSize = 512;

// librdkafka's syslog levels to spdlog's. Called from librdkafka's threads;
// spdlog's default logger is thread-safe.
void on_log(const rd_kafka_t* /*client*/, int level, const char* facility, const char* message) {
  spdlog::level::level_enum spd_level = spdlog::level::debug;
  if (level <= 3) {
    spd_level = spdlog::level::err;
  } else if (level == 4) {
    spd_level = spdlog::level::warn;
  } else if (level <= 6) {
    spd_level = spdlog::level::info;
  }
  // Brokers older than 0.11 (and librdkafka's mock) cannot be asked not to
  // create a missing topic; Homeward never relies on that (a missing topic
  // fails seek or the appends), so the warning is demoted to info.
  if (std::string_view(facility) == "AUTOCREATE" && spd_level == spdlog::level::warn) {
    spd_level = spdlog::level::info;
  }
  // One properties file serves both clients (--kafka-config), so producer
  // properties reach the consumer and the other way round, by design.
  if (std::string_view(facility) == "CONFWARN" &&
      std::string_view(message).find("will be ignored by this") != std::string_view::npos) {
    spd_level = spdlog::level::info;
  }
  spdlog::log(spd_level, "librdkafka {}: {}", facility, message);
}

// Client-level errors (a broker down, authentication failing) are mostly
// transient and retried by librdkafka; records that fail because of them get
// their own delivery report, so here they are only logged.
void on_error(rd_kafka_t* /*client*/, int err, const char* reason, void* /*opaque*/) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    spdlog::error("kafka: fatal client error: {}", reason);
  } else {
    spdlog::warn("kafka: {} ({})", reason, rd_kafka_err2name(code));
  }
}

}  // namespace

Status set_property(rd_kafka_conf_t* conf, std::string_view key, std::string_view value) {
  std::array<char, kErrstrSize> errstr{};
  const std::string key_string(key);
  const std::string value_string(value);
  if (rd_kafka_conf_set(conf, key_string.c_str(), value_string.c_str(), errstr.data(),
                        errstr.size()) != RD_KAFKA_CONF_OK) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("Kafka property {}={}: {}", key, value, errstr.data()));
  }
  return {};
}

std::string get_property(const rd_kafka_conf_t* conf, const char* key) {
  std::array<char, kErrstrSize> value{};
  size_t size = value.size();
  if (rd_kafka_conf_get(conf, key, value.data(), &size) != RD_KAFKA_CONF_OK) return {};
  return std::string(value.data());
}

Result<ConfPtr> make_conf(const KafkaOptions& options, const KafkaProperties& defaults,
                          std::span<const FixedProperty> fixed) {
  ConfPtr conf(rd_kafka_conf_new());
  for (const auto& [key, value] : defaults) {
    if (auto set = set_property(conf.get(), key, value); !set) return std::unexpected(set.error());
  }
  for (const auto& [key, value] : options.properties) {
    for (const FixedProperty& property : fixed) {
      if (key == property.key && value != property.value &&
          (property.alias.empty() || value != property.alias)) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("Kafka property {}={} is not allowed: Homeward needs "
                                      "{}={} ({})",
                                      key, value, property.key, property.value, property.why));
      }
    }
    if (auto set = set_property(conf.get(), key, value); !set) return std::unexpected(set.error());
  }
  if (!options.brokers.empty()) {
    if (auto set = set_property(conf.get(), "bootstrap.servers", options.brokers); !set) {
      return std::unexpected(set.error());
    }
  }
  if (get_property(conf.get(), "bootstrap.servers").empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no Kafka brokers named: give --kafka HOST:PORT[,HOST:PORT...] or "
                      "bootstrap.servers in the properties file");
  }
  for (const FixedProperty& property : fixed) {
    if (auto set = set_property(conf.get(), property.key, property.value); !set) {
      return std::unexpected(set.error());
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), on_log);
  rd_kafka_conf_set_error_cb(conf.get(), on_error);
  return conf;
}

ErrorCode classify(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
      return ErrorCode::kUnavailable;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return ErrorCode::kNotFound;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kIo;
  }
}

Error to_error(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail) {
  std::string message =
      fmt::format("{}: {} ({})", context, rd_kafka_err2str(err), rd_kafka_err2name(err));
  if (!detail.empty() && detail != rd_kafka_err2str(err)) {
    message += fmt::format(": {}", detail);
  }
  return Error{classify(err), std::move(message)};
}

Result<rd_kafka_t*> new_client(rd_kafka_type_t type, ConfPtr conf, std::string_view what) {
  std::array<char, kErrstrSize> errstr{};
  rd_kafka_t* client = rd_kafka_new(type, conf.get(), errstr.data(), errstr.size());
  if (client == nullptr) {
    // On failure the configuration is still ours and ConfPtr frees it.
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot create the Kafka {}: {}", what, errstr.data()));
  }
  static_cast<void>(conf.release());  // rd_kafka_new took it
  return client;
}

}  // namespace homeward::connectors::kafka_detail
