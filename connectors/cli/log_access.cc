#include "connectors/cli/log_access.h"

#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "connectors/cli/follow.h"
#include "connectors/cli/kafka_mode.h"
#include "connectors/cli/progress.h"
#include "connectors/embedded_log/embedded_log.h"
#include "engine/writer_lock.h"

namespace homeward::connectors::cli {
namespace {

using projections::RocksProjectionStore;

// The embedded log is both ports in one object.
class EmbeddedLogHandle final : public LogHandle {
 public:
  EmbeddedLogHandle(std::unique_ptr<EmbeddedLog> log, std::filesystem::path dir)
      : log_(std::move(log)), dir_(std::move(dir)) {}

  engine::EventLogReader& reader() override { return *log_; }
  engine::EventLogAppender& appender() override { return *log_; }
  std::string describe() const override {
    return fmt::format("the embedded log in {}", dir_.string());
  }
  Result<std::string> identity() override {
    auto id = log_->identity();
    if (!id) return std::unexpected(id.error());
    return fmt::format("embedded log {}", *id);
  }
  std::function<Status()> checksum_verifier() override {
    return [log = log_.get()] { return log->verify_checksums(); };
  }

 private:
  std::unique_ptr<EmbeddedLog> log_;
  std::filesystem::path dir_;
};

// Prefixes where it happened, keeping the code (busy stays busy).
Error with_context(const Error& error, std::string_view context) {
  return Error{error.code, fmt::format("{}: {}", context, error.message)};
}

bool path_exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The store of `dir` for reading, nullptr when there is none; refused when
// it is bound to another log than `identity`.
Result<std::unique_ptr<RocksProjectionStore>> read_store(const std::filesystem::path& dir,
                                                         const std::string& identity) {
  if (!path_exists(dir / "CURRENT")) return std::unique_ptr<RocksProjectionStore>();
  auto store = RocksProjectionStore::open_reader(dir);
  // A store being created has CURRENT before all its column families: a
  // reader that comes in between tries again for a moment.
  for (int attempt = 0; !store && attempt < 20; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    store = RocksProjectionStore::open_reader(dir);
  }
  if (!store) {
    return std::unexpected(with_context(
        store.error(), fmt::format("cannot read the projections in {}", dir.string())));
  }
  auto bound = (*store)->bound_log();
  if (!bound) return std::unexpected(bound.error());
  if (*bound && **bound != identity) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("the projections in {} were built from {}, not from {}: their "
                                  "figures would mix two ledgers. Use the --data directory (or "
                                  "--kafka/--topic) of that log, or rebuild them from this one "
                                  "with `homeward project --rebuild`",
                                  dir.string(), **bound, identity));
  }
  return std::move(*store);
}

}  // namespace

std::filesystem::path log_dir(const GlobalOptions& options) { return options.data_dir / "log"; }

std::filesystem::path projections_dir(const GlobalOptions& options) {
  return options.data_dir / "projections";
}

std::string lock_holder(const CommandContext& context) {
  return fmt::format("homeward {}", context.command);
}

Result<std::unique_ptr<LogHandle>> open_log(const CommandContext& context, LogAccess access) {
  const GlobalOptions& options = context.options;
  if (!options.kafka_brokers.empty()) return open_kafka_log(options);
  const std::filesystem::path dir = log_dir(options);
  EmbeddedLogMode mode = EmbeddedLogMode::kRead;
  if (access == LogAccess::kRead) {
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(dir, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
      return make_error(ErrorCode::kNotFound,
                        fmt::format("no ledger in {} ({} does not exist; publish events first, "
                                    "or name the right directory with --data)",
                                    options.data_dir.string(), dir.string()));
    }
    if (ec) {
      return make_error(ErrorCode::kIo,
                        fmt::format("cannot read {}: {}", dir.string(), ec.message()));
    }
    if (status.type() != std::filesystem::file_type::directory) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("{} is not a directory, so {} is not a data directory",
                                    dir.string(), options.data_dir.string()));
    }
  } else if (!path_exists(dir) && path_exists(projections_dir(options))) {
    // Projections without their log: the log went missing (or --data names a
    // copy of the projections alone). A new log here would not be theirs.
    return make_error(ErrorCode::kNotFound,
                      fmt::format("{} holds projections but no log ({} is missing): refusing to "
                                  "start a new log beside projections of another; restore the "
                                  "log, or publish into a new data directory",
                                  options.data_dir.string(), dir.string()));
  } else {
    mode = path_exists(dir) ? EmbeddedLogMode::kWrite : EmbeddedLogMode::kCreateIfMissing;
  }
  auto log = EmbeddedLog::open(dir, mode, lock_holder(context));
  if (!log && log.error().code == ErrorCode::kBusy) {
    return std::unexpected(log.error());  // names the directory and its writer
  }
  if (!log) {
    return std::unexpected(
        with_context(log.error(), fmt::format("cannot open the log in {}", dir.string())));
  }
  return std::make_unique<EmbeddedLogHandle>(std::move(*log), dir);
}

