// The embedded event log on RocksDB (see embedded_log.h).
//
// Layout: the default column family maps offset (8 bytes big-endian, so that
// RocksDB's bytewise order is offset order) to the event bytes; the "keys"
// column family maps the same offset to the record key when it is not empty.
// Offsets are dense: 0, 1, 2, ... with no gaps, because records are never
// deleted. A gap or a key of the wrong size is therefore corruption.
#include "connectors/embedded_log/embedded_log.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/status.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "engine/durable_file.h"
#include "events/check.h"
#include "projections/rocksdb_info_log.h"

namespace homeward::connectors {
namespace {

constexpr char kKeysColumnFamily[] = "keys";
constexpr size_t kOffsetKeySize = 8;
// Large sequential reads: the projector reads the log front to back in
// batches of thousands of records, so a big readahead turns them into few
// large file reads.
constexpr size_t kReadaheadBytes = 4 * 1024 * 1024;
constexpr size_t kBlockBytes = 16 * 1024;
constexpr Partition kOnlyPartition{0};
// Where those files are written before RocksDB links them in; inside the
// log's directory, so that the link stays on one file system.
constexpr char kIngestDir[] = "ingest";

using OffsetKey = std::array<char, kOffsetKeySize>;

OffsetKey encode_offset(Offset offset) {
  OffsetKey key{};
  auto value = static_cast<uint64_t>(offset.value());
  for (size_t i = 0; i < kOffsetKeySize; ++i) {
    key[kOffsetKeySize - 1 - i] = static_cast<char>(value & 0xffU);
    value >>= 8;
  }
  return key;
}

rocksdb::Slice as_slice(const OffsetKey& key) { return {key.data(), key.size()}; }

Result<Offset> decode_offset(const rocksdb::Slice& key) {
  if (key.size() != kOffsetKeySize) {
    return make_error(
        ErrorCode::kCorruption,
        fmt::format("embedded log: a key has {} bytes, expected {}", key.size(), kOffsetKeySize));
  }
  uint64_t value = 0;
  for (size_t i = 0; i < kOffsetKeySize; ++i) {
    value = (value << 8) | static_cast<uint8_t>(key.data()[i]);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("embedded log: offset {} is out of range", value));
  }
  return Offset{static_cast<int64_t>(value)};
}

Error to_error(const rocksdb::Status& status, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  if (status.IsCorruption()) code = ErrorCode::kCorruption;
  if (status.IsInvalidArgument() || status.IsNotSupported()) code = ErrorCode::kInternal;
  if (status.IsNoSpace()) code = ErrorCode::kNoSpace;
  return Error{code, fmt::format("embedded log: {}: {}", what, status.ToString())};
}

// Reads the `count` records from `first` on into batch.records, with one
// iterator per column family for the whole range.
Status read_range(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* keys_cf, Offset first,
                  int64_t count, engine::RecordBatch& batch) {
  const OffsetKey start = encode_offset(first);
  const OffsetKey end = encode_offset(Offset{first.value() + count});
  const rocksdb::Slice upper_bound = as_slice(end);
  rocksdb::ReadOptions read_options;
  read_options.readahead_size = kReadaheadBytes;
  read_options.iterate_upper_bound = &upper_bound;
  // A catch-up reads each record once: keep the block cache for hot data.
  read_options.fill_cache = false;

  std::unique_ptr<rocksdb::Iterator> values(db.NewIterator(read_options));
  std::unique_ptr<rocksdb::Iterator> keys(db.NewIterator(read_options, keys_cf));
  values->Seek(as_slice(start));
  keys->Seek(as_slice(start));

  // The records of the previous batch are overwritten in place, so that
  // their strings' buffers are reused instead of freed and allocated again.
  batch.records.resize(static_cast<size_t>(count));
  int64_t expected = first.value();
  for (; values->Valid(); values->Next(), ++expected) {
    auto offset = decode_offset(values->key());
    if (!offset) return std::unexpected(std::move(offset.error()));
    if (offset->value() != expected) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("embedded log: offset {} is missing (found {} instead)",
                                    expected, offset->value()));
    }
    HOMEWARD_CHECK(expected - first.value() < count, "RocksDB read past iterate_upper_bound");
    engine::LogRecord& record = batch.records[static_cast<size_t>(expected - first.value())];
    record.partition = kOnlyPartition;
    record.offset = *offset;
    record.value.assign(values->value().data(), values->value().size());
    record.key.clear();
    // Keys are sparse (empty keys are not stored); both families are in
    // offset order, so one forward pass over each lines them up.
    const rocksdb::Slice here = values->key();
    while (keys->Valid() && keys->key().compare(here) < 0) keys->Next();
    if (keys->Valid() && keys->key().compare(here) == 0) {
      record.key.assign(keys->value().data(), keys->value().size());
      keys->Next();
    }
  }
  if (!values->status().ok()) return std::unexpected(to_error(values->status(), "read failed"));
  if (!keys->status().ok()) {
    return std::unexpected(to_error(keys->status(), "read of record keys failed"));
  }
  if (expected != first.value() + count) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("embedded log: offsets {} to {} are missing", expected,
                                  first.value() + count - 1));
  }
  return {};
}

