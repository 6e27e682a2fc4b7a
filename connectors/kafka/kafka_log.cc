#include "connectors/kafka/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/kafka_common.h"
#include "events/check.h"
#include "events/codec.h"

namespace homeward::connectors {
namespace {

using Clock = std::chrono::steady_clock;
using kafka_detail::FixedProperty;

// librdkafka fails a record it could not deliver within message.timeout.ms;
// Homeward waits this much longer before it reports a record failed itself.
constexpr std::chrono::milliseconds kFlushMargin{10'000};
// The longest a reader's poll waits before it looks at KafkaOptions::interrupt.
constexpr int kInterruptCheckMs = 100;
// The longest one rd_kafka_flush waits before finish_append looks at timeouts.
constexpr int kFlushSliceMs = 100;
// How long one wait for room in a full local queue lasts before trying again.
constexpr int kQueueFullPollMs = 50;
// While queueing a call's records, delivery reports are served once per this
// many records (and whenever the local queue is full).
constexpr size_t kPollEveryRecords = 1'024;

// Throughput with bounded memory (see docs/kafka.md for the measurements).
// The user's properties may change any of these.
const KafkaProperties& producer_defaults() {
  static const KafkaProperties kDefaults = {
      // The Java client's default partitioner (murmur2 of the key), so that
      // Homeward and Java producers send a case to the same partition.
      {"partitioner", "murmur2_random"},
      {"linger.ms", "10"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"compression.type", "lz4"},
      // The local queue: at most this many records or KiB waiting for the
      // broker; when it is full, append waits (bounded memory).
      {"queue.buffering.max.messages", "100000"},
      {"queue.buffering.max.kbytes", "65536"},
      {"message.timeout.ms", "60000"},
      // The topic is created by operations with the production settings
      // (docs/kafka.md); a producer must never create it with defaults.
      {"allow.auto.create.topics", "false"},
  };
  return kDefaults;
}

constexpr std::array kProducerFixed = {
    FixedProperty{"enable.idempotence", "true",
                  "retries must not reorder or duplicate records within a partition"},
    FixedProperty{"acks", "all", "an acknowledged event must survive the loss of a broker", "-1"},
};

const KafkaProperties& consumer_defaults() {
  static const KafkaProperties kDefaults = {
      {"enable.auto.offset.store", "false"},
      {"allow.auto.create.topics", "false"},
      {"fetch.wait.max.ms", "100"},
  };
  return kDefaults;
}

constexpr std::array kConsumerFixed = {
    FixedProperty{"enable.auto.commit", "false",
                  "group offsets are committed only for what the store holds"},
    FixedProperty{"auto.offset.reset", "error",
                  "a position deleted by retention must stop the projector, not be skipped"},
    // The end-of-partition event carries the fetch position: the reader's
    // only way past offsets that hold no record (transaction markers,
    // aborted transactions) at the end of a partition.
    FixedProperty{"enable.partition.eof", "true",
                  "the reader must learn where a partition ends when its last offsets are "
                  "transaction markers"},
    FixedProperty{"isolation.level", "read_committed",
                  "records of aborted or unfinished transactions are not events"},
};

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};

int timeout_ms(std::chrono::milliseconds duration) {
  return static_cast<int>(std::clamp<int64_t>(duration.count(), 0, INT32_MAX));
}

std::string fatal_reason(rd_kafka_t* client) {
  std::array<char, 512> reason{};
  const rd_kafka_resp_err_t err = rd_kafka_fatal_error(client, reason.data(), reason.size());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return fmt::format("{} ({})", reason.data(), rd_kafka_err2name(err));
}

// The low and high watermarks of a partition (kafka_detail::call_interruptibly);
// the value is librdkafka's answer.
Result<rd_kafka_resp_err_t> watermarks(rd_kafka_t* consumer, kafka_detail::ClientEvents& events,
                                       const KafkaOptions& options, Partition partition,
                                       int64_t& low, int64_t& high) {
  return kafka_detail::call_interruptibly(
      consumer, events, options.request_timeout, options.interrupt,
      fmt::format("reading the offsets of Kafka topic '{}'", options.topic), [&](int ms) {
        return rd_kafka_query_watermark_offsets(consumer, options.topic.c_str(), partition.value(),
                                                &low, &high, ms);
      });
}

// Commit results are information only: failures are logged at info level.
void on_commit(rd_kafka_t* /*consumer*/, rd_kafka_resp_err_t err,
               rd_kafka_topic_partition_list_t* offsets, void* /*opaque*/) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    spdlog::info("kafka: committing group offsets (information only) failed: {}",
                 rd_kafka_err2str(err));
    return;
  }
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& entry = offsets->elems[i];
    if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::info("kafka: committing the group offset of {} [{}] failed: {}", entry.topic,
                   entry.partition, rd_kafka_err2str(entry.err));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- appender

KafkaAppender::KafkaAppender() : events_(std::make_unique<kafka_detail::ClientEvents>()) {
  events_->owner = this;
}

Result<std::unique_ptr<KafkaAppender>> KafkaAppender::open(const KafkaOptions& options) {
  if (options.topic.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the Kafka topic name is empty");
  }
  std::unique_ptr<KafkaAppender> appender(new KafkaAppender());
  auto conf =
      kafka_detail::make_conf(options, producer_defaults(), kProducerFixed, *appender->events_);
  if (!conf) return std::unexpected(std::move(conf.error()));

  appender->topic_name_ = options.topic;
  appender->request_timeout_ = options.request_timeout;
  appender->interrupt_ = options.interrupt;
  const std::string message_timeout = kafka_detail::get_property(conf->get(), "message.timeout.ms");
  int64_t message_timeout_ms = 0;
  const auto [end, parse_error] = std::from_chars(
      message_timeout.data(), message_timeout.data() + message_timeout.size(), message_timeout_ms);
  if (parse_error != std::errc() || end != message_timeout.data() + message_timeout.size() ||
      message_timeout_ms <= 0) {
    // 0 means "no limit" to librdkafka: append could then wait forever.
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("Kafka property message.timeout.ms={} must be a positive "
                                  "number of milliseconds: append waits for every record",
                                  message_timeout));
  }
  appender->flush_timeout_ = std::chrono::milliseconds(message_timeout_ms) + kFlushMargin;
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaAppender::on_delivery);

  auto client = kafka_detail::new_client(RD_KAFKA_PRODUCER, std::move(*conf), "producer");
  if (!client) return std::unexpected(std::move(client.error()));
  appender->producer_ = *client;
  appender->topic_ = rd_kafka_topic_new(appender->producer_, options.topic.c_str(), nullptr);
  if (appender->topic_ == nullptr) {
    return std::unexpected(kafka_detail::to_error(
        rd_kafka_last_error(), fmt::format("cannot use Kafka topic '{}'", options.topic)));
  }
  return appender;
}

