// The info log of every RocksDB database Homeward opens: the embedded log,
// the projection store, their secondary instances and the audit's replay
// store (issue 14 item 9).
//
// RocksDB's default info log is a file (`LOG`) in the database's directory.
// On a full disk its writer fails, and the next write to it hits an assertion
// inside RocksDB 7.8 (`writable_file_writer.h:312`,
// `sync_without_flush_called_`) that kills the process with SIGABRT: a
// publish never got to say which lines it had appended, and a query (whose
// secondary instance writes a LOG too) could not answer. This logger writes
// nothing to disk: RocksDB's messages go through spdlog (standard error, at
// the level of `--log-level`): errors as warnings, warnings as debug, the
// rest (RocksDB's chatty info lines) as trace. A failure RocksDB reports
// still reaches the caller as a status; this is only its commentary.
//
// Thread-safe: RocksDB calls it from its background threads.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <memory>

namespace homeward::projections {

// The one logger, shared by every database of the process.
[[nodiscard]] std::shared_ptr<rocksdb::Logger> rocksdb_info_log();

// Sets `options.info_log` to it (and keeps RocksDB from writing LOG files).
void use_homeward_info_log(rocksdb::DBOptions& options);

}  // namespace homeward::projections
