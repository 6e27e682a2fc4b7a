#include "connectors/cli/follow.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "events/check.h"

namespace homeward::connectors::cli {

engine::OffsetMap positions_of(const engine::Checkpoints& checkpoints) {
  engine::OffsetMap positions;
  for (const auto& [partition, checkpoint] : checkpoints) {
    positions.emplace(partition, checkpoint.next_offset);
  }
  return positions;
}

int64_t lag_between(const engine::OffsetMap& ends, const engine::Checkpoints& checkpoints) {
  int64_t lag = 0;
  for (const auto& [partition, end] : ends) {
    const auto it = checkpoints.find(partition);
    const int64_t at = it == checkpoints.end() ? 0 : it->second.next_offset.value();
    lag += std::max<int64_t>(0, end.value() - at);
  }
  return lag;
}

Result<int64_t> follow_log(LogHandle& log, projections::RocksProjectionStore& store,
                           const FollowHooks& hooks) {
  HOMEWARD_CHECK(hooks.stop_requested && hooks.wait, "follow_log needs stop_requested and wait");
  using Clock = std::chrono::steady_clock;
  auto before_log = [&] {
    if (hooks.before_log) hooks.before_log();
  };
  int64_t events_read = 0;
  // Set while the log cannot be reached: the outage is logged when it
  // begins and when it ends, not at every retry.
  bool unavailable = false;
  Clock::time_point unavailable_since{};
  // One Projector for every round, so that the cases it holds (up to
  // case_cache_bytes) stay in memory between rounds: a Projector made per
  // round loaded every case a round touched from the store again, by folding
  // its whole history, which took most of serve's follow loop under a steady
  // stream of small publishes (bench/README.md, "POST /v1/events"). After an
  // error it is dropped, since its cases may be ahead of the store, and the
  // next round starts a new one from what the store holds.
  std::optional<engine::Projector> projector;
  while (!hooks.stop_requested()) {
    if (!projector) projector.emplace(log.reader(), store, hooks.projector);
    auto report = projector->catch_up([&](const engine::ProjectionProgress& progress) {
      if (hooks.on_lag) hooks.on_lag(events_read + progress.events_read, progress.events_behind);
    });
    if (!report) projector.reset();
    // A stop interrupts whatever was waiting for the log; every committed
    // batch is in the store.
    if (hooks.stop_requested()) {
      if (report) events_read += report->events_read;
      break;
    }
    if (!report) {
      if (report.error().code == ErrorCode::kUnavailable) {
        before_log();
        if (!unavailable) {
          spdlog::warn("{}: {}; trying again every {} ms until it answers (Ctrl-C stops)",
                       log.describe(), report.error().message, hooks.retry.count());
          unavailable = true;
          unavailable_since = Clock::now();
        } else {
          spdlog::debug("{}: {}", log.describe(), report.error().message);
        }
        hooks.wait(hooks.retry);
        continue;
      }
      return std::unexpected(
          Error{report.error().code,
                fmt::format("cannot project {}: {}", log.describe(), report.error().message)});
    }
    if (unavailable) {
      before_log();
      spdlog::warn(
          "{} answers again, after {} s", log.describe(),
          std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - unavailable_since)
              .count());
      unavailable = false;
    }
    events_read += report->events_read;
    auto checkpoints = store.load_checkpoints();
    if (!checkpoints) return std::unexpected(checkpoints.error());
    log.note_projected(positions_of(*checkpoints));
    if (hooks.on_round) {
      if (auto s = hooks.on_round(*checkpoints, report->events_read); !s) {
        return std::unexpected(s.error());
      }
    }
    auto ends = log.reader().end_offsets();
    if (ends) {
      const int64_t lag = lag_between(*ends, *checkpoints);
      if (hooks.on_lag) hooks.on_lag(events_read, lag);
      if (lag > 0) continue;
    }
    hooks.wait(hooks.idle);
  }
  return events_read;
}

}  // namespace homeward::connectors::cli