// What is in a log directory before anything opens it.
// kNew: nothing there yet but maybe a writer lock (a writer that died before
// RocksDB wrote anything). kCreationInterrupted: the creation marker and no
// CURRENT: a writer that was creating the log died before RocksDB finished
// (its files come a moment before CURRENT); nothing was ever appended. kEmpty: a directory with
// nothing in it, which only a caller starting a new log accepts (to the others it is a volume that
// did not mount, or a copy that lost its files). Anything else without CURRENT is refused: RocksDB
// would start an empty log over it and delete the old files as obsolete.
enum class DirState { kMissing, kEmpty, kNew, kCreationInterrupted, kDatabase };

// Written (and synced) by a writer before RocksDB creates the log, removed
// once CURRENT exists: files without CURRENT beside it are a creation that
// never finished, which the next creating writer may clear, not damage.
constexpr char kCreatingMarker[] = "HOMEWARD-CREATING";

// Clears what an interrupted creation left in `dir` (never an appended
// record: the creation had not returned), keeping the writer's lock.
Status clear_interrupted_creation(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == engine::kWriterLockFileName || name == kCreatingMarker) continue;
    std::filesystem::remove_all(entry.path(), ec);
    if (ec) break;
  }
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("embedded log: cannot clear the interrupted creation in {}: {}",
                                  dir.string(), ec.message()));
  }
  return {};
}

Result<DirState> inspect_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(dir, ec);
  if (status.type() == std::filesystem::file_type::not_found) return DirState::kMissing;
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("embedded log: cannot read {}: {}", dir.string(), ec.message()));
  }
  if (status.type() != std::filesystem::file_type::directory) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("embedded log: {} is not a directory", dir.string()));
  }
  if (std::filesystem::exists(dir / "CURRENT", ec)) return DirState::kDatabase;
  if (std::filesystem::exists(dir / kCreatingMarker, ec)) return DirState::kCreationInterrupted;
  if (engine::holds_only_writer_lock(dir)) return DirState::kNew;
  const bool empty = std::filesystem::is_empty(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("embedded log: cannot read {}: {}", dir.string(), ec.message()));
  }
  if (empty) return DirState::kEmpty;
  return make_error(ErrorCode::kCorruption,
                    fmt::format("embedded log: {} has files but no CURRENT (RocksDB's pointer to "
                                "its manifest): the log is damaged; restore CURRENT or the whole "
                                "directory from a backup. Nothing was changed in it",
                                dir.string()));
}

