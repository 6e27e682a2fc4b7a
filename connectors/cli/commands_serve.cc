// `homeward serve [--listen ADDR:PORT]`: the HTTP API (connectors/http). It
// opens the log and the projections of --data DIR as their one writer, runs
// the follow loop (follow.h) on a thread of its own, so the projections stay
// live, and the HTTP server on a few network threads and a worker pool.
// SIGINT/SIGTERM stop it gracefully: the server stops accepting and answers
// what is in flight (every publish it answered is durable), the follow loop
// ends its round, and the store closes cleanly. A second signal ends the
// process at once (the store is consistent at any point anyway).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <atomic>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/follow.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/serve_command.h"
#include "connectors/http/change_routes.h"
#include "connectors/http/dashboard/assets.h"
#include "connectors/http/dashboard/ops_page.h"
#include "connectors/http/dashboard/public_page.h"
#include "connectors/http/ledger_routes.h"
#include "connectors/http/live_projection.h"
#include "connectors/http/metrics.h"
#include "connectors/http/ops_monitor.h"
#include "connectors/http/router.h"
#include "connectors/http/server.h"
#include "connectors/http/tokens.h"
#include "events/codec.h"
#include "events/identifier.h"

namespace homeward::connectors::cli {
namespace {

// The follow loop rests this long when caught up. The server's own appends
// wake it at once; other producers' records (Kafka) wait at most this.
constexpr std::chrono::milliseconds kServeIdle{100};

struct TokenArgs {
  std::string name;
  std::vector<std::string> scopes;
  std::string append;
};

// "ADDR:PORT", "[::1]:PORT" or ":PORT" (127.0.0.1).
Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--listen {}: expected ADDRESS:PORT (127.0.0.1:8080)", text));
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--listen {}: the port must be a number from 0 to 65535", text));
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// The projector's observer in serve: the live projections and the
// operator's figures (/v1/ops) see every record.
class ServeObserver final : public engine::ProjectionObserver {
 public:
  ServeObserver(http::LiveProjection& live, http::OpsMonitor& ops) : live_(live), ops_(ops) {}
  void on_record(const engine::LogRecord& record, const events::Event* event,
                 const engine::Outcome& outcome) override {
    live_.on_record(record, event, outcome);
    ops_.on_record(record, event, outcome);
  }
  void on_skip(Partition partition, Offset next_offset) override {
    live_.on_skip(partition, next_offset);
  }

