// The live projections of `homeward serve`: the bridge between the follow
// loop's thread (the one projector of the store) and the HTTP threads.
//
// The follow loop gives it every record it folds (as the projector's
// observer) and, after each round, the positions the store now holds
// (on_round). From those it keeps:
//   - the published position: every record below it is in the store, so a
//     read that starts after it was published sees at least that much;
//   - the stage-2 outcomes of the records a publisher is waiting for
//     (wait=outcome), released with the round that committed them;
//   - the cases each round changed, for the change streams;
//   - the lag behind the log, for /readyz and /metrics.
// It also wakes the follow loop when the HTTP publisher appended, so that a
// new event is projected at once instead of at the next poll.
//
// Thread-safe: on_record and on_round come from the follow loop's thread,
// everything else from any thread.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/http/http_types.h"
#include "engine/event_log.h"
#include "engine/projector.h"
#include "engine/rules.h"
#include "events/error.h"

namespace homeward::connectors::http {

// What a round changed: its position and the cases it touched (sorted).
struct RoundChanges {
  engine::OffsetMap position;
  std::vector<std::string> case_ids;
  // From the round's first record to its end; 0 for a round without records.
  double seconds = 0;
};

class LiveProjection final : public engine::ProjectionObserver {
 public:
  LiveProjection() = default;

  // ---- the follow loop's side
  void on_record(const engine::LogRecord& record, const events::Event* event,
                 const engine::Outcome& outcome) override;
  void on_skip(Partition partition, Offset next_offset) override;
  // Before the follow loop starts: what the store holds.
  void set_initial_position(const engine::Checkpoints& checkpoints);
  // After a round, with every batch of it in the store.
  void on_round(const engine::Checkpoints& checkpoints);
  // The lag after a round, in records, and the log's end offsets.
  void set_lag(int64_t lag_events);
  // Rests up to `duration`; returns early on wake_follower() or stop.
  void wait_for_work(std::chrono::milliseconds duration);

  // Called with each round's changes, on the follow loop's thread, after the
  // position is published (the change streams read the store there).
  void set_round_listener(std::function<void(const RoundChanges&)> listener);
  // Called with each record's outcome on the follow loop's thread (metrics).
  // Set before the follow loop starts.
  void set_outcome_hook(std::function<void(const engine::Outcome&)> hook) {
    outcome_hook_ = std::move(hook);
  }

  // ---- the HTTP side
  [[nodiscard]] engine::OffsetMap position() const;
  [[nodiscard]] bool reached(const engine::OffsetMap& wanted) const;
  [[nodiscard]] int64_t rounds() const { return rounds_.load(); }
  [[nodiscard]] int64_t lag_events() const { return lag_events_.load(); }
  // Seconds since the last round ended (0 before the first).
  [[nodiscard]] double seconds_since_round() const;
  void wake_follower();
  ChangeSignal& changes() { return changes_; }

  // The stage-2 outcome of appended records (wait=outcome). `expect`
  // registers interest in records just appended, before the follow loop is
  // woken; the positions it returns were already folded before it was
  // called, so their outcome was not recorded and must be read from the
  // store (projections::fold_histories) once reached. `outcome` is set once
  // the round that committed the record is published. `forget` drops the
  // interest.
  [[nodiscard]] std::vector<engine::LogPosition> expect(
      const std::vector<engine::LogPosition>& positions);
  [[nodiscard]] std::optional<engine::Outcome> outcome(const engine::LogPosition& position) const;
  void forget(const std::vector<engine::LogPosition>& positions);

  // ---- stopping
  void request_stop();
  [[nodiscard]] bool stop_requested() const { return stop_.load(); }

 private:
  struct Key {
    int32_t partition;
    int64_t offset;
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.partition, k.offset);
    }
  };
  static Key key_of(const engine::LogPosition& p) {
    return {p.partition.value(), p.offset.value()};
  }

  mutable std::mutex mutex_;
  engine::OffsetMap position_;                           // published
  absl::flat_hash_map<int32_t, int64_t> observed_next_;  // folded, maybe not committed
  absl::flat_hash_set<Key> interest_;
  absl::flat_hash_map<Key, engine::Outcome> staged_;  // folded this round
  absl::flat_hash_map<Key, engine::Outcome> ready_;   // committed
  absl::flat_hash_set<std::string> round_cases_;      // follow loop's thread only
  int64_t round_started_ns_ = 0;                      // follow loop's thread only
  std::function<void(const engine::Outcome&)> outcome_hook_;
  std::function<void(const RoundChanges&)> listener_;

  std::atomic<int64_t> rounds_{0};
  std::atomic<int64_t> lag_events_{0};
  std::atomic<int64_t> last_round_ns_{0};

  std::mutex wake_mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  std::atomic<bool> stop_{false};

  ChangeSignal changes_;
};

}  // namespace homeward::connectors::http
