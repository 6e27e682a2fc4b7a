#include "connectors/kafka/kafka_common.h"

#include <algorithm>
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
  const std::string_view name(facility);
  // Brokers older than 0.11 (and librdkafka's mock) cannot be asked not to
  // create a missing topic; Homeward never relies on that (a missing topic
  // fails seek or the appends), so the warning is demoted to info.
  if (name == "AUTOCREATE" && spd_level == spdlog::level::warn) spd_level = spdlog::level::info;
  // One properties file serves both clients (--kafka-config), so producer
  // properties reach the consumer and the other way round, by design.
  if (name == "CONFWARN" &&
      std::string_view(message).find("will be ignored by this") != std::string_view::npos) {
    spd_level = spdlog::level::info;
  }
  // A broker connection that failed or closed (FAIL), and requests that timed
  // out on it (REQTMOUT), are retried by librdkafka, and the same condition
  // comes as an error event (ClientEvents), which logs it once per outage: at
  // every reconnect attempt these would be an error line each.
  if ((name == "FAIL" || name == "REQTMOUT") && spd_level >= spdlog::level::warn) {
    spd_level = spdlog::level::info;
  }
  spdlog::log(spd_level, "librdkafka {}: {}", facility, message);
}

// Client-level errors (a broker down, authentication failing) are mostly
// transient and retried by librdkafka; records that fail because of them get
// their own delivery report. Called on the thread that polls the client.
void on_error(rd_kafka_t* /*client*/, int err, const char* reason, void* opaque) {
  static_cast<ClientEvents*>(opaque)->on_error(static_cast<rd_kafka_resp_err_t>(err), reason);
}

}  // namespace

void ClientEvents::on_error(rd_kafka_resp_err_t err, const char* reason) {
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    spdlog::error("kafka: fatal client error: {}", reason);
    return;
  }
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    // "1/1 brokers are down" says less than the failure that led to it.
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      all_down_.store(true);
      if (last_reason_.empty()) last_reason_ = reason;
    } else {
      last_reason_ = reason;
    }
    first = logged_.insert(err).second;
    any_logged_.store(true);
  }
  // Once per condition and outage: librdkafka reports it again at every
  // reconnect attempt (every reconnect.backoff.ms). "N/N brokers are down"
  // only sums up the connection failures already logged.
  if (first && err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    spdlog::warn("kafka: {} ({})", reason, rd_kafka_err2name(err));
  } else {
    spdlog::debug("kafka: {} ({})", reason, rd_kafka_err2name(err));
  }
}

void ClientEvents::note_reached() {
  reached_once_.store(true);
  all_down_.store(false);
  if (!any_logged_.load()) return;
  std::lock_guard lock(mutex_);
  if (!logged_.empty()) spdlog::info("kafka: the brokers at {} answer again", brokers_);
  logged_.clear();
  any_logged_.store(false);
}

std::string ClientEvents::last_reason() const {
  std::lock_guard lock(mutex_);
  return last_reason_;
}

Error ClientEvents::unreachable_error(std::string_view why) const {
  const std::string reason = last_reason();
  return Error{ErrorCode::kUnavailable,
               fmt::format("cannot reach the Kafka brokers at {}: {}{}", brokers_, why,
                           reason.empty() ? std::string() : fmt::format(" ({})", reason))};
}

Error interrupted_error(std::string_view what) {
  return Error{ErrorCode::kUnavailable, fmt::format("{}: stopped on request", what)};
}

namespace {

// Whether some broker of `client` is up now. rd_kafka_metadata with no time
// to wait answers _TRANSPORT when none is (the request it may send when one
// is is answered later and dropped).
bool any_broker_usable(rd_kafka_t* client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, nullptr, &metadata, 0);
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  return err != RD_KAFKA_RESP_ERR__TRANSPORT;
}

}  // namespace

Result<rd_kafka_resp_err_t> call_interruptibly(
    rd_kafka_t* client, ClientEvents& events, std::chrono::milliseconds timeout,
    const std::atomic<bool>* interrupt, std::string_view what,
    const std::function<rd_kafka_resp_err_t(int)>& call) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  auto left = [&deadline] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  };
  for (;;) {
    if (interrupted(interrupt)) return std::unexpected(interrupted_error(what));
    rd_kafka_poll(client, 0);  // error events: all brokers down?
    if (events.all_brokers_down() && !events.reached_once()) {
      // Never reached, and every broker refused or failed (kcat stops here
      // too): more waiting would only repeat the same failure.
      return std::unexpected(events.unreachable_error("all brokers down"));
    }
    if (left().count() <= 0) return RD_KAFKA_RESP_ERR__TIMED_OUT;
    rd_kafka_resp_err_t err = call(static_cast<int>(std::min(left(), kWaitSlice).count()));
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT) return err;
    // No answer within the slice. While no broker is up, keep slicing (and
    // looking at the interrupt). A broker that is connected but does not
    // answer (slow, or stopped: a paused process, a partition that drops
    // packets) gets slices that double up to kLongestSlice, so that a slow
    // one can answer and an interrupt is still seen within one slice.
    if (!any_broker_usable(client)) continue;
    for (std::chrono::milliseconds slice = 2 * kWaitSlice;;
         slice = std::min(2 * slice, kLongestSlice)) {
      if (interrupted(interrupt)) return std::unexpected(interrupted_error(what));
      if (left().count() <= 0) return err;
      err = call(static_cast<int>(std::min(left(), slice).count()));
      if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT) return err;
    }
  }
}

Result<const rd_kafka_metadata_t*> wait_for_metadata(rd_kafka_t* client, rd_kafka_topic_t* topic,
                                                     ClientEvents& events,
                                                     std::chrono::milliseconds timeout,
                                                     const std::atomic<bool>* interrupt,
                                                     std::string_view what) {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto err = call_interruptibly(client, events, timeout, interrupt, what, [&](int ms) {
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    metadata = nullptr;
    return rd_kafka_metadata(client, 0, topic, &metadata, ms);
  });
  if (!err) return std::unexpected(std::move(err.error()));
  if (*err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    events.note_reached();
    return metadata;
  }
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  if (*err == RD_KAFKA_RESP_ERR__TIMED_OUT || *err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    return std::unexpected(
        events.unreachable_error(fmt::format("no broker answered within {} ms", timeout.count())));
  }
  return std::unexpected(to_error(*err, what));
}

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
                          std::span<const FixedProperty> fixed, ClientEvents& events) {
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
  events.set_brokers(get_property(conf.get(), "bootstrap.servers"));
  rd_kafka_conf_set_opaque(conf.get(), &events);
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