 private:
  http::LiveProjection& live_;
  http::OpsMonitor& ops_;
};

// SIGINT and SIGTERM are blocked in every thread and taken by one thread
// with sigtimedwait, so that no other thread is ever interrupted.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalWatcher() {
    stop();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Calls `on_stop` (on the watcher's thread) at the first signal.
  void start(std::function<void()> on_stop) {
    thread_ = std::thread([this, on_stop = std::move(on_stop)] {
      bool stopping = false;
      const timespec tick{0, 200'000'000};
      while (!done_.load()) {
        const int signal_number = sigtimedwait(&set_, nullptr, &tick);
        if (signal_number < 0) continue;
        if (stopping) _exit(128 + signal_number);  // the second one: at once
        stopping = true;
        spdlog::warn("stopping on signal {}: answering requests in flight", signal_number);
        on_stop();
      }
    });
  }

  // Ends the watching thread once it has returned from `on_stop`: called
  // before anything `on_stop` touches is destroyed (a signal's stop once
  // ran on while serve's objects were going away). Signals stay blocked.
  void stop() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  sigset_t set_{};
  sigset_t old_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// 1,000 idle clients and RocksDB's files must fit under the descriptor limit.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Result<int> run_token_create(const TokenArgs& args, const CommandContext& context) {
  if (!events::is_valid_identifier(args.name)) {
    context.err << fmt::format(
        "homeward: --name {}: must be 1 to 128 characters of A-Z a-z 0-9 . _ : -\n", args.name);
    return kExitUsage;
  }
  uint8_t scopes = 0;
  for (const std::string& scope : args.scopes) {
    auto bits = http::parse_scopes(scope);
    if (!bits) {
      context.err << fmt::format("homeward: --scope {}: {}\n", scope, bits.error().message);
      return kExitUsage;
    }
    scopes |= *bits;
  }
  auto token = http::new_token();
  if (!token) return std::unexpected(token.error());
  const std::string line = http::token_line(args.name, scopes, *token);
  if (!args.append.empty()) {
    // The file holds hashes only, but who may add tokens to it matters.
    const int fd = ::open(args.append.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
      return make_error(ErrorCode::kIo,
                        fmt::format("--append {}: {}", args.append, std::strerror(errno)));
    }
    const std::string text = line + "\n";
    const ssize_t written = ::write(fd, text.data(), text.size());
    const int closed = ::close(fd);
    if (written != static_cast<ssize_t>(text.size()) || closed != 0) {
      return make_error(ErrorCode::kIo, fmt::format("--append {}: writing failed", args.append));
    }
  }
  // The token alone on the first line (TOKEN=$(homeward token create ... | head -1)).
  context.out << *token << '\n' << line << '\n';
  if (!context.options.quiet) {
    context.err << fmt::format(
        "homeward: the first line is the token (shown only now); the second {} the tokens "
        "file\n",
        args.append.empty() ? "goes into" : "was appended to");
  }
  return kExitOk;
}

}  // namespace

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Result<int> run_serve(const ServeArgs& args, const CommandContext& context) {
  auto listen = parse_listen(args.listen);
  if (!listen) {
    context.err << fmt::format("homeward: {}\n", listen.error().message);
    return kExitUsage;
  }
  auto loopback = http::is_loopback_address(listen->first);
  if (!loopback) {
    context.err << fmt::format("homeward: {}\n", loopback.error().message);
    return kExitUsage;
  }
  std::optional<http::TokenTable> tokens;
  if (!args.tokens_file.empty()) {
    auto loaded = http::TokenTable::load(args.tokens_file);
    if (!loaded) {
      context.err << fmt::format("homeward: {}\n", loaded.error().message);
      return kExitUsage;
    }
    tokens = std::move(*loaded);
  }
  if (!*loopback && !tokens) {
    context.err << fmt::format(
        "homeward: serve refuses to listen on {} without --tokens FILE: anyone who can reach "
        "a non-loopback address could publish and read personal data\n",
        listen->first);
    return kExitUsage;
  }
  raise_descriptor_limit();
  // Blocked before any thread starts, so that every thread inherits it.
  SignalWatcher signals;

  // serve is a writer of both: it appends what portals post and projects
  // the log, while queries (other processes too) read beside it.
  auto log = open_log(context, LogAccess::kAppend);
  if (!log) return std::unexpected(log.error());
  auto store = open_store_writer(**log, context);
  if (!store) return std::unexpected(store.error());

  http::LiveProjection live;
  // The position of what the store already holds, until the first round.
  auto checkpoints = (*store)->load_checkpoints();
  if (!checkpoints) return std::unexpected(checkpoints.error());
  live.set_initial_position(*checkpoints);
  http::LedgerApi api;
  api.store = store->get();
  api.live = &live;
  api.appender = &(*log)->appender();
  api.log_description = (*log)->describe();
  api.max_events_per_request = args.max_events;

  http::Router router;
  http::add_read_routes(router, api);
  http::add_publish_routes(router, api);
  http::add_public_routes(router, api);
  http::ChangeOptions change_options;
  change_options.public_window = std::chrono::milliseconds(args.public_window_ms);
  http::ChangeStreams change_streams(api, change_options);
  change_streams.add_routes(router);
  http::Metrics metrics(HOMEWARD_VERSION, events::kSchemaVersion);
  api.metrics = &metrics;
  http::add_metrics_route(router, metrics);
  http::add_openapi_route(router);
  // The public dashboard at / and its files (docs/dashboard.md).
  http::dashboard::add_asset_route(router);
  http::dashboard::add_public_page_routes(
      router, api,
      {.public_window = change_options.public_window,
       .cases_per_page = static_cast<size_t>(args.public_page_cases)});
  // The operator's figures and page (docs/dashboard.md, "The operator page").
  http::OpsMonitor ops(args.audit_dir);
  http::dashboard::add_ops_routes(router, api, ops);
  live.set_outcome_hook([&metrics](const engine::Outcome& outcome) { metrics.handled(outcome); });
  live.set_round_listener([&change_streams, &metrics](const http::RoundChanges& changes) {
    if (changes.seconds > 0) metrics.round(changes.seconds);
    change_streams.on_round(changes);
  });

  http::ServerOptions options;
  options.address = listen->first;
  options.port = listen->second;
  options.network_threads = args.network_threads;
  options.worker_threads = args.worker_threads;
  options.header_timeout = std::chrono::milliseconds(args.header_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(args.idle_timeout_ms);
  options.max_connections = args.max_connections;
  options.max_body_bytes = args.max_body_bytes;
  http::AdmissionOptions admission_options;
  admission_options.tokens = tokens ? &*tokens : nullptr;
  admission_options.rate_per_second = args.token_rate;
  admission_options.burst = std::max(1.0, 2 * args.token_rate);
  http::Admission admission(admission_options);
  http::ServerHooks hooks;
  hooks.admit = [&admission](http::Request& request, const http::Route& route) {
    return admission.admit(request, route);
  };
  hooks.observe = [&metrics, &ops](std::string_view route, std::string_view method, int status,
                                   std::chrono::duration<double> seconds) {
    metrics.observe_request(route, method, status, seconds.count());
    ops.on_request(seconds.count());
  };
  hooks.on_stream_count = [&metrics](int delta) { metrics.stream_count(delta); };
  hooks.changes = &live.changes();
  auto server = http::Server::start(options, router, std::move(hooks));
  if (!server) return std::unexpected(server.error());
  api.listen_address = (*server)->address();

  signals.start([&] {
    (*server)->stop();
    live.request_stop();
  });
  // Declared after everything the watcher's callback uses, so destroyed
  // first: the watcher has finished with them before they go.
  struct StopWatcherFirst {
    SignalWatcher& watcher;
    ~StopWatcherFirst() { watcher.stop(); }
  } stop_watcher_first{signals};
  if (args.announce_dashboard) {
    context.out << fmt::format("\nThe dashboard: http://{}/ (Ctrl-C stops)\n", (*server)->address())
                << std::flush;
  } else {
    // The address alone on standard output, for scripts and tests
    // (ADDR=$(homeward serve --listen 127.0.0.1:0 | head -1)).
    context.out << (*server)->address() << '\n' << std::flush;
  }
  if (!context.options.quiet) {
    context.err << fmt::format(
        "homeward: serving {} on http://{}/ (projections in {}); Ctrl-C stops\n",
        api.log_description, (*server)->address(), projections_dir(context.options).string());
  }

  FollowHooks follow;
  follow.stop_requested = [&] { return live.stop_requested(); };
  follow.wait = [&](std::chrono::milliseconds duration) { live.wait_for_work(duration); };
  // The lag in seconds: since the projections were last caught up.
  auto caught_up_at = std::chrono::steady_clock::now();
  follow.on_lag = [&](int64_t, int64_t lag) {
    live.set_lag(lag);
    const auto now = std::chrono::steady_clock::now();
    if (lag == 0) caught_up_at = now;
    metrics.lag(lag, lag == 0 ? 0.0 : std::chrono::duration<double>(now - caught_up_at).count());
  };
  follow.on_round = [&](const engine::Checkpoints& positions, int64_t) -> Status {
    live.on_round(positions);
    // Per partition: the log's ends now, against what the store holds. A
    // log that does not answer leaves the last figures (the follow loop
    // says why it stopped).
    if (auto ends = (*log)->reader().end_offsets()) {
      ops.on_round(positions, *ends);
      for (const auto& partition : ops.partition_lags()) {
        metrics.partition_lag(partition.partition, partition.events, partition.seconds);
      }
    }
    return {};
  };
  ServeObserver observer(live, ops);
  follow.projector.observer = &observer;
  follow.idle = kServeIdle;
  // The follow loop on this thread: the server runs on its own threads.
  auto followed = follow_log(**log, **store, follow);
  // Whatever ended the loop, the server stops, answering what is in flight.
  (*server)->stop();
  live.request_stop();
  (*server)->join();
  change_streams.stop();
  if (!followed) return std::unexpected(followed.error());
  if (!context.options.quiet) {
    context.err << fmt::format("homeward: stopped; read {} events, the projections are saved\n",
                               *followed);
  }
  return kExitOk;
}

void add_serve_commands(CLI::App& app, std::vector<Command>& commands) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Serve the HTTP API (docs/http.md): keep the projections live and answer reads, "
      "publishes and change streams until SIGINT/SIGTERM");
  serve
      ->add_option("--listen", args->listen,
                   "ADDRESS:PORT to listen on; port 0 takes a free one. The bound address is "
                   "printed alone on standard output")
      ->capture_default_str();
  serve->add_option("--threads", args->network_threads, "Network threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve->add_option("--workers", args->worker_threads, "Worker threads (reads, publishes)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option("--header-timeout-ms", args->header_timeout_ms,
                   "A request head must arrive within this time, or the connection closes")
      ->check(CLI::Range(int64_t{100}, int64_t{600'000}))
      ->capture_default_str();
  serve
      ->add_option("--idle-timeout-ms", args->idle_timeout_ms,
                   "A keep-alive connection with no request for this long is closed")
      ->check(CLI::Range(int64_t{100}, int64_t{3'600'000}))
      ->capture_default_str();
  serve->add_option("--max-connections", args->max_connections, "Concurrent connections")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  serve->add_option("--max-body-bytes", args->max_body_bytes, "Largest request body")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30))
      ->capture_default_str();
  serve
      ->add_option("--tokens", args->tokens_file,
                   "Tokens file (NAME SCOPES sha256:HEX per line; `homeward token create`): "
                   "every route but /v1/public/*, /livez and /readyz then needs a token. "
                   "Without it serve listens on loopback only and every route is open")
      ->check(CLI::ExistingFile);
  serve
      ->add_option("--token-rate", args->token_rate,
                   "Requests per second per token (bursts of twice as many); over it: 429")
      ->check(CLI::Range(0.1, 1e7))
      ->capture_default_str();
  serve
      ->add_option("--public-window-ms", args->public_window_ms,
                   "GET /v1/public/changes tells of a case at most once per window of this "
                   "length (SPEC section 8)")
      ->check(CLI::Range(int64_t{100}, int64_t{86'400'000}))
      ->capture_default_str();
  serve
      ->add_option("--public-page-cases", args->public_page_cases,
                   "The public page at / shows this many case cards, with links to the next "
                   "ones (docs/dashboard.md)")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000}))
      ->capture_default_str();
  serve
      ->add_option("--audit-dir", args->audit_dir,
                   "Directory of `homeward audit --out DIR`: /ops and GET /v1/ops show its "
                   "report.json (result, state digest, time), read again at every request")
      ->check(CLI::ExistingDirectory);
  serve->add_option("--max-events", args->max_events, "Most events in one POST /v1/events")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  add_examples(serve, {"homeward serve --listen 127.0.0.1:0   # prints the address it took",
                       "homeward serve --listen 0.0.0.0:8080 --tokens /etc/homeward/tokens"});
  commands.push_back(
      {serve, [args](const CommandContext& context) { return run_serve(*args, context); }});

  // `homeward token create`: a new token for --tokens FILE.
  auto token_args = std::make_shared<TokenArgs>();
  CLI::App* token = app.add_subcommand("token", "Tokens of the HTTP API (serve --tokens FILE)");
  CLI::App* create = token->add_subcommand(
      "create",
      "Make a new token: prints the token (keep it secret; it is shown once) and the line for "
      "the tokens file, which holds only its hash");
  create->add_option("--name", token_args->name, "The token's name (an identifier, for logs)")
      ->required();
  create
      ->add_option("--scope", token_args->scopes,
                   "A scope it grants: publish, read, audit, metrics (repeat, or comma-separated)")
      ->required();
  create->add_option("--append", token_args->append,
                     "Append the line to this tokens file (created with mode 0600)");
  add_examples(create, {"homeward token create --name portal --scope publish --scope read",
                        "homeward token create --name board --scope read,audit --append tokens"});
  add_examples(token, {"homeward token create --name portal --scope publish --scope read"});
  token->require_subcommand(1);
  commands.push_back({create, [token_args](const CommandContext& context) -> Result<int> {
                        return run_token_create(*token_args, context);
                      }});
}

}  // namespace homeward::connectors::cli
