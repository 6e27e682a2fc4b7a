// Kafka mode of the CLI (see kafka_mode.h): the global options, the Kafka
// LogHandle, `project --follow` with consumer lag, and `dev-broker`.
#include "connectors/cli/kafka_mode.h"

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/dev_broker_port.h"
#include "connectors/cli/follow.h"
#include "connectors/cli/help.h"
#include "connectors/cli/stop_signals.h"
#include "connectors/kafka/kafka_log.h"
#include "connectors/kafka/mock_cluster.h"
#include "engine/projector.h"

namespace homeward::connectors::cli {
namespace {

using Clock = std::chrono::steady_clock;

// How long `project --follow` rests once caught up before it asks Kafka for
// the end offsets again, and how long it waits after the brokers could not
// be reached before it tries again.
constexpr std::chrono::milliseconds kFollowIdle{500};
constexpr std::chrono::milliseconds kFollowRetry{2000};
// A lag line on a pipe or a file: at most one per this interval.
constexpr std::chrono::milliseconds kLagLineInterval{2000};

class KafkaLogHandle final : public LogHandle {
 public:
  KafkaLogHandle(std::unique_ptr<KafkaReader> reader, std::unique_ptr<KafkaAppender> appender,
                 KafkaOptions options)
      : reader_(std::move(reader)), appender_(std::move(appender)), options_(std::move(options)) {}

  engine::EventLogReader& reader() override { return *reader_; }
  engine::EventLogAppender& appender() override { return *appender_; }
  std::string describe() const override {
    return fmt::format("Kafka topic '{}' at {}", options_.topic, options_.brokers);
  }
  Result<std::string> identity() override {
    // The cluster id, not the bootstrap address: the same cluster is reached
    // under many names, and another cluster may answer at the same address.
    auto cluster = reader_->cluster_id();
    if (!cluster) return std::unexpected(cluster.error());
    return fmt::format("Kafka cluster {}, topic '{}'", *cluster, options_.topic);
  }
  [[nodiscard]] KafkaReader& kafka_reader() { return *reader_; }
  // Information for monitoring tools only (never read back).
  void note_projected(const engine::OffsetMap& next_offsets) override {
    reader_->commit_projected(next_offsets);
  }

 private:
  std::unique_ptr<KafkaReader> reader_;
  std::unique_ptr<KafkaAppender> appender_;
  KafkaOptions options_;
};

// ---------------------------------------------------------- lag display

// `following: N events read, lag L` on stderr: redrawn in place on a
// terminal, a plain line at most every kLagLineInterval otherwise.
class LagLine {
 public:
  LagLine(const CommandContext& context) : context_(context) {}
  ~LagLine() { finish(); }
  LagLine(const LagLine&) = delete;
  LagLine& operator=(const LagLine&) = delete;

  void update(int64_t events_read, int64_t lag) {
    if (context_.options.quiet) return;
    const Clock::time_point now = Clock::now();
    const bool changed = events_read != last_read_ || lag != last_lag_;
    std::string text = fmt::format("following: {} events read, lag {} events", events_read, lag);
    if (context_.err_is_terminal) {
      if (!changed && drawn_width_ != 0) return;
      const size_t width = text.size();
      if (width < drawn_width_) text.append(drawn_width_ - width, ' ');
      context_.err << '\r' << text << std::flush;
      drawn_width_ = width;
    } else {
      if (!changed || (printed_once_ && now - last_printed_ < kLagLineInterval)) return;
      context_.err << text << '\n' << std::flush;
      last_printed_ = now;
      printed_once_ = true;
    }
    last_read_ = events_read;
    last_lag_ = lag;
  }

  void finish() {
    if (drawn_width_ == 0) return;
    context_.err << '\n' << std::flush;
    drawn_width_ = 0;
  }

