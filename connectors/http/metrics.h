// The server's metrics, in the Prometheus text format at GET /metrics
// (scope `metrics`), through prometheus-cpp's core (Debian's
// prometheus-cpp-dev): its registry and text serializer, served by our own
// HTTP server (no second listener).
//
// No label ever holds a case id, a donor ref or anything from a request
// other than its route pattern, its method (one of the standard ones, else
// "other") and its status: the label sets are small and fixed.
//
// Thread-safe: prometheus-cpp's metrics are atomic.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/rules.h"

namespace homeward::connectors::http {

class Metrics {
 public:
  Metrics(std::string_view version, int schema_version);

  // The server's observe hook.
  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void stream_count(int delta);
  // POST /v1/events.
  void published(int64_t appended, int64_t refused);
  // The follow loop: each record's outcome, each round's time, the lag.
  void handled(const engine::Outcome& outcome);
  void round(double seconds);
  void lag(int64_t events, double seconds);
  // One partition's lag (records not yet projected; seconds since it was
  // last caught up), after each round.
  void partition_lag(int32_t partition, int64_t events, double seconds);

  // The text exposition (format 0.0.4).
  [[nodiscard]] std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Gauge& streams_;
  prometheus::Counter& appended_;
  prometheus::Counter& refused_;
  std::array<prometheus::Counter*, 3> outcomes_{};
  std::array<prometheus::Counter*, engine::kRejectReasonCount> rejections_{};
  prometheus::Histogram& round_seconds_;
  prometheus::Gauge& lag_events_;
  prometheus::Gauge& lag_seconds_;
  prometheus::Family<prometheus::Gauge>& partition_lag_events_;
  prometheus::Family<prometheus::Gauge>& partition_lag_seconds_;
};

}  // namespace homeward::connectors::http
