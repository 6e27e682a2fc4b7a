// Internal to connectors/kafka: librdkafka configuration objects, the
// conversion of librdkafka errors to homeward::Error (the module edge), and
// what a client learns from librdkafka's error events (ClientEvents).
// Thread-safe: ClientEvents locks; the functions share no state besides
// spdlog's default logger.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
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

// What librdkafka's error events (error_cb, served by rd_kafka_poll) told
// one client: whether every broker is down, the last reason, and whether a
// broker ever answered. Clients use it to fail at once when the brokers
// cannot be reached at all (as kcat does), instead of waiting for timeouts,
// and to log each retriable condition once per outage instead of once per
// reconnect attempt. Thread-safe.
class ClientEvents {
 public:
  ClientEvents() = default;
  ClientEvents(const ClientEvents&) = delete;
  ClientEvents& operator=(const ClientEvents&) = delete;

  // The bootstrap servers, for messages; set by make_conf before the client
  // exists (no locking needed then).
  void set_brokers(std::string brokers) { brokers_ = std::move(brokers); }

  // From the error callback.
  void on_error(rd_kafka_resp_err_t err, const char* reason);
  // A broker answered (metadata, a delivery report, a fetched record): an
  // outage is over, and its conditions are logged again when they return.
  void note_reached();

  [[nodiscard]] bool reached_once() const { return reached_once_.load(); }
  // librdkafka said every broker is down, and none answered since.
  [[nodiscard]] bool all_brokers_down() const { return all_down_.load(); }
  [[nodiscard]] std::string last_reason() const;
  [[nodiscard]] const std::string& brokers() const { return brokers_; }

  // kUnavailable: "cannot reach the Kafka brokers at B: all brokers down (REASON)".
  [[nodiscard]] Error unreachable_error(std::string_view why) const;

  // Whoever owns the client, for callbacks that need it (the appender's
  // delivery reports share the client's opaque with the error callback).
  void* owner = nullptr;

 private:
  std::string brokers_;
  std::atomic<bool> reached_once_{false};
  std::atomic<bool> all_down_{false};
  std::atomic<bool> any_logged_{false};  // logged_ is not empty (note_reached's fast path)
  mutable std::mutex mutex_;
  std::set<rd_kafka_resp_err_t> logged_;  // conditions already logged in this outage
  std::string last_reason_;
};

// A configuration with `defaults`, then the user's properties and brokers,
// then `fixed`; librdkafka's logs go to spdlog and its error events to
// `events`, which becomes the client's opaque and must outlive the client.
[[nodiscard]] Result<ConfPtr> make_conf(const KafkaOptions& options,
                                        const KafkaProperties& defaults,
                                        std::span<const FixedProperty> fixed, ClientEvents& events);

// Sets one property; kInvalidArgument with librdkafka's reason when refused.
[[nodiscard]] Status set_property(rd_kafka_conf_t* conf, std::string_view key,
                                  std::string_view value);

// Reads a property back (after defaults, user's and fixed were applied).
[[nodiscard]] std::string get_property(const rd_kafka_conf_t* conf, const char* key);

// The homeward::Error for a librdkafka error code: "context: reason (NAME)".
[[nodiscard]] Error to_error(rd_kafka_resp_err_t err, std::string_view context,
                             std::string_view detail = {});
[[nodiscard]] ErrorCode classify(rd_kafka_resp_err_t err);

// Whether the caller asked blocking calls to give up (KafkaOptions::interrupt).
[[nodiscard]] inline bool interrupted(const std::atomic<bool>* interrupt) {
  return interrupt != nullptr && interrupt->load();
}
[[nodiscard]] Error interrupted_error(std::string_view what);

// Runs a blocking librdkafka request, `call(timeout_ms)`, so that waiting
// for brokers that are down or do not answer can be interrupted: in slices
// of kWaitSlice while no broker is up, serving the client's events
// (rd_kafka_poll) between them, and failing at once when every broker is
// reported down before any answered (ClientEvents). A broker that is
// connected but slow gets slices that double up to kLongestSlice (a request
// that takes longer than that is not answered: its broker counts as not
// answering), with the interrupt looked at between them. The value is
// librdkafka's last answer (_TIMED_OUT when the time ran out); the error is
// for an interrupt or unreachable brokers (kUnavailable).
inline constexpr std::chrono::milliseconds kWaitSlice{100};
inline constexpr std::chrono::milliseconds kLongestSlice{1'600};
[[nodiscard]] Result<rd_kafka_resp_err_t> call_interruptibly(
    rd_kafka_t* client, ClientEvents& events, std::chrono::milliseconds timeout,
    const std::atomic<bool>* interrupt, std::string_view what,
    const std::function<rd_kafka_resp_err_t(int)>& call);

// rd_kafka_metadata for `topic` through call_interruptibly; a timeout is
// kUnavailable too. The metadata is freed by the caller with
// rd_kafka_metadata_destroy.
[[nodiscard]] Result<const rd_kafka_metadata_t*> wait_for_metadata(
    rd_kafka_t* client, rd_kafka_topic_t* topic, ClientEvents& events,
    std::chrono::milliseconds timeout, const std::atomic<bool>* interrupt, std::string_view what);

// Creates a client; the conf is consumed on success.
[[nodiscard]] Result<rd_kafka_t*> new_client(rd_kafka_type_t type, ConfPtr conf,
                                             std::string_view what);

}  // namespace homeward::connectors::kafka_detail