rocksdb::Options log_options() {
  rocksdb::Options options;
  options.create_missing_column_families = true;
  // No LOG file: its writer aborts the process on a full disk (rocksdb_info_log.h).
  projections::use_homeward_info_log(options);
  // Every append is synced before it is acknowledged, so only a torn last
  // record can be unacknowledged: that one is dropped, while damage inside
  // acknowledged records fails the open instead of silently cutting the log
  // there (RocksDB's default, point-in-time recovery, would).
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // The id travels in the manifest too, so that it survives with the data.
  options.write_dbid_to_manifest = true;
  // The log is written once and read front to back: LZ4 in 16 KiB blocks
  // instead of RocksDB's snappy in 4 KiB ones made a 1M-event log 53 MB
  // instead of 64 and its publish about a tenth cheaper in CPU, and the
  // replay no slower (bench/README.md, fourth round). Files written before
  // keep their snappy blocks and read as before: a block names its
  // compression.
  options.compression = rocksdb::kLZ4Compression;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = kBlockBytes;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

Error empty_log_dir(const std::filesystem::path& dir) {
  return Error{ErrorCode::kNotFound,
               fmt::format("embedded log: {} is empty, but a log was expected there (an "
                           "unmounted volume, or a copy that lost its files?); refusing to start "
                           "a new log over it",
                           dir.string())};
}

// What a reader finds in `dir`. A writer creating the log writes its first
// files a moment before CURRENT: a reader that comes in between looks again
// for a moment before it calls the directory damaged.
Result<DirState> inspect_dir_for_reading(const std::filesystem::path& dir) {
  auto state = inspect_dir(dir);
  for (int attempt = 0; !state && state.error().code == ErrorCode::kCorruption && attempt < 20;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    state = inspect_dir(dir);
  }
  return state;
}

}  // namespace

Result<std::unique_ptr<EmbeddedLog>> EmbeddedLog::open(const std::filesystem::path& dir,
                                                       EmbeddedLogMode mode,
                                                       std::string_view holder) {
  std::unique_ptr<engine::WriterLock> lock;
  Result<DirState> state = DirState::kMissing;
  if (mode == EmbeddedLogMode::kRead) {
    state = inspect_dir_for_reading(dir);
    if (!state) return std::unexpected(std::move(state.error()));
    if (*state == DirState::kEmpty) return std::unexpected(empty_log_dir(dir));
    if (*state != DirState::kDatabase) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("embedded log: there is no log in {}", dir.string()));
    }
  } else {
    // A writer looks only once it holds the lock: another writer may be
    // creating the log this very moment (its files before its CURRENT).
    std::error_code ec;
    if (mode == EmbeddedLogMode::kWrite && !std::filesystem::exists(dir, ec)) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("embedded log: there is no log in {}", dir.string()));
    }
    const bool was_empty =
        std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec);
    auto acquired = engine::WriterLock::acquire(dir, holder);
    if (!acquired) {
      Error error = std::move(acquired.error());
      error.message = fmt::format("embedded log: {}", error.message);
      return std::unexpected(std::move(error));
    }
    lock = std::move(*acquired);
    state = inspect_dir(dir);
    if (!state) return std::unexpected(std::move(state.error()));
    if (*state != DirState::kDatabase && mode == EmbeddedLogMode::kWrite) {
      // Only the lock file is there: this writer's (or a dead one's). Taken
      // back when the directory was empty, so that a refusal changes nothing.
      if (was_empty) std::filesystem::remove(dir / engine::kWriterLockFileName, ec);
      return std::unexpected(empty_log_dir(dir));
    }
  }

  std::unique_ptr<EmbeddedLog> log(new EmbeddedLog());
  log->mode_ = mode;
  log->dir_ = dir;
  rocksdb::Options options = log_options();
  rocksdb::Status status;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(options)},
      {kKeysColumnFamily, rocksdb::ColumnFamilyOptions(options)},
  };
  if (mode == EmbeddedLogMode::kRead) {
    // A secondary instance keeps every file open (RocksDB requires it), so
    // that the writer's compactions cannot pull a file from under it.
    options.max_open_files = -1;
    auto scratch = engine::ScratchDir::create("log-reader");
    if (!scratch) return std::unexpected(std::move(scratch.error()));
    log->secondary_dir_ = std::move(*scratch);
    status = rocksdb::DB::OpenAsSecondary(rocksdb::DBOptions(options), dir.string(),
                                          log->secondary_dir_->path().string(), families, &handles,
                                          &raw_db);
  } else {
    log->lock_ = std::move(lock);
    options.create_if_missing = *state != DirState::kDatabase;
    if (options.create_if_missing) {
      const auto marker = dir / kCreatingMarker;
      if (*state == DirState::kCreationInterrupted) {
        spdlog::warn(
            "embedded log: {} holds a creation that was interrupted before it finished "
            "(nothing was appended to it); starting it again",
            dir.string());
        if (auto cleared = clear_interrupted_creation(dir); !cleared) {
          return std::unexpected(std::move(cleared.error()));
        }
      }
      if (auto written = engine::write_file_durably(marker, "a homeward log is being created\n");
          !written) {
        return std::unexpected(std::move(written.error()));
      }
    }
    status =
        rocksdb::DB::Open(rocksdb::DBOptions(options), dir.string(), families, &handles, &raw_db);
    if (status.ok() && options.create_if_missing) {
      // CURRENT exists now: the marker has done its work. A removal lost in
      // a crash is harmless: CURRENT is looked at before the marker.
      std::error_code ec;
      std::filesystem::remove(dir / kCreatingMarker, ec);
    }
  }
  if (!status.ok()) {
    return std::unexpected(to_error(status, fmt::format("cannot open {}", dir.string())));
  }
  log->db_.reset(raw_db);
  HOMEWARD_CHECK(handles.size() == 2, "RocksDB opened a different number of column families");
  // The default family is used through DefaultColumnFamily(); the handle that
  // Open returned for it is not needed.
  const rocksdb::Status destroyed = log->db_->DestroyColumnFamilyHandle(handles[0]);
  HOMEWARD_CHECK(destroyed.ok(), "cannot release the default column family handle");
  log->keys_cf_ = handles[1];

  if (mode != EmbeddedLogMode::kRead) {
    // Files left here by a process that died before RocksDB ingested them
    // were never part of the log (their append never returned), and ingested
    // ones were linked into the database: either way they are only leftovers.
    std::error_code ec;
    log->ingest_dir_ = dir / kIngestDir;
    std::filesystem::remove_all(log->ingest_dir_, ec);
    if (!ec) std::filesystem::create_directories(log->ingest_dir_, ec);
    if (ec) {
      return make_error(ErrorCode::kIo, fmt::format("embedded log: cannot prepare {}: {}",
                                                    log->ingest_dir_.string(), ec.message()));
    }
  }
  if (auto found = log->find_end(); !found) return std::unexpected(std::move(found.error()));
  return log;
}

