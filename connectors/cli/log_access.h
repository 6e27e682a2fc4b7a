// Internal to the CLI: opening "the log" and the projection store of a data
// directory, and bringing the projections up to the end of the log.
//
// Every command reaches the log only through open_log, so that the Kafka log
// (`--kafka`) slots in as a second LogHandle without touching the commands.
// Handles own what they open and close it on destruction; not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "connectors/cli/command_context.h"
#include "engine/event_log.h"
#include "engine/projector.h"
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
  // Told where the projections stand after each round of a follow loop
  // (follow.h): Kafka commits them to its consumer group for monitoring.
  virtual void note_projected(const engine::OffsetMap& /*next_offsets*/) {}
};

enum class LogAccess {
  kCreateIfMissing,  // publish: a new data directory starts here
  kMustExist,        // queries and export: a missing log is a mistyped --data
};

[[nodiscard]] std::filesystem::path log_dir(const GlobalOptions& options);
[[nodiscard]] std::filesystem::path projections_dir(const GlobalOptions& options);

[[nodiscard]] Result<std::unique_ptr<LogHandle>> open_log(const GlobalOptions& options,
                                                          LogAccess access);

[[nodiscard]] Result<std::unique_ptr<projections::RocksProjectionStore>> open_projections(
    const GlobalOptions& options);

// Deletes DIR/projections (for `project --rebuild`); the store must be closed.
[[nodiscard]] Status destroy_projections(const GlobalOptions& options);

// Projects every record up to the current end of the log into `store`,
// drawing a progress line on a terminal.
// The projector settings of every command that projects: batches grow with
// the number of cases (engine::ProjectorOptions::batch_events_per_case).
[[nodiscard]] engine::ProjectorOptions projector_options();

[[nodiscard]] Result<engine::CatchUpReport> catch_up(LogHandle& log,
                                                     projections::RocksProjectionStore& store,
                                                     const CommandContext& context);

// The log and the up-to-date store, for the query commands.
struct OpenLedger {
  std::unique_ptr<LogHandle> log;
  std::unique_ptr<projections::RocksProjectionStore> store;
  engine::CatchUpReport caught_up;
};
[[nodiscard]] Result<OpenLedger> open_up_to_date(const CommandContext& context);

}  // namespace homeward::connectors::cli
