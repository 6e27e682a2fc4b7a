#include "connectors/http/ops_monitor.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/core.h>

namespace homeward::connectors::http {
namespace {

constexpr std::array<std::string_view, 3> kOutcomeNames{"applied", "duplicate", "rejected"};

nlohmann::ordered_json string_or_null(const nlohmann::json& document, const char* key) {
  if (document.is_object() && document.contains(key) && document[key].is_string()) {
    return document[key];
  }
  return nullptr;
}

}  // namespace

void OpsMonitor::Rate::add(int64_t second, int64_t n) {
  const size_t slot = static_cast<size_t>(second % kWindowSeconds);
  if (seconds[slot] != second) {
    seconds[slot] = second;
    counts[slot] = 0;
  }
  counts[slot] += n;
}

int64_t OpsMonitor::Rate::sum(int64_t now_second) const {
  int64_t total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    // A slot counts while its second is inside the window ending now.
    if (seconds[i] > now_second - kWindowSeconds && seconds[i] <= now_second) total += counts[i];
  }
  return total;
}

OpsMonitor::OpsMonitor(std::filesystem::path audit_dir)
    : audit_dir_(std::move(audit_dir)), started_(Clock::now()) {
  // Slot seconds start below any real second, so that no slot counts yet.
  handled_rate_.seconds.fill(-kWindowSeconds - 1);
  request_rate_.seconds.fill(-kWindowSeconds - 1);
}

int64_t OpsMonitor::second_of(Clock::time_point t) const {
  // Never before the start: a slot index must not be negative.
  return std::max<int64_t>(0,
                           std::chrono::duration_cast<std::chrono::seconds>(t - started_).count());
}

void OpsMonitor::on_record(const engine::LogRecord& record, const events::Event* event,
                           const engine::Outcome& outcome, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  ++outcomes_[static_cast<size_t>(outcome.disposition)];
  handled_rate_.add(second_of(now), 1);
  if (outcome.disposition != engine::Disposition::kRejected) return;
  ++reasons_[static_cast<size_t>(outcome.reason)];
  Rejected rejected{record.partition.value(), record.offset.value(), {}, {}, {}, {}};
  if (event != nullptr) {
    rejected.case_id = event->case_id;
    rejected.event_id = event->event_id;
    rejected.type = std::string(events::to_string(event->type()));
  }
  rejected.reason = std::string(engine::to_string(outcome.reason));
  latest_.push_front(std::move(rejected));
  if (latest_.size() > kLatestRejections) latest_.pop_back();
}

void OpsMonitor::on_round(const engine::Checkpoints& positions, const engine::OffsetMap& ends,
                          Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (const auto& [partition, end] : ends) {
    const auto at = positions.find(partition);
    const int64_t next = at == positions.end() ? 0 : at->second.next_offset.value();
    PartitionLag& lag = lag_[partition.value()];
    lag.events = std::max<int64_t>(0, end.value() - next);
    if (lag.events == 0 || lag.caught_up_at == Clock::time_point{}) lag.caught_up_at = now;
  }
}

std::vector<OpsMonitor::PartitionFigures> OpsMonitor::partition_lags(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  std::vector<PartitionFigures> figures;
  for (const auto& [partition, lag] : lag_) {
    // Seconds since the partition was last caught up; 0 while it is.
    const double seconds =
        lag.events == 0 ? 0.0 : std::chrono::duration<double>(now - lag.caught_up_at).count();
    figures.push_back({partition, lag.events, seconds});
  }
  return figures;
}

void OpsMonitor::on_request(double seconds, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  request_rate_.add(second_of(now), 1);
  latencies_.emplace_back(now, seconds);
  if (latencies_.size() > kLatencySamples) latencies_.pop_front();
}

nlohmann::ordered_json OpsMonitor::read_audit(const std::filesystem::path& dir) {
  nlohmann::ordered_json audit;
  const std::filesystem::path path = dir / "report.json";
  audit["dir"] = dir.string();
  audit["result"] = nullptr;
  audit["state_digest"] = nullptr;
  audit["generated_at"] = nullptr;
  audit["error"] = nullptr;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    audit["error"] = fmt::format("no audit report: cannot read {} (homeward audit --out {})",
                                 path.string(), dir.string());
    return audit;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json report = nlohmann::json::parse(text.str(), nullptr, false);
  if (report.is_discarded() || !report.is_object() || !report.contains("result")) {
    audit["error"] = fmt::format("{} is not a homeward audit report", path.string());
    return audit;
  }
  audit["result"] = string_or_null(report, "result");
  if (report.contains("state_digest")) {
    audit["state_digest"] = string_or_null(report["state_digest"], "value");
  }
  audit["generated_at"] = string_or_null(report, "generated_at");
  return audit;
}

nlohmann::ordered_json OpsMonitor::snapshot(std::string position, Clock::time_point now) const {
  nlohmann::ordered_json out;
  out["position"] = std::move(position);
  std::vector<double> window_latencies;
  {
    std::lock_guard lock(mutex_);
    const int64_t now_second = second_of(now);
    out["window_seconds"] = kWindowSeconds;
    out["events_per_second"] = static_cast<double>(handled_rate_.sum(now_second)) / kWindowSeconds;
    nlohmann::ordered_json handled = nlohmann::ordered_json::object();
    for (size_t i = 0; i < kOutcomeNames.size(); ++i) handled[kOutcomeNames[i]] = outcomes_[i];
    out["handled"] = std::move(handled);
    nlohmann::ordered_json reasons = nlohmann::ordered_json::object();
    for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
      reasons[std::string(engine::to_string(static_cast<engine::RejectReason>(i)))] = reasons_[i];
    }
    out["rejections"] = std::move(reasons);
    nlohmann::ordered_json latest = nlohmann::ordered_json::array();
    for (const Rejected& r : latest_) {
      latest.push_back({{"position", fmt::format("{}:{}", r.partition, r.offset)},
                        {"case_id", r.case_id},
                        {"event_id", r.event_id},
                        {"type", r.type},
                        {"reason", r.reason}});
    }
    out["latest_rejections"] = std::move(latest);
    out["lag"] = nlohmann::ordered_json::array();  // filled below, outside the lock
    const auto window_start = now - std::chrono::seconds(kWindowSeconds);
    for (auto it = latencies_.rbegin(); it != latencies_.rend() && it->first > window_start; ++it) {
      window_latencies.push_back(it->second);
    }
    out["http"] = {{"requests_per_second",
                    static_cast<double>(request_rate_.sum(now_second)) / kWindowSeconds},
                   {"requests_in_window", static_cast<int64_t>(window_latencies.size())},
                   {"p99_ms", nullptr}};
  }
  if (!window_latencies.empty()) {
    // The nearest-rank p99: the smallest value with at least 99% of the
    // samples at or below it.
    const size_t rank = (window_latencies.size() * 99 + 99) / 100;  // ceil(0.99 n)
    std::nth_element(window_latencies.begin(), window_latencies.begin() + (rank - 1),
                     window_latencies.end());
    out["http"]["p99_ms"] = window_latencies[rank - 1] * 1000.0;
  }
  for (const PartitionFigures& p : partition_lags(now)) {
    out["lag"].push_back(
        {{"partition", p.partition}, {"events", p.events}, {"seconds", p.seconds}});
  }
  out["audit"] = audit_dir_.empty() ? nlohmann::ordered_json(nullptr) : read_audit(audit_dir_);
  return out;
}

}  // namespace homeward::connectors::http