KafkaAppender::~KafkaAppender() {
  if (producer_ != nullptr) {
    const int left_before = rd_kafka_outq_len(producer_);
    if (left_before > 0) {
      const rd_kafka_resp_err_t err = rd_kafka_flush(producer_, timeout_ms(flush_timeout_));
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::warn("kafka: closing the producer with {} records or requests still in flight",
                     rd_kafka_outq_len(producer_));
      }
    }
  }
  if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
  if (producer_ != nullptr) rd_kafka_destroy(producer_);
}

void KafkaAppender::on_delivery(rd_kafka_t* /*producer*/, const rd_kafka_message_t* message,
                                void* opaque) {
  // Called from rd_kafka_poll/flush, on the thread inside append(). The
  // opaque is the client's events (make_conf), which know their owner.
  auto* events = static_cast<kafka_detail::ClientEvents*>(opaque);
  static_cast<KafkaAppender*>(events->owner)->handle_delivery(*message);
}

void KafkaAppender::handle_delivery(const rd_kafka_message_t& message) {
  ++reports_seen_;
  const auto sequence = reinterpret_cast<uintptr_t>(message._private);
  Call* call = nullptr;
  for (Call& candidate : calls_) {
    if (sequence >= candidate.first && sequence - candidate.first < candidate.results.size()) {
      call = &candidate;
      break;
    }
  }
  if (message.err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT && !timed_out_) {
    // Kafka acknowledged nothing of this record within message.timeout.ms:
    // the producer gives up on every record not yet answered (give_up), so
    // that a publish against brokers that are gone ends within about that
    // long in total instead of once per batch.
    timed_out_ = true;
    give_up_reason_ =
        fmt::format("Kafka acknowledged nothing of a record within message.timeout.ms={} ms ({})",
                    (flush_timeout_ - kFlushMargin).count(), rd_kafka_err2str(message.err));
  }
  if (call == nullptr) {
    // Its append already reported it unknown (no report within the flush
    // timeout). If it was appended after all, the caller's resend with the
    // same event_id is a duplicate that the projector counts as such.
    if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::info(
          "kafka: a record reported unknown earlier was appended at partition {} offset {}",
          message.partition, message.offset);
    } else {
      spdlog::info("kafka: late report for a record already reported unknown: {}",
                   rd_kafka_err2str(message.err));
    }
    return;
  }
  const size_t index = sequence - call->first;
  if (!call->reported[index]) {
    call->reported[index] = true;
    --call->unreported;
  }
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // librdkafka knows whether the record ever left for a broker: one that
    // never did is not in the topic (failed: sending it again is safe); one
    // that was sent without an answer (timed out, purged in flight) may be
    // there (unknown: send it again with the same event_id).
    if (rd_kafka_message_status(&message) == RD_KAFKA_MSG_STATUS_NOT_PERSISTED) {
      call->results[index] = std::unexpected(kafka_detail::to_error(
          message.err, fmt::format("Kafka did not take the record for topic '{}'", topic_name_)));
    } else {
      call->results[index] = make_error(
          ErrorCode::kUnknownOutcome,
          fmt::format("no answer from Kafka: the record may be in topic '{}' or not: {} ({})",
                      topic_name_, rd_kafka_err2str(message.err), rd_kafka_err2name(message.err)));
    }
    return;
  }
  if (message.offset < 0) {
    // Acknowledged without an offset: cannot happen with acks=all, and the
    // caller must not be told a position that is not real.
    call->results[index] =
        make_error(ErrorCode::kInternal,
                   fmt::format("Kafka acknowledged the record without an offset (partition {})",
                               message.partition));
    return;
  }
  call->results[index] = engine::LogPosition{Partition{message.partition}, Offset{message.offset}};
  delivered_since_noted_ = true;
}