namespace {

Result<std::unique_ptr<RocksProjectionStore>> open_bound_writer(LogHandle& log,
                                                                const std::filesystem::path& dir,
                                                                const std::string& holder) {
  auto store = RocksProjectionStore::open(dir, holder);
  if (!store && store.error().code == ErrorCode::kBusy) {
    return std::unexpected(store.error());  // names the directory and its writer
  }
  if (!store) {
    return std::unexpected(with_context(
        store.error(), fmt::format("cannot open the projections in {}", dir.string())));
  }
  auto identity = log.identity();
  if (!identity) return std::unexpected(identity.error());
  if (auto bound = (*store)->bind_to_log(*identity); !bound) {
    return std::unexpected(
        with_context(bound.error(), fmt::format("the projections in {}", dir.string())));
  }
  return std::move(*store);
}

}  // namespace

Result<std::unique_ptr<RocksProjectionStore>> open_store_reader(LogHandle& log,
                                                                const CommandContext& context) {
  auto identity = log.identity();
  if (!identity) return std::unexpected(identity.error());
  return read_store(projections_dir(context.options), *identity);
}

Result<std::unique_ptr<RocksProjectionStore>> open_store_writer(LogHandle& log,
                                                                const CommandContext& context) {
  return open_bound_writer(log, projections_dir(context.options), lock_holder(context));
}

engine::ProjectorOptions projector_options() {
  engine::ProjectorOptions options;
  options.batch_events_per_case = 3;
  return options;
}

Result<engine::CatchUpReport> catch_up(LogHandle& log, RocksProjectionStore& store,
                                       const CommandContext& context) {
  ProgressLine progress(context.err, context.show_progress(), "projecting");
  engine::Projector projector(log.reader(), store, projector_options());
  auto report = projector.catch_up(
      [&progress](const engine::ProjectionProgress& p) { progress.update(p.events_read); });
  progress.finish();
  if (!report) {
    return std::unexpected(
        with_context(report.error(), fmt::format("cannot project {}", log.describe())));
  }
  spdlog::info("projected {} events in {} batches from {}", report->events_read,
               report->batches_committed, log.describe());
  return *report;
}

namespace {

Status remove_leftover_rebuild(const std::filesystem::path& built) {
  std::error_code ec;
  std::filesystem::remove_all(built, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, fmt::format("cannot remove the unfinished rebuild in {}: {}",
                                                  built.string(), ec.message()));
  }
  return {};
}

}  // namespace

Result<engine::CatchUpReport> rebuild_projections(LogHandle& log, const CommandContext& context) {
  const std::filesystem::path live = projections_dir(context.options);
  std::filesystem::path built = live;
  built += ".rebuild";
  const std::string holder = lock_holder(context);
  auto live_lock = engine::WriterLock::acquire(live, holder);
  if (!live_lock) {
    return std::unexpected(with_context(
        live_lock.error(), fmt::format("cannot rebuild the projections in {}", live.string())));
  }
  // A rebuild that died leaves its half-built store, in any state (killed
  // while RocksDB created it: files but no CURRENT). Only a rebuild writes
  // there, and only under the live lock, which this one holds: it is all
  // leftovers.
  if (auto removed = remove_leftover_rebuild(built); !removed) {
    return std::unexpected(removed.error());
  }
  engine::CatchUpReport report;
  {
    auto store = open_bound_writer(log, built, holder + " (rebuilding)");
    if (!store) return std::unexpected(store.error());
    auto caught_up = catch_up(log, **store, context);
    if (!caught_up) {
      store->reset();
      (void)remove_leftover_rebuild(built);  // the live store is what matters, unchanged
      return std::unexpected(caught_up.error());
    }
    report = *caught_up;
  }  // closed: flushed and unlocked before it moves
  if (auto swapped = RocksProjectionStore::swap_in(built, live, std::move(*live_lock)); !swapped) {
    return std::unexpected(with_context(
        swapped.error(), fmt::format("cannot put the rebuilt projections in {}", live.string())));
  }
  return report;
}

