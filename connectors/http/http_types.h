// The HTTP module's own view of requests and responses, so that route
// handlers never see the HTTP library (only server.cc includes Boost.Beast).
//
// A route answers with a Reply: a whole Response; a StreamReply (a head, then
// bytes as they come: Server-Sent Events); or a DeferredReply (an answer that
// waits, bounded, until a condition on the projections holds: min_position,
// wait=outcome). Values; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace homeward::connectors::http {

using Clock = std::chrono::steady_clock;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct TokenIdentity;  // tokens.h

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query, percent-encoded
  std::string path;    // decoded
  // Decoded query parameters, in order; a name may repeat.
  std::vector<std::pair<std::string, std::string>> query;
  HeaderList headers;  // names in lower case
  std::string body;
  std::string peer;  // the client's address, "127.0.0.1"
  // The route's path parameters ({id} in the pattern), decoded.
  std::vector<std::pair<std::string, std::string>> params;
  // Set when the request carried a valid token (tokens.h); null otherwise.
  const TokenIdentity* token = nullptr;

  // The first value of a query parameter, or nullopt when absent.
  [[nodiscard]] std::optional<std::string> query_value(std::string_view name) const;
  // A header by its lower-case name; empty when absent.
  [[nodiscard]] std::string_view header(std::string_view lower_name) const;
  // A path parameter of the route; empty when the route has none by that name.
  [[nodiscard]] std::string_view param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;

  void set_header(std::string name, std::string value);
};

// The bytes of a long-lived response (Server-Sent Events). The session calls
// start once, then take whenever wake was called (and at least every
// heartbeat interval); wake may be called from any thread, and must not be
// called after the stream is destroyed (implementations hold it weakly).
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual void start(std::function<void()> wake) = 0;
  // Appends the bytes to send now to `out`; false once the stream is over
  // (the connection closes after `out` is sent).
  virtual bool take(std::string& out) = 0;
  // Bytes that keep an idle connection open (an SSE comment).
  [[nodiscard]] virtual std::string heartbeat() const { return ":\n\n"; }
};

struct StreamReply {
  Response head;  // status, content type and headers; its body is ignored
  std::shared_ptr<EventStream> stream;
};

struct DeferredReply;
using Reply = std::variant<Response, StreamReply, DeferredReply>;

// An answer that waits until `ready()` or `deadline`, then is made by
// `finish(timed_out)` on a worker thread. `ready` is checked on the
// session's thread each time the ChangeSignal fires; it must be cheap and
// thread-safe.
struct DeferredReply {
  std::function<bool()> ready;
  Clock::time_point deadline;
  std::function<Reply(bool timed_out)> finish;
};

// Fired after every projector round (live_projection.h); deferred replies
// and streams subscribe to it. Thread-safe.
class ChangeSignal {
 public:
  using Id = uint64_t;
  Id subscribe(std::function<void()> callback);
  void unsubscribe(Id id);
  void notify_all();

 private:
  std::mutex mutex_;
  Id next_id_ = 1;
  std::vector<std::pair<Id, std::function<void()>>> callbacks_;
};

}  // namespace homeward::connectors::http