void KafkaAppender::give_up_after_timeout() {
  if (!timed_out_ || gave_up_) return;
  gave_up_ = true;
  const int outstanding = rd_kafka_outq_len(producer_);
  spdlog::warn("kafka: {}; giving up on the {} records still waiting, and sending nothing more",
               give_up_reason_, outstanding);
  // Records not sent yet get a report saying so (not persisted: failed);
  // those in flight one that says it is unknown whether they arrived.
  const rd_kafka_resp_err_t err =
      rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: purging the producer's queue failed: {}", rd_kafka_err2str(err));
  }
  rd_kafka_poll(producer_, 0);  // the purged records' reports
}

Error KafkaAppender::given_up_error() const {
  return Error{ErrorCode::kUnavailable,
               fmt::format("not sent, since this producer gave up earlier: {}", give_up_reason_)};
}

KafkaProperties KafkaAppender::default_settings() {
  KafkaProperties settings = producer_defaults();
  for (const FixedProperty& fixed : kProducerFixed) {
    settings.emplace_back(std::string(fixed.key), std::string(fixed.value));
  }
  return settings;
}

Result<std::vector<Result<engine::LogPosition>>> KafkaAppender::append(
    std::span<const engine::AppendRequest> requests) {
  HOMEWARD_CHECK(calls_.empty(), "append while pipelined appends are unfinished");
  start_append(requests);
  return finish_append();
}

