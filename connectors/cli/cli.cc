// The process edge of the `homeward` command line: argument parsing (CLI11),
// logging setup, and the conversion of every error or exception into one line
// on standard error and an exit code.
#include "connectors/cli/cli.h"

#include <unistd.h>

#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"

#ifndef HOMEWARD_VERSION
#define HOMEWARD_VERSION "unknown"
#endif

namespace homeward::connectors {
namespace {

using cli::Command;
using cli::CommandContext;
using cli::GlobalOptions;

// Logs go to standard error only, so that --json output on standard out stays
// exactly one document.
void set_up_logging(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>("homeward",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(spdlog::level::from_str(level));
  logger->set_pattern("homeward: %l: %v");
  spdlog::set_default_logger(std::move(logger));
}

int run(int argc, const char* const* argv, const CliStreams& streams) {
  GlobalOptions options;
  CLI::App app{
      "Homeward: an event-sourced donation ledger for crowdfunding the return of survivors of "
      "human trafficking, one case at a time.",
      "homeward"};
  // Subcommands inherit the formatter and footer that the app has when they
  // are added.
  app.formatter(std::make_shared<cli::HelpFormatter>());
  // Global options are accepted after the command's name too.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("homeward ") + HOMEWARD_VERSION);
  app.footer(
      "Data: --data DIR holds DIR/log (the embedded event log, the truth) and DIR/projections "
      "(derived, rebuildable).\nExit codes: 0 ok, 1 error, 2 usage error, 3 publish refused "
      "some lines or export skipped malformed records, 4 an audit check failed, 5 busy: another "
      "homeward process is writing the same log or projections (retry), 6 publish has lines "
      "whose Kafka delivery is unknown (publish them again with the same event_id), 130 "
      "publish interrupted by SIGINT or SIGTERM (it says which --from-line goes on).");
  app.add_option("--data", options.data_dir, "Data directory: DIR/log and DIR/projections")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_flag("-q,--quiet", options.quiet, "No progress line");
  app.add_option("--log-level", options.log_level,
                 "Log level on standard error: trace, debug, info, warn, error, critical or off")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();

  std::vector<Command> commands;
  cli::add_publish_commands(app, commands);
  cli::add_query_commands(app, commands);
  cli::add_export_commands(app, commands);
  cli::add_demo_commands(app, commands);
  cli::add_donor_commands(app, commands);
  cli::add_audit_commands(app, commands);
  cli::add_serve_commands(app, commands);
  cli::add_kafka_mode(app, options, commands);
  for (CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) {
    command->group("Commands");
  }
  cli::add_examples(&app, {"homeward demo", "homeward publish events.ndjson && homeward cases",
                           "homeward COMMAND --help   # each command's options and examples"});

  // CLI11 would answer "A subcommand is required" for a mistyped command.
  if (auto unknown = cli::unknown_command_message(app, argc, argv)) {
    streams.err << fmt::format("homeward: error: {}\n", *unknown);
    return cli::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, streams.out, streams.err);
    return code == 0 ? cli::kExitOk : cli::kExitUsage;
  }

  set_up_logging(options.log_level);
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command.app->get_name();
    const CommandContext context{
        options,       streams.in, streams.out, streams.err, streams.err_is_terminal,
        streams.in_fd, name};
    Result<int> result = command.action(context);
    streams.out.flush();
    if (!result) {
      streams.err << fmt::format("homeward: error: {}\n", result.error().message);
      if (result.error().code == ErrorCode::kNoSpace) {
        // RocksDB's words alone ("IO error: No space left on device: While
        // appending to file ...") do not say what to do about it.
        streams.err << fmt::format(
            "homeward: error: the disk is full: free space on it and run the same command "
            "again; the log and the projections keep what they held\n");
      }
      return result.error().code == ErrorCode::kBusy ? cli::kExitBusy : cli::kExitError;
    }
    return *result;
  }
  // require_subcommand(1) makes this unreachable; say so rather than exit 0.
  streams.err << "homeward: error: no command given (see homeward --help)\n";
  return cli::kExitUsage;
}

}  // namespace

int run_cli(int argc, const char* const* argv, const CliStreams& streams) {
  try {
    return run(argc, argv, streams);
  } catch (const std::exception& e) {
    streams.err << fmt::format("homeward: error: {}\n", e.what());
  } catch (...) {
    streams.err << "homeward: error: unknown exception\n";
  }
  return cli::kExitError;
}

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  const bool terminal = &err == &std::cerr && isatty(STDERR_FILENO) == 1;
  return run_cli(argc, argv, CliStreams{std::cin, out, err, terminal, STDIN_FILENO});
}

}  // namespace homeward::connectors
