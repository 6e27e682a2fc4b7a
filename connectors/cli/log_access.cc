#include "connectors/cli/log_access.h"

#include <system_error>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "connectors/cli/kafka_mode.h"
#include "connectors/cli/progress.h"
#include "connectors/embedded_log/embedded_log.h"

namespace homeward::connectors::cli {
namespace {

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

 private:
  std::unique_ptr<EmbeddedLog> log_;
  std::filesystem::path dir_;
};

// Prefixes where it happened, keeping the code (busy stays busy).
Error with_context(const Error& error, std::string_view context) {
  return Error{error.code, fmt::format("{}: {}", context, error.message)};
}

}  // namespace

std::filesystem::path log_dir(const GlobalOptions& options) { return options.data_dir / "log"; }

std::filesystem::path projections_dir(const GlobalOptions& options) {
  return options.data_dir / "projections";
}

Result<std::unique_ptr<LogHandle>> open_log(const GlobalOptions& options, LogAccess access) {
  if (!options.kafka_brokers.empty()) return open_kafka_log(options);
  const std::filesystem::path dir = log_dir(options);
  std::error_code ec;
  if (access == LogAccess::kMustExist) {
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
  } else {
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) {
      return make_error(ErrorCode::kIo, fmt::format("cannot create {}: {}",
                                                    options.data_dir.string(), ec.message()));
    }
  }
  auto log = EmbeddedLog::open(dir);
  if (!log) {
    return std::unexpected(
        with_context(log.error(), fmt::format("cannot open the log in {}", dir.string())));
  }
  return std::make_unique<EmbeddedLogHandle>(std::move(*log), dir);
}

Result<std::unique_ptr<projections::RocksProjectionStore>> open_projections(
    const GlobalOptions& options) {
  const std::filesystem::path dir = projections_dir(options);
  auto store = projections::RocksProjectionStore::open(dir);
  if (!store) {
    return std::unexpected(with_context(
        store.error(), fmt::format("cannot open the projections in {}", dir.string())));
  }
  return std::move(*store);
}

Status destroy_projections(const GlobalOptions& options) {
  const std::filesystem::path dir = projections_dir(options);
  auto destroyed = projections::RocksProjectionStore::destroy(dir);
  if (!destroyed) {
    return std::unexpected(with_context(
        destroyed.error(), fmt::format("cannot delete the projections in {}", dir.string())));
  }
  return {};
}

engine::ProjectorOptions projector_options() {
  engine::ProjectorOptions options;
  options.batch_events_per_case = 3;
  return options;
}

Result<engine::CatchUpReport> catch_up(LogHandle& log, projections::RocksProjectionStore& store,
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

Result<OpenLedger> open_up_to_date(const CommandContext& context) {
  OpenLedger ledger;
  auto log = open_log(context.options, LogAccess::kMustExist);
  if (!log) return std::unexpected(log.error());
  ledger.log = std::move(*log);
  auto store = open_projections(context.options);
  if (!store) return std::unexpected(store.error());
  ledger.store = std::move(*store);
  auto report = catch_up(*ledger.log, *ledger.store, context);
  if (!report) return std::unexpected(report.error());
  ledger.caught_up = *report;
  return ledger;
}

}  // namespace homeward::connectors::cli