void KafkaAppender::start_append(std::span<const engine::AppendRequest> requests) {
  Call& call = calls_.emplace_back();
  if (const std::string fatal = fatal_reason(producer_); !fatal.empty()) {
    call.outer =
        Error{ErrorCode::kIo,
              fmt::format("the Kafka producer hit a fatal error and must be replaced: {}", fatal)};
    return;
  }
  if (gave_up_) {
    // Nothing is queued, so none of the call's records is in the topic.
    call.outer = given_up_error();
    return;
  }
  if (!events_->reached_once()) {
    // Until a broker has answered once, a producer cannot tell a broker that
    // is away for a moment from an address where none will ever answer:
    // wait for one (up to request_timeout), and fail at once when librdkafka
    // reports every broker down, rather than queue records that would only
    // time out after message.timeout.ms. Nothing is queued then, so none of
    // the call's records is in the topic.
    auto metadata = kafka_detail::wait_for_metadata(
        producer_, topic_, *events_, request_timeout_, interrupt_,
        fmt::format("cannot reach Kafka for topic '{}'", topic_name_));
    if (!metadata) {
      // Later calls fail at once with the same reason instead of waiting
      // again: the time a publish takes must not grow with its batches.
      gave_up_ = true;
      give_up_reason_ = metadata.error().message;
      call.outer = std::move(metadata.error());
      return;
    }
    rd_kafka_metadata_destroy(*metadata);
  }
  const std::chrono::milliseconds flush_timeout = flush_timeout_;
  call.first = next_sequence_;
  next_sequence_ += requests.size();
  // What a record that was queued and never answered is told: it may have
  // reached a broker.
  call.results.assign(
      requests.size(),
      std::unexpected(Error{ErrorCode::kUnknownOutcome,
                            fmt::format("no delivery report from Kafka within {} ms: the record "
                                        "may be in topic '{}' or not",
                                        flush_timeout.count(), topic_name_)}));
  call.reported.assign(requests.size(), false);
  call.unreported = requests.size();
  // Records of this call that will get no delivery report (never queued).
  auto settle = [&call](size_t i, Result<engine::LogPosition> result) {
    call.reported[i] = true;
    --call.unreported;
    call.results[i] = std::move(result);
  };

  const std::string schema_version = std::to_string(events::kSchemaVersion);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (gave_up_) {
      settle(i, std::unexpected(given_up_error()));  // not queued: not in the topic
      continue;
    }
    const engine::AppendRequest& request = requests[i];
    const std::string_view type_name = events::to_string(request.type);
    // Set when the queue is first found full: reading the clock for every
    // record showed in profiles.
    std::optional<Clock::time_point> give_up;
    int64_t reports_at_last_progress = reports_seen_;
    for (;;) {
      // RD_KAFKA_MSG_F_COPY: the request's bytes are copied into librdkafka's
      // queue, whose size is bounded by queue.buffering.max.*.
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_, RD_KAFKA_V_RKT(topic_), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(const_cast<char*>(request.key.data()), request.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(request.value.data()), request.value.size()),
          RD_KAFKA_V_HEADER("homeward.type", type_name.data(),
                            static_cast<ssize_t>(type_name.size())),
          RD_KAFKA_V_HEADER("homeward.schema_version", schema_version.data(),
                            static_cast<ssize_t>(schema_version.size())),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(call.first + i))),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        // Bounded memory: serve delivery reports until there is room. Each
        // report frees room, so only a queue that makes no progress for a
        // whole flush timeout gives up (librdkafka fails records after
        // message.timeout.ms, so that takes a broken client).
        if (!give_up) give_up = Clock::now() + flush_timeout;
        rd_kafka_poll(producer_, kQueueFullPollMs);
        give_up_after_timeout();
        if (gave_up_) {
          settle(i, std::unexpected(given_up_error()));
          break;
        }
        if (reports_seen_ != reports_at_last_progress) {
          reports_at_last_progress = reports_seen_;
          give_up = Clock::now() + flush_timeout;
        } else if (Clock::now() >= *give_up) {
          settle(i, make_error(ErrorCode::kUnavailable,
                               fmt::format("Kafka producer queue stayed full for {} ms",
                                           flush_timeout.count())));
          break;
        }
        continue;
      }
      // Not queued (too large, unknown partition, fatal client error): no
      // delivery report will come for it.
      std::string detail;
      if (err == RD_KAFKA_RESP_ERR__FATAL) detail = fatal_reason(producer_);
      settle(i, std::unexpected(kafka_detail::to_error(
                    err, fmt::format("Kafka did not accept the record for topic '{}'", topic_name_),
                    detail)));
      break;
    }
    // Serve delivery reports as they come so the queue keeps draining; every
    // so many records, since a poll per record showed in profiles.
    if (i % kPollEveryRecords == kPollEveryRecords - 1) {
      rd_kafka_poll(producer_, 0);
      give_up_after_timeout();
    }
  }
  rd_kafka_poll(producer_, 0);
  give_up_after_timeout();
  call.deadline = Clock::now() + flush_timeout;
}

