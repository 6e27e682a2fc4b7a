// The EventLog port: where events are appended and read back.
//
// Two implementations live in connectors/: the embedded log (RocksDB, one
// partition) and Kafka (a topic with any number of partitions). The engine
// knows only this interface. A record's position is (partition, offset);
// within a partition offsets only grow, and every event of one case is in one
// partition (the record key is the case_id), so reading each partition in
// order keeps each case's order. Implementations are not required to be
// thread-safe: each reader or appender is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "events/check.h"
#include "events/error.h"
#include "events/event.h"
#include "events/strong_int.h"

namespace homeward::engine {

using OffsetMap = std::map<Partition, Offset>;

struct LogRecord {
  Partition partition;
  Offset offset;
  std::string key;    // the case_id for Homeward's own records; may be anything
  std::string value;  // FlatBuffers bytes; unverified until decoded
};

struct RecordBatch {
  std::vector<LogRecord> records;
  // Partitions whose read position moved past offsets that hold no record
  // for this reader (Kafka transaction markers, records of aborted
  // transactions, offsets removed by compaction): the next offset to read,
  // beyond every record of that partition in `records`. Without it a reader
  // could never reach end offsets whose last offsets are not records. Logs
  // without gaps leave it empty.
  OffsetMap skipped_to;
};

class EventLogReader {
 public:
  virtual ~EventLogReader() = default;

  // Positions the reader: partition p resumes at next_offsets[p], partitions
  // not named start at the beginning of the log. An offset that the log no
  // longer holds (deleted by retention) is an error, never skipped.
  [[nodiscard]] virtual Status seek(const OffsetMap& next_offsets) = 0;

  // Replaces batch.records (and batch.skipped_to) with up to `max_records`
  // records, waiting up to `wait` when none is ready (an empty batch then
  // means "nothing new"). Records of one partition come in offset order.
  [[nodiscard]] virtual Status read(size_t max_records, std::chrono::milliseconds wait,
                                    RecordBatch& batch) = 0;

  // For every partition, the offset one past its last record, as of now.
  [[nodiscard]] virtual Result<OffsetMap> end_offsets() = 0;
};

struct AppendRequest {
  std::string key;                                          // case_id
  std::string value;                                        // encoded event
  events::EventType type = events::EventType::kCaseOpened;  // for headers
};

struct LogPosition {
  Partition partition;
  Offset offset;
};

class EventLogAppender {
 public:
  virtual ~EventLogAppender() = default;

  // Appends the records in order and returns when every one is durable or has
  // failed: one entry per request, its position or the reason it failed. The
  // outer error is for failures before anything could be attempted.
  [[nodiscard]] virtual Result<std::vector<Result<LogPosition>>> append(
      std::span<const AppendRequest> requests) = 0;

  // How many records one append should carry for this log to be fast: every
  // append pays a fixed cost (a sync, or a linger and a round trip), and some
  // logs write large appends another way. A hint; any size works.
  [[nodiscard]] virtual size_t preferred_batch_events() const { return 10'000; }

  // Pipelined appending, for a caller that has its next batch ready before
  // the log has made the previous one durable (a Kafka producer then sends
  // one batch while the acknowledgements of the one before are on their way).
  // `start_append` hands over records that go after every record handed over
  // before; `finish_append` waits for the oldest started batch that has not
  // been finished and returns its answers exactly as `append` would have
  // (an outer error included). Every start is finished once, in order; the
  // requests must stay valid until their batch is finished. Appending through
  // `append` while batches are started is a programmer error.
  //
  // The default runs the whole append inside `start_append`: correct for any
  // log, pipelined for none.
  virtual void start_append(std::span<const AppendRequest> requests) {
    started_.push_back(append(requests));
  }
  [[nodiscard]] virtual Result<std::vector<Result<LogPosition>>> finish_append() {
    HOMEWARD_CHECK(!started_.empty(), "finish_append without a started append");
    auto answers = std::move(started_.front());
    started_.pop_front();
    return answers;
  }

 private:
  // The default pipelining's answers, oldest first.
  std::deque<Result<std::vector<Result<LogPosition>>>> started_;
};

}  // namespace homeward::engine
