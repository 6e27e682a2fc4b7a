// The EventLog port on a Kafka topic (librdkafka), for production: portal
// services publish to the topic and every projector reads all of it.
//
// Topic contract (docs/kafka.md): key = case_id, so each case stays in one
// partition and keeps its order; value = the FlatBuffers bytes of one event;
// headers `homeward.type` (SPEC type name) and `homeward.schema_version`
// (events::kSchemaVersion in decimal).
//
// KafkaAppender is an idempotent producer (`enable.idempotence=true`,
// `acks=all`). `append` (and `finish_append` for a pipelined one) returns
// only once every record has an answer: a position; an error when it is
// certainly not in the topic (never sent, or refused); or kUnknownOutcome
// when it was sent and no answer came (it may be there). After one record
// went unanswered for message.timeout.ms, the producer purges what waits
// and sends nothing more (it must be replaced), so that a publish against
// brokers that are gone ends in about that long in total. With pipelined appends the next batch is
// queued while the reports of the one before are on their way, so that the producer is not idle for
// a linger and a round trip per batch. Memory is bounded: when librdkafka's local queue is full,
// appending serves delivery reports and waits instead of growing it.
//
// KafkaReader assigns every partition of the topic to itself (no group
// rebalancing), starting where `seek` says; it picks up partitions added
// later. A wanted offset that the topic no longer holds (retention deleted
// it) is an error, never skipped. It commits consumer-group offsets only as
// information for monitoring tools, never reads them back: the projection
// store's own positions are the truth (DESIGN decision 2).
//
// Neither class knows whether it talks to a real cluster or to the mock.
// Ownership: each object owns its librdkafka handle. Threads: each object is
// used by one thread at a time (librdkafka's own threads stay inside it).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_config.h"
#include "engine/event_log.h"
#include "events/error.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_message_s;

namespace homeward::connectors {
namespace kafka_detail {
class ClientEvents;
}  // namespace kafka_detail

class KafkaAppender final : public engine::EventLogAppender {
 public:
  // Creates the producer. Fails on a property librdkafka rejects, or one that
  // would break Homeward's guarantees. Brokers are contacted lazily.
  [[nodiscard]] static Result<std::unique_ptr<KafkaAppender>> open(const KafkaOptions& options);
  // Waits up to the flush timeout for records still in flight (they belong to
  // an append that already reported them failed) and logs what it sees.
  ~KafkaAppender() override;
  KafkaAppender(const KafkaAppender&) = delete;
  KafkaAppender& operator=(const KafkaAppender&) = delete;

  // engine::EventLogAppender. The outer error is for a producer that hit a
  // fatal error earlier (it must be replaced); per-record failures carry the
  // broker's or librdkafka's reason.
  [[nodiscard]] Result<std::vector<Result<engine::LogPosition>>> append(
      std::span<const engine::AppendRequest> requests) override;
  // Pipelined: start_append queues the records (waiting only when the local
  // queue is full) and returns; finish_append waits for the oldest started
  // call's delivery reports, up to flush_timeout() after its last record was
  // queued. Records of a later call are being sent meanwhile.
  void start_append(std::span<const engine::AppendRequest> requests) override;
  [[nodiscard]] Result<std::vector<Result<engine::LogPosition>>> finish_append() override;

  // The producer properties Homeward sets when the user's properties do not
  // override them, its fixed ones included, in librdkafka's names: what
  // another producer needs to do exactly Homeward's job (the benchmark's
  // kcat baseline).
  [[nodiscard]] static KafkaProperties default_settings();

  // How long `append` waits for delivery reports after the last record was
  // queued: librdkafka's `message.timeout.ms` plus a margin, so that
  // librdkafka itself fails a record before Homeward gives up on it.
  [[nodiscard]] std::chrono::milliseconds flush_timeout() const { return flush_timeout_; }

 private:
  using Clock = std::chrono::steady_clock;
  // One started append. Its records have the sequence numbers [first, first
  // + results.size()) as their librdkafka opaque; `unreported` counts the
  // false entries of `reported`.
  struct Call {
    uint64_t first = 0;
    std::vector<Result<engine::LogPosition>> results;
    std::vector<bool> reported;
    size_t unreported = 0;
    Clock::time_point deadline;  // flush_timeout() after its last record was queued
    std::optional<Error> outer;  // the producer was unusable: nothing was queued
  };