Result<std::vector<Result<engine::LogPosition>>> KafkaAppender::finish_append() {
  HOMEWARD_CHECK(!calls_.empty(), "finish_append without a started append");
  Call& call = calls_.front();
  // Whatever happens below, the call is over once this returns.
  struct PopFront {
    std::deque<Call>& calls;
    ~PopFront() { calls.pop_front(); }
  } pop{calls_};
  if (call.outer) return std::unexpected(std::move(*call.outer));

  while (call.unreported > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(call.deadline - Clock::now());
    if (left.count() <= 0) break;
    if (calls_.size() == 1) {
      // Nothing started after this call: rd_kafka_flush sends what lingers
      // at once, serves the callbacks and returns once the queue is empty.
      // In slices, so that a timed-out record makes the rest give up.
      if (rd_kafka_flush(producer_, std::min(timeout_ms(left), kFlushSliceMs)) ==
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_poll(producer_, 0);
        break;
      }
    } else {
      // A later call's records are queued behind this call's: wait for this
      // call's reports only, as they come, while those are sent.
      rd_kafka_poll(producer_, std::min(timeout_ms(left), kQueueFullPollMs));
    }
    give_up_after_timeout();
  }
  if (delivered_since_noted_) {
    events_->note_reached();
    delivered_since_noted_ = false;
  }
  if (call.unreported > 0) {
    spdlog::warn(
        "kafka: {} of {} records had no delivery report within {} ms; reported unknown (they "
        "may be in the topic)",
        call.unreported, call.results.size(), flush_timeout_.count());
  }
  return std::move(call.results);
}

// ------------------------------------------------------------------ reader

Result<std::unique_ptr<KafkaReader>> KafkaReader::open(const KafkaOptions& options) {
  if (options.topic.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the Kafka topic name is empty");
  }
  KafkaProperties defaults = consumer_defaults();
  defaults.emplace_back("group.id", options.group_id);
  std::unique_ptr<KafkaReader> reader(new KafkaReader(options));
  auto conf = kafka_detail::make_conf(options, defaults, kConsumerFixed, *reader->events_);
  if (!conf) return std::unexpected(std::move(conf.error()));
  rd_kafka_conf_set_offset_commit_cb(conf->get(), on_commit);

  auto client = kafka_detail::new_client(RD_KAFKA_CONSUMER, std::move(*conf), "consumer");
  if (!client) return std::unexpected(std::move(client.error()));
  reader->consumer_ = *client;
  reader->topic_ = rd_kafka_topic_new(reader->consumer_, options.topic.c_str(), nullptr);
  if (reader->topic_ == nullptr) {
    return std::unexpected(kafka_detail::to_error(
        rd_kafka_last_error(), fmt::format("cannot use Kafka topic '{}'", options.topic)));
  }
  return reader;
}