 private:
  const CommandContext& context_;
  int64_t last_read_ = -1;
  int64_t last_lag_ = -1;
  size_t drawn_width_ = 0;
  bool printed_once_ = false;
  Clock::time_point last_printed_{};
};

// How open_kafka_handle treats brokers that do not answer yet.
enum class BrokerWait {
  kFailFast,    // a query or publish: say so within seconds
  kKeepTrying,  // project --follow: wait for them, stopping on a signal
};

Result<std::unique_ptr<KafkaLogHandle>> open_kafka_handle(const GlobalOptions& options,
                                                          BrokerWait wait,
                                                          const std::atomic<bool>* interrupt) {
  auto kafka = kafka_options(options);
  if (!kafka) return std::unexpected(kafka.error());
  kafka->interrupt = interrupt;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot create {}: {}", options.data_dir.string(), ec.message()));
  }
  auto reader = KafkaReader::open(*kafka);
  if (!reader) return std::unexpected(reader.error());
  if (wait == BrokerWait::kFailFast) {
    if (auto reached = (*reader)->wait_for_brokers(); !reached) {
      return std::unexpected(reached.error());
    }
  }
  auto appender = KafkaAppender::open(*kafka);
  if (!appender) return std::unexpected(appender.error());
  return std::make_unique<KafkaLogHandle>(std::move(*reader), std::move(*appender),
                                          std::move(*kafka));
}

// ------------------------------------------------------ project --follow

Result<int> run_follow(const CommandContext& context) {
  if (context.options.kafka_brokers.empty()) {
    context.err << "homeward: project --follow needs --kafka BROKERS: the embedded log has a "
                   "single writer, this process, so there is nothing to follow\n";
    return kExitUsage;
  }
  // Before the clients exist: their blocking calls give up on the first
  // SIGINT/SIGTERM (KafkaOptions::interrupt), also while the brokers are down.
  StopSignals signals;
  auto log = open_kafka_handle(context.options, BrokerWait::kKeepTrying, signals.flag());
  if (!log) return std::unexpected(log.error());
  KafkaLogHandle& handle = **log;
  // The store's LOCK: a second projector into the same directory stops here.
  auto store = open_store_writer(**log, context);
  if (!store) return std::unexpected(store.error());

  LagLine lag_line(context);
  if (!context.options.quiet) {
    context.err << fmt::format("homeward: following {} into {}; Ctrl-C stops\n", handle.describe(),
                               projections_dir(context.options).string());
  }
  FollowHooks hooks;
  hooks.stop_requested = [&] { return signals.stop_requested(); };
  hooks.wait = [&](std::chrono::milliseconds duration) { signals.wait(duration); };
  hooks.on_lag = [&](int64_t events_read, int64_t lag) { lag_line.update(events_read, lag); };
  hooks.before_log = [&] { lag_line.finish(); };
  hooks.idle = kFollowIdle;
  hooks.retry = kFollowRetry;
  auto events_read = follow_log(handle, **store, hooks);
  if (!events_read) return std::unexpected(events_read.error());
  lag_line.finish();
  context.out << fmt::format("read {} events; stopped on request, the projections are saved\n",
                             *events_read);
  return kExitOk;
}

// ------------------------------------------------------------ dev-broker

struct DevBrokerArgs {
  int brokers = 1;
  int partitions = 3;
  int port = 0;
};

Result<int> run_dev_broker(const DevBrokerArgs& args, const CommandContext& context) {
  auto cluster = MockCluster::start(args.brokers);
  if (!cluster) return std::unexpected(cluster.error());
  const std::string& topic = context.options.kafka_topic;
  if (auto created = (*cluster)->create_topic(topic, args.partitions); !created) {
    return std::unexpected(created.error());
  }
  std::string address = (*cluster)->bootstrap_servers();
  std::unique_ptr<BootstrapForwarder> forwarder;
  if (args.port != 0) {
    auto started = BootstrapForwarder::start(args.port, address);
    if (!started) return std::unexpected(started.error());
    forwarder = std::move(*started);
    address = forwarder->address();
  }
  StopSignals signals;
  // The address alone on standard output, for scripts: ADDR=$(... | head -1).
  context.out << address << '\n' << std::flush;
  if (!context.options.quiet) {
    context.err << fmt::format(
        "homeward: dev broker (librdkafka mock cluster, {} broker(s)) on {}, topic '{}' with {} "
        "partition(s); data is in memory only and each partition keeps at most 5 MiB. "
        "Ctrl-C stops.\n"
        "  homeward --kafka {} publish events.ndjson\n"
        "  homeward --kafka {} project\n"
        "  homeward --kafka {} stats\n",
        args.brokers, address, topic, args.partitions, address, address, address);
  }
  while (!signals.stop_requested()) signals.wait(std::chrono::milliseconds(1000));
  if (!context.options.quiet) context.err << "homeward: dev broker stopped\n";
  return kExitOk;
}

}  // namespace