  KafkaAppender();
  static void on_delivery(rd_kafka_s* producer, const rd_kafka_message_s* message, void* opaque);
  void handle_delivery(const rd_kafka_message_s& message);
  // After a record timed out: purges what is queued and in flight (each gets
  // its report now) and refuses later records (given_up_error).
  void give_up_after_timeout();
  [[nodiscard]] Error given_up_error() const;

  // The client's error events (its opaque): the destructor's body destroys
  // the client, so this outlives it.
  std::unique_ptr<kafka_detail::ClientEvents> events_;
  rd_kafka_s* producer_ = nullptr;
  rd_kafka_topic_s* topic_ = nullptr;
  std::string topic_name_;
  std::chrono::milliseconds request_timeout_{0};
  const std::atomic<bool>* interrupt_ = nullptr;
  std::chrono::milliseconds flush_timeout_{0};
  uint64_t next_sequence_ = 0;
  // Started and not yet finished, oldest first. A report for a sequence
  // number outside all of them is from an append that already gave up.
  std::deque<Call> calls_;
  int64_t reports_seen_ = 0;
  bool delivered_since_noted_ = false;  // a record was acknowledged since the last note_reached
  // A record's delivery timed out (message.timeout.ms). gave_up_ once
  // give_up_after_timeout ran, or the brokers were never reached: nothing
  // more is sent, and give_up_reason_ says why.
  bool timed_out_ = false;
  bool gave_up_ = false;
  std::string give_up_reason_;
};

class KafkaReader final : public engine::EventLogReader {
 public:
  // Creates the consumer (group `options.group_id`, offsets never read back).
  [[nodiscard]] static Result<std::unique_ptr<KafkaReader>> open(const KafkaOptions& options);
  ~KafkaReader() override;
  KafkaReader(const KafkaReader&) = delete;
  KafkaReader& operator=(const KafkaReader&) = delete;

  // engine::EventLogReader.
  // `seek` reads the topic's partitions; kNotFound when the topic does not
  // exist, or when a wanted offset is below a partition's low watermark
  // (deleted); kInvalidArgument when a wanted offset is past the end or names
  // a partition the topic does not have (a different or re-created topic).
  // Partitions not named must still start at offset 0.
  [[nodiscard]] Status seek(const engine::OffsetMap& next_offsets) override;
  // Commits (asynchronously, as information) the positions returned by the
  // previous `read`: the projector calls `read` again only after it stored
  // the previous batch. Then polls up to `max_records`, waiting up to `wait`
  // for the first one.
  [[nodiscard]] Status read(size_t max_records, std::chrono::milliseconds wait,
                            engine::RecordBatch& batch) override;
  // High watermarks of every partition (new partitions are assigned too).
  [[nodiscard]] Result<engine::OffsetMap> end_offsets() override;

  // Commits `next_offsets` to the consumer group asynchronously, for
  // monitoring tools (e.g. after a catch-up, with the store's positions).
  // Failures are logged, never fatal: the group's offsets are not the truth.
  void commit_projected(const engine::OffsetMap& next_offsets);

  // Waits until a broker answers, up to `request_timeout`: kUnavailable at
  // once when librdkafka reports every broker down before any answered
  // (nothing listens there, the name does not resolve), so that a command
  // says so within seconds instead of waiting for timeouts.
  [[nodiscard]] Status wait_for_brokers();

  // The id of the Kafka cluster the brokers belong to (Metadata v2+, Kafka
  // 0.10 and later), e.g. to bind a projection store to the cluster and topic
  // it was built from. Waits up to `request_timeout` for the brokers;
  // kUnavailable when they cannot be reached or do not say.
  [[nodiscard]] Result<std::string> cluster_id();

 private:
  explicit KafkaReader(KafkaOptions options);
  // Reads the topic's metadata; partitions not yet assigned are assigned
  // from offset 0 (after checking that offset 0 still exists).
  [[nodiscard]] Status refresh_partitions();
  [[nodiscard]] Result<int32_t> partition_count();
  [[nodiscard]] Status check_start(Partition partition, Offset wanted);
  [[nodiscard]] Status assign();

  KafkaOptions options_;
  std::unique_ptr<kafka_detail::ClientEvents> events_;  // the client's opaque (see the appender)
  rd_kafka_s* consumer_ = nullptr;
  rd_kafka_topic_s* topic_ = nullptr;
  bool sought_ = false;
  engine::OffsetMap positions_;  // next offset to return, per assigned partition
  engine::OffsetMap committed_;  // what was last committed to the group
  std::chrono::steady_clock::time_point next_refresh_{};
};

}  // namespace homeward::connectors
