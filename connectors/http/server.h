// The HTTP/1.1 server of `homeward serve`, on Boost.Beast and Boost.Asio:
// an acceptor and one coroutine per connection on an io_context run by a
// few network threads, and a pool of worker threads for handlers that may
// take milliseconds (Execution::kWorker). No HTTP is parsed here by hand:
// Beast's parser reads every request, with the limits below.
//
// Everything is bounded: header bytes and time, body bytes and time, idle
// keep-alive time, write time, concurrent connections. A mistake in a
// request is answered with its problem document (problem.h) and never stops
// the server; a request the parser cannot read is answered 400/413/431 and
// the connection closed.
//
// The server knows nothing of tokens or metrics: `admit` (authentication and
// rate limits) and `observe` (metrics) are hooks. It is started once and
// stopped once; stop() is thread-safe and graceful: the acceptor closes,
// requests in flight are answered (with Connection: close), idle connections
// and streams end, then the threads are joined.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "connectors/http/http_types.h"
#include "connectors/http/router.h"
#include "events/error.h"

namespace homeward::connectors::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: an ephemeral port (Server::port() tells which)
  size_t network_threads = 2;
  size_t worker_threads = 2;
  size_t max_header_bytes = size_t{16} << 10;
  size_t max_body_bytes = size_t{16} << 20;
  size_t max_connections = 4096;
  // The whole request head: from the accept, or on a kept-alive connection
  // from the first byte of its next request.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  // Between keep-alive requests, until the next one's first byte.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds heartbeat_interval{15'000};  // event streams
};

// Called before a matched route's handler: a Response to send instead (401,
// 403, 429), or nullopt to go on. May set request.token. Thread-safe.
using AdmitHook = std::function<std::optional<Response>(Request& request, const Route& route)>;
// Called after each answer: the route's pattern (or "unmatched"), the
// method, the status and the time from the end of reading the request.
using ObserveHook = std::function<void(std::string_view route, std::string_view method, int status,
                                       std::chrono::duration<double> seconds)>;

struct ServerHooks {
  AdmitHook admit;
  ObserveHook observe;
  std::function<void(int delta)> on_stream_count;  // +1 / -1 per event stream
  ChangeSignal* changes = nullptr;                 // deferred replies wait on it; required for them
};

class Server {
 public:
  // Binds and listens (kUnavailable when the address is taken, kInvalidArgument
  // when it is not an IP address), then starts the threads.
  [[nodiscard]] static Result<std::unique_ptr<Server>> start(ServerOptions options,
                                                             const Router& router,
                                                             ServerHooks hooks);
  ~Server();  // stop() and join
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string address() const;  // "127.0.0.1:PORT"

  // Graceful stop (see above); returns at once, join() waits.
  void stop();
  void join();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether `address` is a loopback address (127.0.0.0/8, ::1).
[[nodiscard]] Result<bool> is_loopback_address(const std::string& address);

}  // namespace homeward::connectors::http