Result<KafkaOptions> kafka_options(const GlobalOptions& options) {
  KafkaOptions kafka;
  kafka.brokers = options.kafka_brokers;
  kafka.topic = options.kafka_topic;
  if (!options.kafka_config.empty()) {
    auto properties = load_kafka_properties(options.kafka_config);
    if (!properties) return std::unexpected(properties.error());
    kafka.properties = std::move(*properties);
  }
  return kafka;
}

Result<std::unique_ptr<LogHandle>> open_kafka_log(const GlobalOptions& options) {
  auto handle = open_kafka_handle(options, BrokerWait::kFailFast, nullptr);
  if (!handle) return std::unexpected(handle.error());
  return std::unique_ptr<LogHandle>(std::move(*handle));
}

void add_kafka_mode(CLI::App& app, GlobalOptions& options, std::vector<Command>& commands) {
  app.add_option("--kafka", options.kafka_brokers,
                 "Kafka bootstrap servers (HOST:PORT,...): the log is then the Kafka topic and "
                 "only the projections stay in --data DIR")
      ->type_name("BROKERS");
  app.add_option("--topic", options.kafka_topic, "Kafka topic of the log (with --kafka)")
      ->type_name("TOPIC")
      ->capture_default_str();
  app.add_option("--kafka-config", options.kafka_config,
                 "File of librdkafka properties (key=value lines, # comments) for both Kafka "
                 "clients: SASL, TLS, timeouts")
      ->type_name("FILE");

  // `project --follow`: keeps projecting what arrives, showing the lag.
  CLI::App* project = app.get_subcommand("project");
  auto follow = std::make_shared<bool>(false);
  project->add_flag("--follow", *follow,
                    "With --kafka: keep projecting new events as they arrive, showing the "
                    "consumer lag, until SIGINT/SIGTERM");
  for (Command& command : commands) {
    if (command.app != project) continue;
    command.action = [follow, once = command.action](const CommandContext& context) {
      return *follow ? run_follow(context) : once(context);
    };
  }

  auto args = std::make_shared<DevBrokerArgs>();
  CLI::App* dev_broker = app.add_subcommand(
      "dev-broker",
      "Run a Kafka cluster for trying Kafka mode (librdkafka's mock cluster, in memory, on "
      "127.0.0.1) with the --topic topic, print its bootstrap address, and run until "
      "SIGINT/SIGTERM");
  dev_broker->add_option("--brokers", args->brokers, "Number of brokers, 1 to 16")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  dev_broker->add_option("--partitions", args->partitions, "Partitions of the topic, 1 to 1000")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  dev_broker
      ->add_option("--port", args->port,
                   "Fixed bootstrap port on 127.0.0.1 (the brokers themselves listen on "
                   "ephemeral ports; this port forwards to the first one)")
      ->type_name("PORT")
      ->check(CLI::Range(1, 65535));
  add_examples(dev_broker,
               {"homeward dev-broker --partitions 3    # prints 127.0.0.1:PORT",
                "homeward --kafka 127.0.0.1:PORT --data ./kdata publish events.ndjson"});
  commands.push_back({dev_broker, [args](const CommandContext& context) {
                        return run_dev_broker(*args, context);
                      }});
}

}  // namespace homeward::connectors::cli