Status EmbeddedLog::find_end() {
  // The next offset is one past the last key; an empty log starts at 0.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToLast();
  if (it->Valid()) {
    auto last = decode_offset(it->key());
    if (!last) return std::unexpected(std::move(last.error()));
    end_offset_.store(last->value() + 1, std::memory_order_release);
  } else if (!it->status().ok()) {
    return std::unexpected(to_error(it->status(), "cannot find the end of the log"));
  }
  return {};
}

Status EmbeddedLog::refresh_end() {
  if (mode_ != EmbeddedLogMode::kRead) return {};
  const rocksdb::Status status = db_->TryCatchUpWithPrimary();
  if (!status.ok()) {
    return std::unexpected(to_error(status, "cannot catch up with the log's writer"));
  }
  return find_end();
}

Status EmbeddedLog::verify_checksums() {
  const rocksdb::Status status = db_->VerifyChecksum();
  if (!status.ok())
    return std::unexpected(to_error(status, "verifying the checksums of its files"));
  return {};
}

Result<std::string> EmbeddedLog::identity() const {
  std::string id;
  const rocksdb::Status status = db_->GetDbIdentity(id);
  if (!status.ok()) return std::unexpected(to_error(status, "cannot read the log's id"));
  if (id.empty()) {
    // RocksDB 7.8's secondary instances answer "" here: the id is read from
    // the IDENTITY file the primary wrote (the same id its manifest holds).
    std::ifstream file(dir_ / "IDENTITY");
    std::getline(file, id);
  }
  if (id.empty()) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("embedded log: {} has no database id (IDENTITY file missing "
                                  "or empty)",
                                  dir_.string()));
  }
  return id;
}

EmbeddedLog::~EmbeddedLog() {
  if (db_ != nullptr && appended_) {
    // Appends are durable in the WAL already; flushing the memtables now
    // spares the next open replaying that WAL, which cost the first reader
    // after a publish of 1M events over a second (bench/README.md). A failure
    // loses nothing (the next open replays the WAL), and a destructor cannot
    // return it, so it goes to stderr.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    std::vector<rocksdb::ColumnFamilyHandle*> families = {db_->DefaultColumnFamily()};
    if (keys_cf_ != nullptr) families.push_back(keys_cf_);
    const rocksdb::Status flushed = db_->Flush(flush, families);
    if (!flushed.ok()) {
      std::fprintf(stderr, "homeward: flushing the embedded log failed: %s\n",
                   flushed.ToString().c_str());
    }
  }
  if (db_ != nullptr && keys_cf_ != nullptr) {
    // Failing to free a handle at shutdown loses nothing (the data is synced),
    // and a destructor cannot report it, so the status is not needed.
    [[maybe_unused]] const rocksdb::Status status = db_->DestroyColumnFamilyHandle(keys_cf_);
  }
  db_.reset();
}