KafkaReader::KafkaReader(KafkaOptions options)
    : options_(std::move(options)), events_(std::make_unique<kafka_detail::ClientEvents>()) {}

KafkaReader::~KafkaReader() {
  if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
  if (consumer_ != nullptr) {
    // No group membership (manual assignment): closing only stops fetchers.
    const rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer_);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::info("kafka: closing the consumer: {}", rd_kafka_err2str(err));
    }
    rd_kafka_destroy(consumer_);
  }
}

Status KafkaReader::wait_for_brokers() {
  auto metadata = kafka_detail::wait_for_metadata(
      consumer_, topic_, *events_, options_.request_timeout, options_.interrupt,
      fmt::format("cannot read the metadata of Kafka topic '{}'", options_.topic));
  if (!metadata) return std::unexpected(std::move(metadata.error()));
  rd_kafka_metadata_destroy(*metadata);
  return {};
}

Result<int32_t> KafkaReader::partition_count() {
  auto raw = kafka_detail::wait_for_metadata(
      consumer_, topic_, *events_, options_.request_timeout, options_.interrupt,
      fmt::format("cannot read the metadata of Kafka topic '{}'", options_.topic));
  if (!raw) return std::unexpected(std::move(raw.error()));
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> metadata(*raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (options_.topic != topic.topic) continue;
    if (topic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        (topic.err == RD_KAFKA_RESP_ERR_NO_ERROR && topic.partition_cnt == 0)) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("Kafka topic '{}' does not exist (Homeward never creates it: "
                                    "see docs/kafka.md for its settings)",
                                    options_.topic));
    }
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR && topic.partition_cnt == 0) {
      return std::unexpected(kafka_detail::to_error(
          topic.err, fmt::format("Kafka topic '{}' is not available", options_.topic)));
    }
    return topic.partition_cnt;
  }
  return make_error(
      ErrorCode::kNotFound,
      fmt::format("the Kafka brokers returned no metadata for topic '{}'", options_.topic));
}

Status KafkaReader::check_start(Partition partition, Offset wanted) {
  int64_t low = 0;
  int64_t high = 0;
  auto err = watermarks(consumer_, *events_, options_, partition, low, high);
  if (!err) return std::unexpected(std::move(err.error()));
  if (*err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(kafka_detail::to_error(
        *err, fmt::format("cannot read the offsets of Kafka topic '{}' partition {}",
                          options_.topic, partition.value())));
  }
  if (wanted.value() < low) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("Kafka topic '{}' partition {} now starts at offset {}, but the next "
                    "record to project is at offset {}: records {} to {} were deleted (by "
                    "retention?) before they were projected. The topic needs retention.ms=-1 "
                    "(docs/kafka.md); these events cannot be recovered from it",
                    options_.topic, partition.value(), low, wanted.value(), wanted.value(),
                    low - 1));
  }
  if (wanted.value() > high) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("Kafka topic '{}' partition {} ends at offset {}, but the projections "
                    "were made up to offset {}: is this the topic they were made from, or was "
                    "it deleted and re-created? (rebuild the projections from the topic)",
                    options_.topic, partition.value(), high, wanted.value()));
  }
  return {};
}

Status KafkaReader::assign() {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(positions_.size())));
  for (const auto& [partition, offset] : positions_) {
    rd_kafka_topic_partition_t* entry =
        rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition.value());
    entry->offset = offset.value();
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(kafka_detail::to_error(
        err, fmt::format("cannot assign the partitions of Kafka topic '{}'", options_.topic)));
  }
  return {};
}

