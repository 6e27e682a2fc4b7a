// Internal to the CLI: the follow loop, shared by `project --follow` and
// `serve`. It keeps the projections in a store up to date with a log that
// other writers append to: a catch-up round, then a rest until more may have
// arrived, until asked to stop. A log that cannot be reached (kUnavailable)
// is waited for, logged once when the outage begins and once when it ends;
// any other error ends the loop.
//
// The caller owns the log and the store and supplies the waiting and the
// stop predicate, so that `project --follow` sleeps on signals and `serve`
// wakes up as soon as its own HTTP publisher appended. Runs on the calling
// thread; the hooks are called on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "connectors/cli/log_access.h"
#include "engine/projector.h"
#include "events/error.h"
#include "projections/rocksdb_store.h"

namespace homeward::connectors::cli {

struct FollowHooks {
  // Required: true once the loop must end (checked between rounds, and a
  // wait must return early when it turns true).
  std::function<bool()> stop_requested;
  // Required: rests up to the given time, returning early on a stop (and,
  // for `serve`, when its own publisher appended).
  std::function<void(std::chrono::milliseconds)> wait;
  // Optional: events read since the loop began and the lag in events (to the
  // end offsets of the round's start while projecting, to the log's end
  // after a round).
  std::function<void(int64_t events_read, int64_t lag)> on_lag;
  // Optional: before a warning is logged (a progress line is erased).
  std::function<void()> before_log;
  // Optional: after each completed round, with every batch of it written
  // (the store reads the positions given). An error ends the loop.
  std::function<Status(const engine::Checkpoints& positions, int64_t events_read)> on_round;
  // Optional: its options, with the observer that sees each record (serve).
  engine::ProjectorOptions projector = projector_options();
  // How long to rest once caught up, and after the log could not be reached.
  std::chrono::milliseconds idle{500};
  std::chrono::milliseconds retry{2000};
};

// Follows until hooks.stop_requested(); returns the number of events read.
[[nodiscard]] Result<int64_t> follow_log(LogHandle& log, projections::RocksProjectionStore& store,
                                         const FollowHooks& hooks);

// The lag of `checkpoints` behind `ends`, in records, summed over partitions.
[[nodiscard]] int64_t lag_between(const engine::OffsetMap& ends,
                                  const engine::Checkpoints& checkpoints);
// The next offset of every partition of `checkpoints`.
[[nodiscard]] engine::OffsetMap positions_of(const engine::Checkpoints& checkpoints);

}  // namespace homeward::connectors::cli
