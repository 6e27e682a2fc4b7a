// The change streams of `homeward serve` (GET /v1/changes and
// GET /v1/public/changes, Server-Sent Events): a ChangeFeed is a bounded
// ring of SSE messages that every client of a stream reads from its own
// place, and a FeedStream is one client's reading of it.
//
// Messages are rendered once, when their round (or public window) ends, and
// shared by every client, so a thousand watchers cost one rendering. Each
// message has a unique SSE id; a client that reconnects with Last-Event-ID
// resumes just after that message, so across its connections it sees every
// message exactly once, as long as the message is still in the ring. A
// client whose place has left the ring (it was away too long, or reads too
// slowly) gets an `event: reset` message and goes on from the newest
// message: it must read the figures again (GET /v1/cases) to be whole.
//
// Thread-safe: publish from the follow loop's (or the window's) thread,
// reads from the network threads.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/http/http_types.h"

namespace homeward::connectors::http {

struct FeedEntry {
  std::string id;     // the SSE id, unique in the feed
  std::string event;  // the SSE event name ("case", "stats")
  std::string data;   // one line of JSON
};

class ChangeFeed : public std::enable_shared_from_this<ChangeFeed> {
 public:
  // Keeps at most `max_messages` and `max_bytes` of messages.
  ChangeFeed(size_t max_messages, size_t max_bytes)
      : max_messages_(max_messages), max_bytes_(max_bytes) {}

  // Appends the messages (in order) and wakes every reader.
  void publish(const std::vector<FeedEntry>& entries);

  // The sequence number to read from after the message `id`; nullopt when no
  // message in the ring has it.
  [[nodiscard]] std::optional<uint64_t> after(std::string_view id) const;
  // The sequence number the next message will have (a reader starting live).
  [[nodiscard]] uint64_t end() const;

  // Appends the SSE text of the messages from `seq` on to `out` (at most
  // about `max_bytes`) and advances `seq`; false when `seq` is older than the
  // ring (the reader lost its place; nothing is appended).
  bool read(uint64_t& seq, std::string& out, size_t max_bytes) const;

  using WakeId = uint64_t;
  WakeId subscribe(std::function<void()> wake);
  void unsubscribe(WakeId id);

 private:
  struct Stored {
    uint64_t seq;
    std::string id;
    std::string text;  // "id: ...\nevent: ...\ndata: ...\n\n"
  };
  mutable std::mutex mutex_;
  const size_t max_messages_;
  const size_t max_bytes_;
  std::deque<Stored> ring_;
  std::unordered_map<std::string, uint64_t> by_id_;
  uint64_t next_seq_ = 0;
  size_t bytes_ = 0;
  WakeId next_wake_ = 1;
  std::vector<std::pair<WakeId, std::function<void()>>> wakes_;
};

// One client's reading of a feed, from `seq` on.
class FeedStream final : public EventStream {
 public:
  FeedStream(std::shared_ptr<ChangeFeed> feed, uint64_t seq, std::string first)
      : feed_(std::move(feed)), seq_(seq), pending_(std::move(first)) {}
  ~FeedStream() override;
  void start(std::function<void()> wake) override;
  bool take(std::string& out) override;

 private:
  std::shared_ptr<ChangeFeed> feed_;
  uint64_t seq_;
  std::string pending_;  // sent first: the retry hint, a reset message
  ChangeFeed::WakeId wake_id_ = 0;
  std::function<void()> wake_;
};

// The SSE reply for a feed: resumes after the request's Last-Event-ID when
// the ring still holds it, else sends `event: reset` (with an id it does not
// know) or starts live (without one).
[[nodiscard]] StreamReply feed_reply(const std::shared_ptr<ChangeFeed>& feed,
                                     const Request& request);

}  // namespace homeward::connectors::http
