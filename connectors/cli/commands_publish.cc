// `homeward publish FILE|-`: stage-1 checks and append to the log.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/publish_wait.h"
#include "connectors/cli/publishing.h"
#include "connectors/cli/stop_signals.h"

namespace homeward::connectors::cli {
namespace {

struct PublishArgs {
  std::string file;
  int64_t from_line = 1;
  bool all_or_nothing = false;
  bool wait = false;
  bool json = false;
  bool pretty = false;
};

Result<int> run_publish(const PublishArgs& args, const CommandContext& context) {
  // From here on, SIGINT and SIGTERM finish the batch in flight and report
  // where to go on; a second one ends the process (stop_signals.h).
  StopSignals signals;
  auto input = open_stoppable_input(args.file, context, signals);
  if (!input) return std::unexpected(input.error());
  auto log = open_log(context, LogAccess::kAppend);
  if (!log) return std::unexpected(log.error());
  engine::PublishOptions options;
  options.all_or_nothing = args.all_or_nothing;
  options.first_line = args.from_line;
  options.stop_requested = [&signals] { return signals.stop_requested(); };
  AppendedLines appended;
  if (args.wait) appended.attach(options);
  // Refusals go out as they happen, never held (1M refused lines held were
  // 162 MB): on stderr, or into the JSON document as it is written.
  JsonReportStream json(context.out, args.pretty);
  auto report =
      publish_stream(**log, input->stream(), options, context, [&](const engine::Refusal& refusal) {
        if (args.json) {
          json.refusal(refusal);
        } else {
          print_refusal(refusal, context);
        }
      });
  if (!report) {
    std::string message = report.error().message;
    if (const std::string reason = input->read_error(); !reason.empty()) {
      message = fmt::format("{} ({})", message, reason);
    }
    json.fail(message);
    return make_error(report.error().code, message);
  }
  if (!args.wait) {
    if (args.json) {
      json.finish(publish_report_json(*report));
    } else {
      print_publish_report(*report, args.all_or_nothing, context);
    }
    print_interruption(*report, signals.signal_name(), args.all_or_nothing, context);
    return publish_exit_code(*report);
  }
  // --wait: the lines appended before an interruption get their outcomes
  // too (they are in the log either way); a second signal still ends the
  // process at once (stop_signals.h).
  if (!args.json) print_publish_report(*report, args.all_or_nothing, context);
  auto outcomes = wait_for_outcomes(**log, appended, context);
  if (!outcomes) {
    // What was appended stays appended: the summary is out (or goes into the
    // document beside the error), and where to go on after a signal too.
    if (args.json) json.fail(outcomes.error().message, publish_report_json(*report));
    print_interruption(*report, signals.signal_name(), args.all_or_nothing, context);
    return std::unexpected(outcomes.error());
  }
  if (args.json) {
    json.finish(publish_report_json(*report), [&] {
      json.array_member("outcomes", outcomes->outcomes.size(),
                        [&](size_t i) { return outcome_json(appended, i, outcomes->outcomes[i]); });
      json.member("outcome_totals", outcome_totals_json(outcomes->totals));
    });
  } else {
    print_outcomes(appended, *outcomes, context);
  }
  print_interruption(*report, signals.signal_name(), args.all_or_nothing, context);
  // Stage-2 outcomes are facts of the ledger, not failures of the publish:
  // the exit code keeps its meaning (a rejected line is in the log, and in
  // `rejections`).
  return publish_exit_code(*report);
}

}  // namespace

void add_publish_commands(CLI::App& app, std::vector<Command>& commands) {
  auto args = std::make_shared<PublishArgs>();
  CLI::App* publish = app.add_subcommand(
      "publish",
      "Check NDJSON events (stage 1) and append the well-formed ones to the log. Exits 0 when "
      "none was refused, 3 when some were, 6 when Kafka gave no answer for some (publish those "
      "lines again, same event_id), 130 when SIGINT or SIGTERM stopped it (after the batch in "
      "flight; it says which --from-line goes on), 1 on any other error.");
  publish->add_option("FILE", args->file, "NDJSON file to publish, or - for standard input")
      ->required();
  publish
      ->add_option("--from-line", args->from_line,
                   "Skip the input's lines before line N (1 = the first), e.g. to go on after "
                   "an interrupted publish; line numbers in refusals stay the input's")
      ->option_text("N")
      ->check(CLI::PositiveNumber);
  publish->add_flag("--all-or-nothing", args->all_or_nothing,
                    "Append nothing when any line is refused");
  publish->add_flag("--wait", args->wait,
                    "Then project what was appended and report each appended line's stage-2 "
                    "outcome: applied, duplicate or rejected with the SPEC reason");
  publish->add_flag("--json", args->json,
                    "Print {\"refused\",\"appended\",\"failed\",\"unknown\"} as one JSON "
                    "document (with --wait also \"outcomes\" and \"outcome_totals\")");
  publish->add_flag("--pretty", args->pretty, "Indent the JSON document");
  add_examples(publish, {"homeward --data /srv/ledger publish - --wait --json < events.ndjson",
                         "homeward publish events.ndjson --from-line 500482   # after Ctrl-C"});
  commands.push_back(
      {publish, [args](const CommandContext& context) { return run_publish(*args, context); }});
}

}  // namespace homeward::connectors::cli