Result<int64_t> records_behind(LogHandle& log, RocksProjectionStore& store) {
  auto ends = log.reader().end_offsets();
  if (!ends) return std::unexpected(ends.error());
  auto checkpoints = store.load_checkpoints();
  if (!checkpoints) return std::unexpected(checkpoints.error());
  return lag_between(*ends, *checkpoints);
}

Result<OpenLedger> open_up_to_date(const CommandContext& context) {
  using Clock = std::chrono::steady_clock;
  OpenLedger ledger;
  auto log = open_log(context, LogAccess::kRead);
  if (!log) return std::unexpected(log.error());
  ledger.log = std::move(*log);
  auto identity = ledger.log->identity();
  if (!identity) return std::unexpected(identity.error());
  const std::filesystem::path dir = projections_dir(context.options);

  // 1. The projections as they are, when they are up to date.
  auto reader = read_store(dir, *identity);
  if (!reader) return std::unexpected(reader.error());
  if (*reader) {
    auto behind = records_behind(*ledger.log, **reader);
    if (!behind) return std::unexpected(behind.error());
    if (*behind == 0) {
      ledger.store = std::move(*reader);
      return ledger;
    }
  }

  // 2. Behind, or none yet: project the rest, if no one else writes them.
  auto writer = open_bound_writer(*ledger.log, dir, lock_holder(context));
  std::optional<Error> full;  // the disk is full: answer as from a read-only directory
  if (writer) {
    reader->reset();
    auto report = catch_up(*ledger.log, **writer, context);
    if (report) {
      ledger.store = std::move(*writer);
      ledger.caught_up = *report;
      return ledger;
    }
    if (report.error().code != ErrorCode::kNoSpace) return std::unexpected(report.error());
    // The store stays at its last whole commit (a commit is one ingestion or
    // one WriteBatch); closed, and read again as it is.
    full = report.error();
    writer->reset();
    reader = read_store(dir, *identity);
    if (!reader) return std::unexpected(reader.error());
  } else if (writer.error().code == ErrorCode::kNoSpace) {
    full = writer.error();
  }
  const ErrorCode code = full ? ErrorCode::kNoSpace : writer.error().code;
  if (code != ErrorCode::kBusy && code != ErrorCode::kReadOnly && code != ErrorCode::kNoSpace) {
    return std::unexpected(writer.error());
  }

  // 3. Another process writes them: wait a little for it to catch up.
  std::string why =
      full ? fmt::format("the disk is full: {}", full->message) : writer.error().message;
  if (code == ErrorCode::kBusy) {
    const Clock::time_point deadline = Clock::now() + kQueryCatchUpWait;
    while (Clock::now() < deadline) {
      std::this_thread::sleep_for(kQueryPollInterval);
      // Opened again rather than caught up: a rebuild may have put a new
      // store in place meanwhile, which an open reader would not follow.
      auto again = read_store(dir, *identity);
      if (!again) return std::unexpected(again.error());
      if (!*again) continue;
      auto behind = records_behind(*ledger.log, **again);
      if (!behind) return std::unexpected(behind.error());
      *reader = std::move(*again);
      if (*behind == 0) {
        ledger.store = std::move(*reader);
        return ledger;
      }
    }
  }

  // 4. Answer from what there is, saying how far behind it is; with no
  // projections at all, or none that can be brought up to date on a full
  // disk, project into a temporary store (in $TMPDIR, another file system as
  // a rule: a query on a full disk gives the figures of the whole log).
  if (*reader && !full) {
    auto behind = records_behind(*ledger.log, **reader);
    if (!behind) return std::unexpected(behind.error());
    ledger.records_behind = *behind;
    ledger.store = std::move(*reader);
    context.err << fmt::format(
        "homeward: note: these figures are {} records behind the end of {} ({})\n",
        ledger.records_behind, ledger.log->describe(), why);
    return ledger;
  }
  auto scratch = engine::ScratchDir::create("projections");
  if (!scratch) return std::unexpected(scratch.error());
  ledger.temporary_dir = std::move(*scratch);
  if (!context.options.quiet) {
    context.err << fmt::format(
        "homeward: note: {} in {} ({}); projecting {} into a temporary store\n",
        full ? "the projections cannot be brought up to date"
             : "no projections can be read or written",
        dir.string(), why, ledger.log->describe());
  }
  auto temporary = open_bound_writer(*ledger.log, ledger.temporary_dir->path() / "projections",
                                     lock_holder(context));
  if (!temporary) return std::unexpected(temporary.error());
  ledger.store = std::move(*temporary);
  auto report = catch_up(*ledger.log, *ledger.store, context);
  if (!report) return std::unexpected(report.error());
  ledger.caught_up = *report;
  return ledger;
}

}  // namespace homeward::connectors::cli
