#include "connectors/http/live_projection.h"

#include <algorithm>
#include <utility>

namespace homeward::connectors::http {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

void LiveProjection::on_record(const engine::LogRecord& record, const events::Event* event,
                               const engine::Outcome& outcome) {
  // The case the record changed: a malformed record changes no case's
  // figures (it is never entered into one), only the rejection list.
  if (event != nullptr) round_cases_.insert(event->case_id);
  if (round_started_ns_ == 0) round_started_ns_ = now_ns();
  if (outcome_hook_) outcome_hook_(outcome);
  std::lock_guard lock(mutex_);
  observed_next_[record.partition.value()] = record.offset.value() + 1;
  if (interest_.empty()) return;
  const Key key{record.partition.value(), record.offset.value()};
  if (interest_.contains(key)) staged_[key] = outcome;
}

void LiveProjection::on_skip(Partition partition, Offset next_offset) {
  std::lock_guard lock(mutex_);
  int64_t& next = observed_next_[partition.value()];
  next = std::max(next, next_offset.value());
}

void LiveProjection::set_initial_position(const engine::Checkpoints& checkpoints) {
  std::lock_guard lock(mutex_);
  position_.clear();
  for (const auto& [partition, checkpoint] : checkpoints) {
    position_.emplace(partition, checkpoint.next_offset);
  }
}

void LiveProjection::on_round(const engine::Checkpoints& checkpoints) {
  RoundChanges changes;
  for (const auto& [partition, checkpoint] : checkpoints) {
    changes.position.emplace(partition, checkpoint.next_offset);
  }
  changes.case_ids.assign(round_cases_.begin(), round_cases_.end());
  std::sort(changes.case_ids.begin(), changes.case_ids.end());
  round_cases_.clear();
  if (round_started_ns_ != 0) {
    changes.seconds = static_cast<double>(now_ns() - round_started_ns_) / 1e9;
    round_started_ns_ = 0;
  }
  std::function<void(const RoundChanges&)> listener;
  {
    std::lock_guard lock(mutex_);
    position_ = changes.position;
    for (auto& [key, outcome] : staged_) ready_[key] = outcome;
    staged_.clear();
    listener = listener_;
  }
  last_round_ns_.store(now_ns());
  rounds_.fetch_add(1);
  if (listener) listener(changes);
  changes_.notify_all();
}

void LiveProjection::set_lag(int64_t lag_events) { lag_events_.store(lag_events); }

void LiveProjection::wait_for_work(std::chrono::milliseconds duration) {
  std::unique_lock lock(wake_mutex_);
  wake_cv_.wait_for(lock, duration, [&] { return woken_ || stop_.load(); });
  woken_ = false;
}

void LiveProjection::wake_follower() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void LiveProjection::set_round_listener(std::function<void(const RoundChanges&)> listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

engine::OffsetMap LiveProjection::position() const {
  std::lock_guard lock(mutex_);
  return position_;
}

bool LiveProjection::reached(const engine::OffsetMap& wanted) const {
  std::lock_guard lock(mutex_);
  for (const auto& [partition, offset] : wanted) {
    const auto it = position_.find(partition);
    if ((it == position_.end() ? 0 : it->second.value()) < offset.value()) return false;
  }
  return true;
}

double LiveProjection::seconds_since_round() const {
  const int64_t last = last_round_ns_.load();
  if (last == 0) return 0;
  return static_cast<double>(now_ns() - last) / 1e9;
}

std::vector<engine::LogPosition> LiveProjection::expect(
    const std::vector<engine::LogPosition>& positions) {
  std::vector<engine::LogPosition> already;
  std::lock_guard lock(mutex_);
  for (const engine::LogPosition& p : positions) {
    // Under the same lock as on_record's check: either the record is folded
    // after this (and its outcome staged), or it was folded before and is
    // reported here, never neither.
    const auto it = observed_next_.find(p.partition.value());
    if (it != observed_next_.end() && it->second > p.offset.value()) {
      already.push_back(p);
    } else {
      interest_.insert(key_of(p));
    }
  }
  return already;
}

std::optional<engine::Outcome> LiveProjection::outcome(const engine::LogPosition& p) const {
  std::lock_guard lock(mutex_);
  const auto it = ready_.find(key_of(p));
  if (it == ready_.end()) return std::nullopt;
  return it->second;
}

void LiveProjection::forget(const std::vector<engine::LogPosition>& positions) {
  std::lock_guard lock(mutex_);
  for (const engine::LogPosition& p : positions) {
    interest_.erase(key_of(p));
    staged_.erase(key_of(p));
    ready_.erase(key_of(p));
  }
}

void LiveProjection::request_stop() {
  stop_.store(true);
  wake_follower();
  changes_.notify_all();
}

}  // namespace homeward::connectors::http