Result<std::vector<Result<engine::LogPosition>>> EmbeddedLog::append(
    std::span<const engine::AppendRequest> requests) {
  if (mode_ == EmbeddedLogMode::kRead) {
    return make_error(ErrorCode::kInternal, "embedded log: opened for reading, cannot append");
  }
  std::vector<Result<engine::LogPosition>> results;
  if (requests.empty()) return results;
  results.reserve(requests.size());

  const Status written =
      requests.size() >= EmbeddedLog::kIngestMinRecords ? ingest(requests) : write_batch(requests);
  if (!written) {
    // Nothing was written: every record fails with this reason.
    for (size_t i = 0; i < requests.size(); ++i)
      results.emplace_back(std::unexpected(written.error()));
    return results;
  }
  const int64_t first = end_offset_.load(std::memory_order_relaxed);
  const auto count = static_cast<int64_t>(requests.size());
  for (int64_t offset = first; offset < first + count; ++offset) {
    results.emplace_back(engine::LogPosition{kOnlyPartition, Offset{offset}});
  }
  // Published once RocksDB made the records durable and visible: a reader
  // that sees the new end finds every record below it.
  end_offset_.store(first + count, std::memory_order_release);
  appended_ = true;
  return results;
}

Status EmbeddedLog::write_batch(std::span<const engine::AppendRequest> requests) {
  rocksdb::WriteBatch batch;
  int64_t next = end_offset_.load(std::memory_order_relaxed);
  for (const engine::AppendRequest& request : requests) {
    const OffsetKey key = encode_offset(Offset{next++});
    rocksdb::Status status = batch.Put(as_slice(key), request.value);
    if (status.ok() && !request.key.empty()) {
      status = batch.Put(keys_cf_, as_slice(key), request.key);
    }
    // E.g. a value over RocksDB's size limit; nothing has been written.
    if (!status.ok()) return std::unexpected(to_error(status, "cannot prepare the append"));
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;  // durable when append returns
  const rocksdb::Status status = db_->Write(write_options, &batch);
  if (!status.ok()) return std::unexpected(to_error(status, "append failed"));
  return {};
}

Status EmbeddedLog::ingest(std::span<const engine::AppendRequest> requests) {
  // A large append skips the WAL and the memtable: its records are written
  // in key order (offsets only grow) straight into one SST file per column
  // family, and RocksDB ingests the files with one manifest edit, so a crash
  // leaves all of the append or none of it. The keys are past every key in
  // the log, so the files overlap nothing and go to the bottom level without
  // a flush or a compaction. Durability is RocksDB's ingestion's: the
  // writer's Finish syncs each file, ingestion links it in, syncs it and the
  // directory, and syncs the manifest before it returns.
  const uint64_t sequence = ++ingests_;
  const std::filesystem::path values_file = ingest_dir_ / fmt::format("values-{:06}.sst", sequence);
  const std::filesystem::path keys_file = ingest_dir_ / fmt::format("keys-{:06}.sst", sequence);
  auto remove_files = [&] {
    std::error_code ignored;
    std::filesystem::remove(values_file, ignored);
    std::filesystem::remove(keys_file, ignored);
  };
  auto failed = [&](const rocksdb::Status& status, std::string_view doing) -> Status {
    remove_files();  // a partial or refused file is of no use
    return std::unexpected(to_error(status, doing));
  };

  rocksdb::ColumnFamilyHandle* values_cf = db_->DefaultColumnFamily();
  const rocksdb::Options values_options = db_->GetOptions(values_cf);
  const rocksdb::Options keys_options = db_->GetOptions(keys_cf_);
  rocksdb::SstFileWriter values(rocksdb::EnvOptions(values_options), values_options, values_cf);
  rocksdb::SstFileWriter keys(rocksdb::EnvOptions(keys_options), keys_options, keys_cf_);
  rocksdb::Status status = values.Open(values_file.string());
  if (!status.ok()) return failed(status, "cannot create the append file");
  bool any_key = false;
  int64_t next = end_offset_.load(std::memory_order_relaxed);
  for (const engine::AppendRequest& request : requests) {
    const OffsetKey key = encode_offset(Offset{next++});
    status = values.Put(as_slice(key), request.value);
    if (!status.ok()) return failed(status, "cannot write the append file");
    if (request.key.empty()) continue;
    if (!any_key) {
      status = keys.Open(keys_file.string());
      if (!status.ok()) return failed(status, "cannot create the append file of record keys");
      any_key = true;
    }
    status = keys.Put(as_slice(key), request.key);
    if (!status.ok()) return failed(status, "cannot write the append file of record keys");
  }
  status = values.Finish();
  if (!status.ok()) return failed(status, "cannot finish the append file");
  if (any_key) {
    status = keys.Finish();
    if (!status.ok()) return failed(status, "cannot finish the append file of record keys");
  }

  std::vector<rocksdb::IngestExternalFileArg> args(any_key ? 2 : 1);
  args[0].column_family = values_cf;
  args[0].external_files = {values_file.string()};
  if (any_key) {
    args[1].column_family = keys_cf_;
    args[1].external_files = {keys_file.string()};
  }
  for (rocksdb::IngestExternalFileArg& arg : args) {
    arg.options.move_files = true;  // a hard link: the file is already in the log's directory
    // The file's sequence number goes in the manifest, not into the file
    // (RocksDB's advice for databases that are never opened by old versions).
    arg.options.write_global_seqno = false;
  }
  status = db_->IngestExternalFiles(args);
  // With move_files RocksDB removes our names once the files are linked in;
  // after a failure they are ours to remove.
  remove_files();
  if (!status.ok()) return std::unexpected(to_error(status, "append failed"));
  return {};
}

Status EmbeddedLog::seek(const engine::OffsetMap& next_offsets) {
  Offset target{0};
  for (const auto& [partition, offset] : next_offsets) {
    if (partition != kOnlyPartition) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("embedded log: it has only partition 0, cannot seek "
                                    "partition {}",
                                    partition.value()));
    }
    target = offset;
  }
  if (auto refreshed = refresh_end(); !refreshed) return refreshed;
  const int64_t end = end_offset_.load(std::memory_order_acquire);
  if (target.value() < 0 || target.value() > end) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("embedded log: cannot seek to offset {}: the log holds "
                                  "offsets 0 to {} (next append at {})",
                                  target.value(), end - 1, end));
  }
  next_read_offset_ = target;
  return {};
}

