// The embedded event log: a durable, single-partition log in RocksDB, the
// default when no Kafka is named (DESIGN: "the embedded log is for a single
// machine and for trying it out").
//
// Keys are offsets (8 bytes big-endian), values the FlatBuffers bytes of one
// event, exactly as a Kafka record value would be. The WAL is on and each
// `append` call is one synced WriteBatch: when it returns, the events survive
// a crash. One process at a time (RocksDB's LOCK; a second gets kBusy). An
// EmbeddedLog is used by one thread at a time.
#pragma once

#include <filesystem>
#include <memory>

#include "engine/event_log.h"
#include "events/error.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
}  // namespace rocksdb

namespace homeward::connectors {

class EmbeddedLog final : public engine::EventLogReader, public engine::EventLogAppender {
 public:
  [[nodiscard]] static Result<std::unique_ptr<EmbeddedLog>> open(const std::filesystem::path& dir);
  ~EmbeddedLog() override;
  EmbeddedLog(const EmbeddedLog&) = delete;
  EmbeddedLog& operator=(const EmbeddedLog&) = delete;

  // engine::EventLogAppender
  [[nodiscard]] Result<std::vector<Result<engine::LogPosition>>> append(
      std::span<const engine::AppendRequest> requests) override;

  // engine::EventLogReader (partition 0 only)
  [[nodiscard]] Status seek(const engine::OffsetMap& next_offsets) override;
  [[nodiscard]] Status read(size_t max_records, std::chrono::milliseconds wait,
                            engine::RecordBatch& batch) override;
  [[nodiscard]] Result<engine::OffsetMap> end_offsets() override;

 private:
  EmbeddedLog() = default;
  std::unique_ptr<rocksdb::DB> db_;
  // Record keys (the case_id for Homeward's own records) live in their own
  // column family under the same offset key, so that the default column
  // family holds exactly the event bytes. Owned here, destroyed before db_.
  rocksdb::ColumnFamilyHandle* keys_cf_ = nullptr;
  Offset next_append_offset_;
  bool appended_ = false;  // since open: the destructor then flushes
  Offset next_read_offset_;
};

}  // namespace homeward::connectors
