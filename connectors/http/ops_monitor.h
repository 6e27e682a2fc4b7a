// The operator's figures of `homeward serve` (GET /v1/ops, scope read, and
// the /ops page that shows them; docs/http.md "Operations"): events handled
// per second and by outcome, rejections by reason with the latest rejected
// events, the projection lag per partition (records and seconds), the HTTP
// request rate and p99, and the last audit's report when serve was given
// --audit-dir.
//
// Counts are since the process started (as /metrics). Rates and the p99
// are over a sliding window (kWindow) of whole seconds, so a burst shows
// for ten seconds, then fades.
//
// Thread-safe: on_record and on_round come from the follow loop's thread,
// on_request from the network threads, snapshot from any thread (one mutex;
// each call holds it for a few hash-map or ring operations).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/event_log.h"
#include "engine/projection_store.h"
#include "engine/projector.h"
#include "engine/rules.h"
#include "events/event.h"

namespace homeward::connectors::http {

class OpsMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kWindowSeconds = 10;
  static constexpr size_t kLatestRejections = 20;
  // The p99 is over at most this many of the window's latest requests.
  static constexpr size_t kLatencySamples = 20'000;

  // `audit_dir` empty: no audit figures.
  explicit OpsMonitor(std::filesystem::path audit_dir = {});

  // ---- the follow loop's thread
  void on_record(const engine::LogRecord& record, const events::Event* event,
                 const engine::Outcome& outcome, Clock::time_point now = Clock::now());
  // After a round: the store's positions and the log's end offsets.
  void on_round(const engine::Checkpoints& positions, const engine::OffsetMap& ends,
                Clock::time_point now = Clock::now());

  struct PartitionFigures {
    int32_t partition;
    int64_t events;
    double seconds;
  };
  // The lag of every partition seen, as of `now` (for /metrics too).
  [[nodiscard]] std::vector<PartitionFigures> partition_lags(
      Clock::time_point now = Clock::now()) const;

  // ---- the network threads
  void on_request(double seconds, Clock::time_point now = Clock::now());

  // The GET /v1/ops document (docs/openapi.json, "Ops"); reads the audit
  // report from disk (call it on a worker).
  // `position` is the published projection position it is read at.
  [[nodiscard]] nlohmann::ordered_json snapshot(std::string position,
                                                Clock::time_point now = Clock::now()) const;

  // What the audit directory's report.json says: {dir, result, state_digest,
  // generated_at, error}; exposed for tests.
  [[nodiscard]] static nlohmann::ordered_json read_audit(const std::filesystem::path& dir);

 private:
  // Counts per whole second over the last kWindowSeconds.
  struct Rate {
    std::array<int64_t, kWindowSeconds> counts{};
    std::array<int64_t, kWindowSeconds> seconds{};  // which second each slot holds
    void add(int64_t second, int64_t n);
    [[nodiscard]] int64_t sum(int64_t now_second) const;
  };
  struct Rejected {
    int32_t partition;
    int64_t offset;
    std::string case_id;   // empty when a malformed record did not reveal it
    std::string event_id;  // likewise
    std::string type;      // likewise
    std::string reason;
  };
  struct PartitionLag {
    int64_t events = 0;
    Clock::time_point caught_up_at{};
  };

  [[nodiscard]] int64_t second_of(Clock::time_point t) const;

  const std::filesystem::path audit_dir_;
  const Clock::time_point started_;
  mutable std::mutex mutex_;
  std::array<int64_t, 3> outcomes_{};
  std::array<int64_t, engine::kRejectReasonCount> reasons_{};
  std::deque<Rejected> latest_;  // newest first, at most kLatestRejections
  Rate handled_rate_;
  Rate request_rate_;
  std::deque<std::pair<Clock::time_point, double>> latencies_;  // oldest first
  std::map<int32_t, PartitionLag> lag_;
};

}  // namespace homeward::connectors::http
