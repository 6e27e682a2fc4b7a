// Internal to the CLI: what every command receives (global options and
// streams), and the registration functions of the command groups. Each
// commands_*.cc adds its subcommands to the CLI11 app and returns the action
// that runs once the arguments are parsed. Not thread-safe (one run at a time).
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "events/error.h"

namespace CLI {
class App;
}  // namespace CLI

namespace homeward::connectors::cli {

// Options that every command takes, before or after the command's name.
struct GlobalOptions {
  std::filesystem::path data_dir = "./homeward-data";
  bool quiet = false;
  std::string log_level = "warn";
  // Kafka mode (kafka_mode.h): with `--kafka BROKERS` the log is the topic
  // and only the projections stay in data_dir. Only open_log looks at these.
  std::string kafka_brokers;
  std::string kafka_topic = "homeward.events";
  std::filesystem::path kafka_config;  // librdkafka properties file; empty: none
};

struct CommandContext {
  const GlobalOptions& options;
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;
  // The file descriptor behind `in` when it is the process's standard input
  // (so that `publish -` can wait for it and still stop on a signal); -1
  // when `in` is a stream of the caller's (tests, embedding).
  int in_fd = -1;
  // The subcommand's name ("publish"), for the holder of a writer lock.
  std::string_view command = "homeward";

  // Progress lines are drawn only for a person watching a terminal.
  [[nodiscard]] bool show_progress() const { return err_is_terminal && !options.quiet; }
};

// The exit codes of cli.h.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitPartial = 3;
// Another homeward process holds the writer lock of what this command must
// write (kBusy): retry later. Not 1, which also means "unknown case".
inline constexpr int kExitBusy = 5;
// Some Kafka deliveries have no answer: those lines may be in the log or not
// (publish them again with the same event_id).
inline constexpr int kExitUnknownOutcome = 6;
// `publish` stopped by SIGINT or SIGTERM before the end of its input (the
// shell's 128 + SIGINT).
inline constexpr int kExitInterrupted = 130;

// A command's action: its exit code, or an Error that run_cli prints as
// `homeward: error: MESSAGE` with exit code 1.
using CommandAction = std::function<Result<int>(const CommandContext&)>;

struct Command {
  CLI::App* app = nullptr;  // the subcommand, owned by the parent CLI::App
  CommandAction action;
};

// Each adds its subcommands to `app` and appends them to `commands`.
void add_publish_commands(CLI::App& app, std::vector<Command>& commands);
void add_query_commands(CLI::App& app, std::vector<Command>& commands);
void add_export_commands(CLI::App& app, std::vector<Command>& commands);
void add_demo_commands(CLI::App& app, std::vector<Command>& commands);
// `donor` (commands_donor.cc): a donor's statement, personal data.
void add_donor_commands(CLI::App& app, std::vector<Command>& commands);
// `homeward audit` (commands_audit.cc; exit 4 when a check fails).
void add_audit_commands(CLI::App& app, std::vector<Command>& commands);
// `homeward serve` (commands_serve.cc): the HTTP API, connectors/http.
void add_serve_commands(CLI::App& app, std::vector<Command>& commands);
// Kafka mode (kafka_mode.cc): the global --kafka/--topic/--kafka-config
// options, `project --follow` and `dev-broker`. Called after the others.
void add_kafka_mode(CLI::App& app, GlobalOptions& options, std::vector<Command>& commands);

}  // namespace homeward::connectors::cli
