#include "connectors/http/change_feed.h"

#include <utility>

#include <fmt/core.h>

namespace homeward::connectors::http {
namespace {

// Messages a reader takes per write: enough for a round, small enough that
// one slow client does not hold a large buffer.
constexpr size_t kReadBytes = size_t{256} << 10;

}  // namespace

void ChangeFeed::publish(const std::vector<FeedEntry>& entries) {
  if (entries.empty()) return;
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard lock(mutex_);
    for (const FeedEntry& e : entries) {
      Stored stored{next_seq_++, e.id,
                    fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.event, e.data)};
      bytes_ += stored.text.size();
      by_id_[stored.id] = stored.seq;
      ring_.push_back(std::move(stored));
      while (!ring_.empty() && (ring_.size() > max_messages_ || bytes_ > max_bytes_)) {
        bytes_ -= ring_.front().text.size();
        const auto it = by_id_.find(ring_.front().id);
        if (it != by_id_.end() && it->second == ring_.front().seq) by_id_.erase(it);
        ring_.pop_front();
      }
    }
    for (const auto& [id, wake] : wakes_) wakes.push_back(wake);
  }
  for (const auto& wake : wakes) wake();
}

std::optional<uint64_t> ChangeFeed::after(std::string_view id) const {
  std::lock_guard lock(mutex_);
  const auto it = by_id_.find(std::string(id));
  if (it == by_id_.end()) return std::nullopt;
  return it->second + 1;
}

uint64_t ChangeFeed::end() const {
  std::lock_guard lock(mutex_);
  return next_seq_;
}

bool ChangeFeed::read(uint64_t& seq, std::string& out, size_t max_bytes) const {
  std::lock_guard lock(mutex_);
  if (seq >= next_seq_) return true;
  if (ring_.empty() || seq < ring_.front().seq) return false;
  size_t index = static_cast<size_t>(seq - ring_.front().seq);
  size_t taken = 0;
  while (index < ring_.size() && taken < max_bytes) {
    out += ring_[index].text;
    taken += ring_[index].text.size();
    ++index;
    ++seq;
  }
  return true;
}

ChangeFeed::WakeId ChangeFeed::subscribe(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  const WakeId id = next_wake_++;
  wakes_.emplace_back(id, std::move(wake));
  return id;
}

void ChangeFeed::unsubscribe(WakeId id) {
  std::lock_guard lock(mutex_);
  std::erase_if(wakes_, [id](const auto& entry) { return entry.first == id; });
}

FeedStream::~FeedStream() {
  if (wake_id_ != 0) feed_->unsubscribe(wake_id_);
}

void FeedStream::start(std::function<void()> wake) {
  wake_ = wake;
  wake_id_ = feed_->subscribe(std::move(wake));
}

bool FeedStream::take(std::string& out) {
  out += pending_;
  pending_.clear();
  if (!feed_->read(seq_, out, kReadBytes)) {
    // The reader's place left the ring: it is told, and goes on live.
    seq_ = feed_->end();
    out +=
        "event: reset\ndata: {\"reason\":\"the stream moved on past this client's place; "
        "read the figures again\"}\n\n";
  }
  // More may be waiting than one read takes: the session comes back at once
  // only when woken, so it is woken again while the ring is ahead.
  if (seq_ < feed_->end() && wake_) wake_();
  return true;
}

StreamReply feed_reply(const std::shared_ptr<ChangeFeed>& feed, const Request& request) {
  StreamReply reply;
  reply.head.content_type = "text/event-stream";
  reply.head.set_header("Cache-Control", "no-store");
  reply.head.set_header("X-Accel-Buffering", "no");
  std::string first = "retry: 1000\n\n";
  uint64_t seq = feed->end();
  const std::string_view last = request.header("last-event-id");
  if (!last.empty()) {
    if (const auto after = feed->after(last)) {
      seq = *after;
    } else {
      first +=
          "event: reset\ndata: {\"reason\":\"Last-Event-ID is not in the stream any more; "
          "read the figures again\"}\n\n";
    }
  }
  reply.stream = std::make_shared<FeedStream>(feed, seq, std::move(first));
  return reply;
}

}  // namespace homeward::connectors::http
