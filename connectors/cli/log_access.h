// Internal to the CLI: opening "the log" and the projection store of a data
// directory, and bringing the projections up to the end of the log.
//
// Every command reaches the log only through open_log, so that the Kafka log
// (`--kafka`) slots in as a second LogHandle without touching the commands.
// Handles own what they open and close it on destruction; not thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "connectors/cli/command_context.h"
#include "engine/event_log.h"
#include "engine/projector.h"
#include "engine/scratch_dir.h"
#include "events/error.h"
#include "projections/rocksdb_store.h"

namespace homeward::connectors::cli {

// The event log a command works on, as the engine's two ports.
class LogHandle {
 public:
  virtual ~LogHandle() = default;
  [[nodiscard]] virtual engine::EventLogReader& reader() = 0;
  [[nodiscard]] virtual engine::EventLogAppender& appender() = 0;
  // For messages: "the embedded log in DIR/log".
  [[nodiscard]] virtual std::string describe() const = 0;
  // Which log this is, whatever path or address reaches it: "embedded log
  // ID" (RocksDB's id, kept by copies) or "Kafka cluster ID, topic 'T'".
  // A projection store is bound to it (open_store_writer).
  [[nodiscard]] virtual Result<std::string> identity() = 0;
  // Told where the projections stand after each round of a follow loop
  // (follow.h): Kafka commits them to its consumer group for monitoring.
  virtual void note_projected(const engine::OffsetMap& /*next_offsets*/) {}
  // What checks the checksum of every block of every file of the log (the
  // audit), valid while this handle lives; empty when the log has no files
  // here to check (Kafka: the brokers check their own segments' CRCs).
  [[nodiscard]] virtual std::function<Status()> checksum_verifier() { return {}; }
};

enum class LogAccess {
  // publish: the one writer of the embedded log (engine::WriterLock); a new
  // data directory starts here.
  kAppend,
  // everything else: a reader beside any writer; a missing log is a
  // mistyped --data.
  kRead,
};

[[nodiscard]] std::filesystem::path log_dir(const GlobalOptions& options);
[[nodiscard]] std::filesystem::path projections_dir(const GlobalOptions& options);

// What a writer lock taken by this command says of its holder.
[[nodiscard]] std::string lock_holder(const CommandContext& context);

[[nodiscard]] Result<std::unique_ptr<LogHandle>> open_log(const CommandContext& context,
                                                          LogAccess access);

// DIR/projections for reading beside any writer, as they are; nullptr when
// there are none. Refused when they were built from another log.
[[nodiscard]] Result<std::unique_ptr<projections::RocksProjectionStore>> open_store_reader(
    LogHandle& log, const CommandContext& context);

// DIR/projections for writing (kBusy while another process writes it),
// bound to `log`: a store built from another log is refused.
[[nodiscard]] Result<std::unique_ptr<projections::RocksProjectionStore>> open_store_writer(
    LogHandle& log, const CommandContext& context);

// The projector settings of every command that projects: batches grow with
// the number of cases (engine::ProjectorOptions::batch_events_per_case).
[[nodiscard]] engine::ProjectorOptions projector_options();

// Projects every record up to the current end of the log into `store`,
// drawing a progress line on a terminal.
[[nodiscard]] Result<engine::CatchUpReport> catch_up(LogHandle& log,
                                                     projections::RocksProjectionStore& store,
                                                     const CommandContext& context);

// `project --rebuild`: builds new projections from the whole log beside the
// live ones (DIR/projections.rebuild) and puts them in place in one atomic
// rename once they are complete. Until then readers keep reading the old
// ones, and a failure leaves them as they were. Holds the live store's
// writer lock throughout, so no other writer changes it meanwhile.
[[nodiscard]] Result<engine::CatchUpReport> rebuild_projections(LogHandle& log,
                                                                const CommandContext& context);

// How many records of the log `store` has not projected yet.
[[nodiscard]] Result<int64_t> records_behind(LogHandle& log,
                                             projections::RocksProjectionStore& store);

// How long a query waits for another process's projector to catch up with
// the log before it answers from the projections as they are, saying how far
// behind they are.
inline constexpr std::chrono::milliseconds kQueryCatchUpWait{2000};
inline constexpr std::chrono::milliseconds kQueryPollInterval{100};

// The log and up-to-date projections, for the query commands. Queries never
// wait for each other: the projections are read beside any writer (a RocksDB
// secondary instance). When they are behind the log, this process projects
// the rest itself if no other process writes them; otherwise it waits up to
// kQueryCatchUpWait for that writer, and then answers from what is there,
// with a note on standard error saying how many records behind it is. On a
// data directory it cannot write (a read-only copy), it reads the
// projections as they are, or projects into a temporary store when there are
// none.
struct OpenLedger {
  std::unique_ptr<LogHandle> log;
  // A temporary store's directory; declared before `store`, which it outlives.
  std::unique_ptr<engine::ScratchDir> temporary_dir;
  std::unique_ptr<projections::RocksProjectionStore> store;
  engine::CatchUpReport caught_up;
  // Records of the log that the figures do not include yet (0: up to date).
  int64_t records_behind = 0;
};
[[nodiscard]] Result<OpenLedger> open_up_to_date(const CommandContext& context);

}  // namespace homeward::connectors::cli