Status KafkaReader::seek(const engine::OffsetMap& next_offsets) {
  auto count = partition_count();
  if (!count) return std::unexpected(std::move(count.error()));
  for (const auto& [partition, offset] : next_offsets) {
    if (partition.value() < 0 || partition.value() >= *count) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("the projections were made from partition {} but Kafka "
                                    "topic '{}' has only {} partitions: is it the right topic?",
                                    partition.value(), options_.topic, *count));
    }
  }
  engine::OffsetMap wanted;
  for (int32_t p = 0; p < *count; ++p) {
    const Partition partition{p};
    const auto it = next_offsets.find(partition);
    wanted.emplace(partition, it == next_offsets.end() ? Offset{0} : it->second);
  }
  if (sought_ && wanted == positions_) {
    // Already there (a --follow loop seeks before every catch-up): keep the
    // fetchers and their prefetched records.
    commit_projected(wanted);
    next_refresh_ = Clock::now() + options_.metadata_refresh;
    return {};
  }
  for (const auto& [partition, offset] : wanted) {
    if (auto checked = check_start(partition, offset); !checked) return checked;
  }
  positions_ = std::move(wanted);
  if (auto assigned = assign(); !assigned) return assigned;
  sought_ = true;
  next_refresh_ = Clock::now() + options_.metadata_refresh;
  // The positions come from the store: they are what was projected.
  commit_projected(positions_);
  return {};
}

Status KafkaReader::refresh_partitions() {
  next_refresh_ = Clock::now() + options_.metadata_refresh;
  auto count = partition_count();
  if (!count) return std::unexpected(std::move(count.error()));
  bool added = false;
  for (int32_t p = 0; p < *count; ++p) {
    const Partition partition{p};
    if (positions_.contains(partition)) continue;
    if (auto checked = check_start(partition, Offset{0}); !checked) return checked;
    positions_.emplace(partition, Offset{0});
    added = true;
    spdlog::info("kafka: topic '{}' has a new partition {}; reading it from offset 0",
                 options_.topic, p);
  }
  if (added) return assign();
  return {};
}

Status KafkaReader::read(size_t max_records, std::chrono::milliseconds wait,
                         engine::RecordBatch& batch) {
  batch.records.clear();
  batch.skipped_to.clear();
  if (kafka_detail::interrupted(options_.interrupt)) {
    return std::unexpected(
        kafka_detail::interrupted_error(fmt::format("reading Kafka topic '{}'", options_.topic)));
  }
  // Error events (a broker down) and commit results come on the main queue.
  rd_kafka_poll(consumer_, 0);
  if (!sought_) {
    if (auto sought = seek({}); !sought) return sought;
  }
  // The projector reads again only after it committed what it read before.
  commit_projected(positions_);
  if (Clock::now() >= next_refresh_) {
    if (auto refreshed = refresh_partitions(); !refreshed) return refreshed;
  }
  if (max_records == 0) return {};

  const Clock::time_point deadline = Clock::now() + wait;
  while (batch.records.size() < max_records) {
    // Wait only for the first record (or position); then take what is
    // already there.
    const bool got_something = !batch.records.empty() || !batch.skipped_to.empty();
    int poll_ms = 0;
    if (!got_something) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      poll_ms = timeout_ms(left);
    }
    MessagePtr message(rd_kafka_consumer_poll(consumer_, std::min(poll_ms, kInterruptCheckMs)));
    if (message == nullptr) {
      if (got_something || Clock::now() >= deadline ||
          kafka_detail::interrupted(options_.interrupt)) {
        break;
      }
      continue;
    }
    const Partition partition{message->partition};
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const rd_kafka_resp_err_t err = message->err;
      const std::string detail = rd_kafka_message_errstr(message.get());
      if (err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        const auto it = positions_.find(partition);
        return make_error(
            ErrorCode::kNotFound,
            fmt::format("Kafka topic '{}' partition {} no longer holds offset {} (deleted by "
                        "retention?); it is never skipped: {}",
                        options_.topic, partition.value(),
                        it == positions_.end() ? -1 : it->second.value(), detail));
      }
      if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // The fetch position reached the end of what the partition holds
        // for this consumer (under read_committed, its last stable offset),
        // and every record before it came before this event. Offsets between
        // the last record and it hold none: transaction markers, records of
        // aborted transactions, records removed by compaction.
        const auto it = positions_.find(partition);
        if (it != positions_.end() && message->offset > it->second.value()) {
          it->second = Offset{message->offset};
          batch.skipped_to[partition] = it->second;
        }
        continue;
      }
      if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
          kafka_detail::classify(err) == ErrorCode::kUnavailable) {
        // librdkafka reconnects and retries by itself.
        spdlog::warn("kafka: reading topic '{}': {}", options_.topic, detail);
        continue;
      }
      return std::unexpected(
          kafka_detail::to_error(err,
                                 fmt::format("cannot read Kafka topic '{}' partition {}",
                                             options_.topic, partition.value()),
                                 detail));
    }
    const auto it = positions_.find(partition);
    if (it == positions_.end()) {
      spdlog::warn("kafka: ignoring a record of partition {}, which is not assigned",
                   partition.value());
      continue;
    }
    if (message->offset < it->second.value()) {
      // Fetched again after a re-assignment: it was already returned.
      continue;
    }
    engine::LogRecord& record = batch.records.emplace_back();
    record.partition = partition;
    record.offset = Offset{message->offset};
    if (message->key != nullptr) {
      record.key.assign(static_cast<const char*>(message->key), message->key_len);
    }
    if (message->payload != nullptr) {
      record.value.assign(static_cast<const char*>(message->payload), message->len);
    }
    it->second = Offset{message->offset + 1};
  }
  if (!batch.records.empty()) events_->note_reached();
  return {};
}