Status EmbeddedLog::read(size_t max_records, std::chrono::milliseconds /*wait*/,
                         engine::RecordBatch& batch) {
  // An empty batch means "at the end" at once: a process that reads while
  // another thread appends (serve) is woken by that thread, not by waiting
  // here, so `wait` is not needed.
  int64_t available = end_offset_.load(std::memory_order_acquire) - next_read_offset_.value();
  if (available <= 0 && max_records > 0 && mode_ == EmbeddedLogMode::kRead) {
    // A reader at the end it knew: the writer may have appended since.
    if (auto refreshed = refresh_end(); !refreshed) return refreshed;
    available = end_offset_.load(std::memory_order_acquire) - next_read_offset_.value();
  }
  if (max_records == 0 || available <= 0) {
    batch.records.clear();
    return {};
  }
  const int64_t count = std::min<int64_t>(available, static_cast<int64_t>(max_records));
  if (auto status = read_range(*db_, keys_cf_, next_read_offset_, count, batch); !status) {
    batch.records.clear();  // no half batch: the caller gets the error only
    return status;
  }
  next_read_offset_ = Offset{next_read_offset_.value() + count};
  return {};
}

Result<engine::OffsetMap> EmbeddedLog::end_offsets() {
  if (auto refreshed = refresh_end(); !refreshed) return std::unexpected(refreshed.error());
  return engine::OffsetMap{{kOnlyPartition, Offset{end_offset_.load(std::memory_order_acquire)}}};
}

}  // namespace homeward::connectors
