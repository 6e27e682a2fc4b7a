// The Beast server (see server.h). One coroutine per connection, on a strand
// of its own, so that a connection's reads, writes, timers and wake-ups never
// run at the same time; handlers marked kWorker run on the worker pool and
// resume the coroutine on its strand.
#include "connectors/http/server.h"

#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>

#include "connectors/http/problem.h"

namespace homeward::connectors::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;

// What a kept-alive connection reads at once when its next request begins.
constexpr size_t kFirstReadBytes = 4096;

// What stop() needs of a live connection, touched only on its strand.
struct SessionState {
  net::any_io_executor executor;
  beast::tcp_stream* stream = nullptr;  // null once the session ended
  bool reading_idle = false;            // waiting for a request head
  std::function<void()> wake;           // ends a wait (deferred reply, stream)
};

Response internal_error(std::string_view what) {
  return problem(500, "internal", "Internal server error",
                 fmt::format("the server failed to answer: {}", what));
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, const Router& r, ServerHooks h)
      : options(std::move(o)),
        router(r),
        hooks(std::move(h)),
        ioc(static_cast<int>(options.network_threads)),
        acceptor(ioc),
        workers(options.worker_threads) {}

  ServerOptions options;
  const Router& router;
  ServerHooks hooks;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::thread_pool workers;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> connections{0};
  std::mutex sessions_mutex;
  std::set<std::shared_ptr<SessionState>> sessions;
  uint16_t bound_port = 0;
  std::once_flag joined;

  // Runs `f` on the worker pool and resumes on the caller's executor with
  // its result (or its exception). Everything the worker touches is in a
  // shared state (never the coroutine's frame or an initiation lambda), and
  // the coroutine waits on a timer of its own executor that the worker's
  // completion cancels: the hand-over is only a post and a cancel.
  struct WorkerState {
    explicit WorkerState(net::any_io_executor e) : executor(std::move(e)), timer(executor) {}
    net::any_io_executor executor;
    net::steady_timer timer;
    std::function<Reply()> work;
    Reply reply;
    std::exception_ptr error;
    bool done = false;  // read and written on `executor` only
  };
  awaitable<Reply> on_worker(std::function<Reply()> f) {
    auto state = std::make_shared<WorkerState>(co_await net::this_coro::executor);
    state->work = std::move(f);
    state->timer.expires_at(net::steady_timer::time_point::max());
    net::post(workers, [state] {
      Reply reply;
      std::exception_ptr error;
      try {
        reply = state->work();
      } catch (...) {
        error = std::current_exception();
      }
      net::post(state->executor, [state, error, reply = std::move(reply)]() mutable {
        state->reply = std::move(reply);
        state->error = error;
        state->done = true;
        state->timer.cancel();
      });
    });
    while (!state->done) {
      beast::error_code ec;
      co_await state->timer.async_wait(net::redirect_error(use_awaitable, ec));
    }
    if (state->error) std::rethrow_exception(state->error);
    co_return std::move(state->reply);
  }

  Reply call(const Route& route, Request& request) {
    try {
      return route.handler(request);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", request.method, request.target, e.what());
      return internal_error(e.what());
    }
  }

  // The route's reply, or the problem that stops the request before it.
  awaitable<Reply> dispatch(Request& request, std::string& route_name) {
    auto target = split_target(request.target);
    if (!target) {
      co_return problem(400, "bad-request", "The request could not be read",
                        "the request target holds a bad percent-escape");
    }
    auto path = percent_decode(target->raw_path, false);
    auto match = router.match(request.method, target->raw_path);
    if (!path || !match) {
      co_return problem(400, "bad-request", "The request could not be read",
                        "the request path holds a bad percent-escape");
    }
    request.path = std::move(*path);
    request.query = std::move(target->query);
    if (!match->route) {
      if (match->allowed.empty()) {
        co_return not_found(fmt::format("no route for {}", request.path));
      }
      std::string allow;
      for (const std::string& method : match->allowed) {
        if (!allow.empty()) allow += ", ";
        allow += method;
      }
      Response response =
          problem(405, "method-not-allowed", "Method not allowed",
                  fmt::format("{} takes {}, not {}", request.path, allow, request.method));
      response.set_header("Allow", allow);
      co_return response;
    }
    const Route& route = *match->route;
    route_name = route.pattern;
    request.params = std::move(match->params);
    if (hooks.admit) {
      if (auto denied = hooks.admit(request, route)) co_return std::move(*denied);
    }
    if (route.execution == Execution::kInline) co_return call(route, request);
    co_return co_await on_worker([this, &route, &request] { return call(route, request); });
  }

  // Waits for a deferred reply's condition; true when it timed out.
  awaitable<bool> wait_deferred(const DeferredReply& deferred, SessionState& state) {
    auto executor = co_await net::this_coro::executor;
    auto timer = std::make_shared<net::steady_timer>(executor);
    auto woken = std::make_shared<bool>(false);
    auto wake = [executor, timer, woken] {
      net::post(executor, [timer, woken] {
        *woken = true;
        timer->cancel();
      });
    };
    state.wake = wake;
    const ChangeSignal::Id id = hooks.changes ? hooks.changes->subscribe(wake) : 0;
    bool timed_out = false;
    for (;;) {
      if (deferred.ready()) break;
      if (stopping.load() || Clock::now() >= deferred.deadline) {
        timed_out = true;
        break;
      }
      if (!*woken) {
        timer->expires_at(deferred.deadline);
        beast::error_code ec;
        co_await timer->async_wait(net::redirect_error(use_awaitable, ec));
      }
      *woken = false;
    }
    if (hooks.changes) hooks.changes->unsubscribe(id);
    state.wake = nullptr;
    co_return timed_out;
  }

  awaitable<void> write_response(beast::tcp_stream& stream, Response& response, unsigned version,
                                 bool keep_alive, beast::error_code& ec) {
    bhttp::response<bhttp::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(response.status));
    res.set(bhttp::field::server, "homeward");
    res.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    // A 304 has no body, and its Content-Length would have to be the one of
    // the 200 it stands for (RFC 9110 8.6), so it gets none.
    if (response.status != 304) res.prepare_payload();
    stream.expires_after(options.write_timeout);
    co_await bhttp::async_write(stream, res, net::redirect_error(use_awaitable, ec));
  }

  awaitable<void> serve_stream(beast::tcp_stream& stream, StreamReply& reply, unsigned version,
                               SessionState& state) {
    if (hooks.on_stream_count) hooks.on_stream_count(+1);
    bhttp::response<bhttp::empty_body> head;
    head.version(version);
    head.result(static_cast<unsigned>(reply.head.status));
    head.set(bhttp::field::server, "homeward");
    head.set(bhttp::field::content_type, reply.head.content_type);
    for (const auto& [name, value] : reply.head.headers) head.set(name, value);
    head.keep_alive(false);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer(head);
    beast::error_code ec;
    stream.expires_after(options.write_timeout);
    co_await bhttp::async_write_header(stream, serializer, net::redirect_error(use_awaitable, ec));

    auto executor = co_await net::this_coro::executor;
    auto timer = std::make_shared<net::steady_timer>(executor);
    auto woken = std::make_shared<bool>(false);
    auto wake = [executor, timer, woken] {
      net::post(executor, [timer, woken] {
        *woken = true;
        timer->cancel();
      });
    };
    state.wake = wake;
    if (!ec) reply.stream->start(wake);
    std::string out;
    while (!ec) {
      out.clear();
      const bool more = reply.stream->take(out);
      if (!out.empty()) {
        stream.expires_after(options.write_timeout);
        co_await net::async_write(stream, bhttp::make_chunk(net::buffer(out)),
                                  net::redirect_error(use_awaitable, ec));
        if (ec) break;
      }
      if (!more || stopping.load()) break;
      if (!*woken) {
        timer->expires_after(options.heartbeat_interval);
        beast::error_code timer_ec;
        co_await timer->async_wait(net::redirect_error(use_awaitable, timer_ec));
        if (!*woken && !stopping.load()) {
          const std::string beat = reply.stream->heartbeat();
          stream.expires_after(options.write_timeout);
          co_await net::async_write(stream, bhttp::make_chunk(net::buffer(beat)),
                                    net::redirect_error(use_awaitable, ec));
        }
      }
      *woken = false;
    }
    state.wake = nullptr;
    if (!ec) {
      stream.expires_after(options.write_timeout);
      co_await net::async_write(stream, bhttp::make_chunk_last(),
                                net::redirect_error(use_awaitable, ec));
    }
    if (hooks.on_stream_count) hooks.on_stream_count(-1);
  }

  void observe(std::string_view route, std::string_view method, int status,
               Clock::time_point started) {
    if (!hooks.observe) return;
    hooks.observe(route, method, status, std::chrono::duration<double>(Clock::now() - started));
  }

  awaitable<void> session(tcp::socket socket) {
    auto state = std::make_shared<SessionState>();
    state->executor = socket.get_executor();
    beast::tcp_stream stream(std::move(socket));
    state->stream = &stream;
    {
      std::lock_guard lock(sessions_mutex);
      sessions.insert(state);
    }
    try {
      co_await serve_connection(stream, *state);
    } catch (const std::exception& e) {
      spdlog::warn("HTTP connection ended by an error: {}", e.what());
    }
    state->stream = nullptr;
    {
      std::lock_guard lock(sessions_mutex);
      sessions.erase(state);
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    connections.fetch_sub(1);
  }

  // A read error's answer before the connection closes: nullopt when there is
  // nobody to answer (the client left or was too slow).
  static std::optional<Response> read_error_answer(const beast::error_code& ec, size_t limit) {
    if (ec == bhttp::error::body_limit) {
      return problem(413, "body-too-large", "Request body too large",
                     fmt::format("a request body may hold at most {} bytes", limit));
    }
    if (ec == bhttp::error::header_limit) {
      return problem(431, "header-too-large", "Request header fields too large",
                     "the request head is larger than the server reads");
    }
    if (ec.category() == beast::error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return problem(400, "bad-request", "The request could not be read",
                     fmt::format("not an HTTP/1.1 request: {}", ec.message()));
    }
    return std::nullopt;
  }

  awaitable<void> serve_connection(beast::tcp_stream& stream, SessionState& state) {
    beast::flat_buffer buffer;
    beast::error_code peer_ec;
    const std::string peer = stream.socket().remote_endpoint(peer_ec).address().to_string();
    bool first = true;
    while (!stopping.load()) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      beast::error_code ec;
      state.reading_idle = true;
      if (!first && buffer.size() == 0) {
        // Between requests a kept-alive connection may idle up to the idle
        // timeout; once the next request's first bytes came, its head must
        // come within the header timeout, as on a new connection, so that a
        // client sending a byte a second cannot hold it for longer.
        stream.expires_after(options.idle_timeout);
        const size_t got = co_await stream.async_read_some(buffer.prepare(kFirstReadBytes),
                                                           net::redirect_error(use_awaitable, ec));
        buffer.commit(got);
      }
      if (!ec) {
        stream.expires_after(options.header_timeout);
        co_await bhttp::async_read_header(stream, buffer, parser,
                                          net::redirect_error(use_awaitable, ec));
      }
      state.reading_idle = false;
      first = false;
      if (!ec && !parser.is_done()) {
        if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
          bhttp::response<bhttp::empty_body> go_on(bhttp::status::continue_,
                                                   parser.get().version());
          stream.expires_after(options.write_timeout);
          co_await bhttp::async_write(stream, go_on, net::redirect_error(use_awaitable, ec));
        }
        if (!ec) {
          stream.expires_after(options.body_timeout);
          co_await bhttp::async_read(stream, buffer, parser,
                                     net::redirect_error(use_awaitable, ec));
        }
      }
      if (ec) {
        if (auto answer = read_error_answer(ec, options.max_body_bytes)) {
          const Clock::time_point started = Clock::now();
          beast::error_code write_ec;
          co_await write_response(stream, *answer, 11, false, write_ec);
          observe("unmatched", "?", answer->status, started);
        }
        co_return;
      }
      const Clock::time_point started = Clock::now();
      bhttp::request<bhttp::string_body> message = parser.release();
      Request request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      request.peer = peer;
      for (const auto& field : message) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        request.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      request.body = std::move(message.body());
      const unsigned version = message.version();
      bool keep_alive = message.keep_alive();

      std::string route_name = "unmatched";
      Reply reply = co_await dispatch(request, route_name);
      while (auto* deferred = std::get_if<DeferredReply>(&reply)) {
        DeferredReply waiting = std::move(*deferred);
        const bool timed_out = co_await wait_deferred(waiting, state);
        reply = co_await on_worker(
            [&waiting, timed_out]() -> Reply { return waiting.finish(timed_out); });
      }
      if (auto* streamed = std::get_if<StreamReply>(&reply)) {
        observe(route_name, request.method, streamed->head.status, started);
        co_await serve_stream(stream, *streamed, version, state);
        co_return;
      }
      Response& response = std::get<Response>(reply);
      keep_alive = keep_alive && !stopping.load();
      const int status = response.status;
      co_await write_response(stream, response, version, keep_alive, ec);
      observe(route_name, request.method, status, started);
      if (ec || !keep_alive) co_return;
    }
  }

  // Over the connection limit: a short answer, then close.
  awaitable<void> refuse(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    Response response = problem(
        503, "too-many-connections", "Too many connections",
        fmt::format("the server holds at most {} connections; try again", options.max_connections));
    response.set_header("Retry-After", "1");
    beast::error_code ec;
    co_await write_response(stream, response, 11, false, ec);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  awaitable<void> accept_loop() {
    while (!stopping.load()) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(net::make_strand(ioc),
                                                          net::redirect_error(use_awaitable, ec));
      if (ec) {
        if (stopping.load() || ec == net::error::operation_aborted) break;
        // Out of descriptors, say: wait a little rather than spin.
        spdlog::warn("accepting a connection failed: {}", ec.message());
        net::steady_timer pause(co_await net::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(net::redirect_error(use_awaitable, ec));
        continue;
      }
      if (connections.load() >= options.max_connections) {
        auto executor = socket.get_executor();
        net::co_spawn(executor, refuse(std::move(socket)), net::detached);
        continue;
      }
      connections.fetch_add(1);
      auto executor = socket.get_executor();
      net::co_spawn(executor, session(std::move(socket)), net::detached);
    }
  }

  void stop() {
    if (stopping.exchange(true)) return;
    net::post(acceptor.get_executor(), [this] {
      beast::error_code ignored;
      acceptor.close(ignored);
    });
    std::lock_guard lock(sessions_mutex);
    for (const auto& state : sessions) {
      net::post(state->executor, [state] {
        if (state->stream && state->reading_idle) state->stream->cancel();
        if (state->wake) state->wake();
      });
    }
  }

  void join() {
    std::call_once(joined, [this] {
      for (std::thread& thread : threads) {
        if (thread.joinable()) thread.join();
      }
      workers.join();
    });
  }
};

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, const Router& router,
                                              ServerHooks hooks) {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(options.address, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--listen {}: not an IP address", options.address));
  }
  if (options.network_threads == 0) options.network_threads = 1;
  if (options.worker_threads == 0) options.worker_threads = 1;
  auto impl = std::make_unique<Impl>(std::move(options), router, std::move(hooks));
  const tcp::endpoint endpoint(address, impl->options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("cannot listen on {}:{}: {}", impl->options.address,
                                  impl->options.port, ec.message()));
  }
  impl->bound_port = impl->acceptor.local_endpoint().port();
  net::co_spawn(impl->acceptor.get_executor(), impl->accept_loop(), net::detached);
  for (size_t i = 0; i < impl->options.network_threads; ++i) {
    impl->threads.emplace_back([raw = impl.get()] { raw->ioc.run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  impl_->stop();
  impl_->join();
}

uint16_t Server::port() const { return impl_->bound_port; }

std::string Server::address() const {
  const std::string& host = impl_->options.address;
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port());
  return fmt::format("{}:{}", host, port());
}

void Server::stop() { impl_->stop(); }
void Server::join() { impl_->join(); }

Result<bool> is_loopback_address(const std::string& address) {
  beast::error_code ec;
  const net::ip::address parsed = net::ip::make_address(address, ec);
  if (ec) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--listen {}: not an IP address", address));
  }
  return parsed.is_loopback();
}

}  // namespace homeward::connectors::http
