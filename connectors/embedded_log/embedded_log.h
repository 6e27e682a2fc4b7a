// The embedded event log: a durable, single-partition log in RocksDB, the
// default when no Kafka is named (DESIGN: "the embedded log is for a single
// machine and for trying it out").
//
// Keys are offsets (8 bytes big-endian), values the FlatBuffers bytes of one
// event, exactly as a Kafka record value would be. Each `append` call is
// atomic and durable when it returns: a small one is one synced WriteBatch
// (WAL on), a large one SST files that RocksDB ingests in one manifest edit.
//
// Processes: one writer at a time (engine::WriterLock; a second writer gets
// kBusy naming the first), any number of readers beside it. A reader opens
// the log as a RocksDB secondary instance: it takes no lock, writes nothing
// into the log's directory (so a read-only copy can be read), and sees the
// writer's appends whenever it reaches the end it knew (refresh_end).
//
// A log is never created by accident: only kCreateIfMissing creates one, and
// only where there is no directory yet (or one holding nothing but a writer
// lock). A directory with files but no CURRENT, or an empty one (an unmounted
// volume?), is an error that names what is missing: RocksDB would otherwise
// start a new, empty log over it and delete the old files as obsolete.
//
// Threads: the appender side (append, start_append/finish_append) and the
// reader side (seek, read, end_offsets) have separate state, so one thread
// may append while another reads (`homeward serve`: HTTP publishes beside
// the projector). Each side is used by one thread at a time. The end of the
// log is published by the appender after RocksDB has made an append durable
// and visible, so a reader sees every record below end_offsets() whole.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "engine/event_log.h"
#include "engine/scratch_dir.h"
#include "engine/writer_lock.h"
#include "events/error.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Iterator;
}  // namespace rocksdb

namespace homeward::connectors {

enum class EmbeddedLogMode {
  kCreateIfMissing,  // a writer that may start a new log (publish into a new data directory)
  kWrite,            // a writer of an existing log
  kRead,             // a reader beside any writer; append is refused
};

class EmbeddedLog final : public engine::EventLogReader, public engine::EventLogAppender {
 public:
  // `holder` names the writer in its lock ("homeward publish"), for the
  // message a second writer gets.
  [[nodiscard]] static Result<std::unique_ptr<EmbeddedLog>> open(
      const std::filesystem::path& dir, EmbeddedLogMode mode = EmbeddedLogMode::kCreateIfMissing,
      std::string_view holder = "homeward");
  ~EmbeddedLog() override;
  EmbeddedLog(const EmbeddedLog&) = delete;
  EmbeddedLog& operator=(const EmbeddedLog&) = delete;

  // engine::EventLogAppender
  [[nodiscard]] Result<std::vector<Result<engine::LogPosition>>> append(
      std::span<const engine::AppendRequest> requests) override;
  // Large appends are ingested as files (see append), which costs a few
  // syncs per call: they pay off from about this many records on.
  [[nodiscard]] size_t preferred_batch_events() const override { return kPreferredBatchEvents; }
  static constexpr size_t kPreferredBatchEvents = 100'000;
  // Appends of at least this many records are written as SST files that
  // RocksDB ingests; smaller ones as a synced WriteBatch through the WAL. An
  // ingestion syncs four times (two files, the directory, the manifest)
  // where the WAL syncs once, and on the development VM it overtakes the WAL
  // between 10,000 records (slower) and 25,000 (faster; bench/README.md).
  static constexpr size_t kIngestMinRecords = 16'384;

  // engine::EventLogReader (partition 0 only)
  [[nodiscard]] Status seek(const engine::OffsetMap& next_offsets) override;
  [[nodiscard]] Status read(size_t max_records, std::chrono::milliseconds wait,
                            engine::RecordBatch& batch) override;
  [[nodiscard]] Result<engine::OffsetMap> end_offsets() override;

  // RocksDB's id of this log, made when it was created and kept by copies:
  // what a projection store records to know which log it was built from.
  [[nodiscard]] Result<std::string> identity() const;
  // Reads every block of every table file of the log and checks its
  // checksum (RocksDB's VerifyChecksum; secondaries too): kCorruption naming
  // the file and offset of the first bad block. For the audit: a damaged
  // block is a finding even where no replay reads it (a compacted file whose
  // records live on elsewhere) or the figures survive.
  [[nodiscard]] Status verify_checksums();
  [[nodiscard]] bool is_reader() const { return mode_ == EmbeddedLogMode::kRead; }

 private:
  EmbeddedLog() = default;
  // A reader: catches up with the writer's appends and moves end_offset_.
  [[nodiscard]] Status refresh_end();
  // Sets end_offset_ from the last record in the database.
  [[nodiscard]] Status find_end();
  // The two ways to write one append; both write all of it or nothing.
  [[nodiscard]] Status write_batch(std::span<const engine::AppendRequest> requests);
  [[nodiscard]] Status ingest(std::span<const engine::AppendRequest> requests);

  // RocksDB's DB is thread-safe; every other member belongs to one side.
  EmbeddedLogMode mode_ = EmbeddedLogMode::kWrite;
  // A writer's lock, held until the database is closed (declared first:
  // destroyed last). A reader's scratch directory for RocksDB's own files.
  std::unique_ptr<engine::WriterLock> lock_;
  std::unique_ptr<engine::ScratchDir> secondary_dir_;
  std::filesystem::path dir_;
  std::unique_ptr<rocksdb::DB> db_;
  // Record keys (the case_id for Homeward's own records) live in their own
  // column family under the same offset key, so that the default column
  // family holds exactly the event bytes. Owned here, destroyed before db_.
  rocksdb::ColumnFamilyHandle* keys_cf_ = nullptr;
  // One past the last durable record: stored (release) by the appender
  // after each append, loaded (acquire) by the reader, so that what a reader
  // sees below it is written.
  std::atomic<int64_t> end_offset_{0};
  // Appender side.
  bool appended_ = false;             // since open: the destructor then flushes
  std::filesystem::path ingest_dir_;  // files of large appends before ingestion
  uint64_t ingests_ = 0;              // names those files
  // Reader side.
  Offset next_read_offset_;
};

}  // namespace homeward::connectors