Result<engine::OffsetMap> KafkaReader::end_offsets() {
  if (!sought_) {
    if (auto sought = seek({}); !sought) return std::unexpected(std::move(sought.error()));
  } else if (auto refreshed = refresh_partitions(); !refreshed) {
    return std::unexpected(std::move(refreshed.error()));
  }
  engine::OffsetMap ends;
  for (const auto& [partition, position] : positions_) {
    int64_t low = 0;
    int64_t high = 0;
    auto err = watermarks(consumer_, *events_, options_, partition, low, high);
    if (!err) return std::unexpected(std::move(err.error()));
    if (*err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::unexpected(kafka_detail::to_error(
          *err, fmt::format("cannot read the end offset of Kafka topic '{}' partition {}",
                            options_.topic, partition.value())));
    }
    ends.emplace(partition, Offset{high});
  }
  return ends;
}

Result<std::string> KafkaReader::cluster_id() {
  // The id comes with the metadata: once a broker answered, it is cached.
  if (auto reached = wait_for_brokers(); !reached) return std::unexpected(reached.error());
  char* id = rd_kafka_clusterid(consumer_, timeout_ms(options_.request_timeout));
  if (id == nullptr) {
    return make_error(
        ErrorCode::kUnavailable,
        fmt::format("cannot read the Kafka cluster id from {} within {} ms (the "
                    "brokers cannot be reached, or are older than Kafka 0.10)",
                    options_.brokers.empty() ? "the bootstrap servers" : options_.brokers,
                    options_.request_timeout.count()));
  }
  std::string result(id);
  rd_kafka_mem_free(consumer_, id);
  return result;
}

void KafkaReader::commit_projected(const engine::OffsetMap& next_offsets) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [partition, offset] : next_offsets) {
    const auto it = committed_.find(partition);
    if (it != committed_.end() && it->second == offset) continue;
    rd_kafka_topic_partition_t* entry =
        rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition.value());
    entry->offset = offset.value();
  }
  if (list->cnt == 0) return;
  const rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list.get(), 1 /* async */);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::info("kafka: committing group offsets (information only) failed: {}",
                 rd_kafka_err2str(err));
    return;
  }
  for (const auto& [partition, offset] : next_offsets) committed_[partition] = offset;
}

}  // namespace homeward::connectors
