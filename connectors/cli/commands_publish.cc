// `homeward publish FILE|-`: stage-1 checks and append to the log.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/publishing.h"

namespace homeward::connectors::cli {
namespace {

struct PublishArgs {
  std::string file;
  bool all_or_nothing = false;
  bool json = false;
  bool pretty = false;
};

Result<int> run_publish(const PublishArgs& args, const CommandContext& context) {
  auto input = open_input(args.file, context.in);
  if (!input) return std::unexpected(input.error());
  auto log = open_log(context.options, LogAccess::kCreateIfMissing);
  if (!log) return std::unexpected(log.error());
  // Refusals go out as they happen, never held (1M refused lines held were
  // 162 MB): on stderr, or into the JSON document as it is written.
  JsonReportStream json(context.out, args.pretty);
  auto report = publish_stream(**log, input->stream(), args.all_or_nothing, context,
                               [&](const engine::Refusal& refusal) {
                                 if (args.json) {
                                   json.refusal(refusal);
                                 } else {
                                   print_refusal(refusal, context);
                                 }
                               });
  if (!report) {
    json.fail(report.error().message);
    return std::unexpected(report.error());
  }
  if (args.json) {
    json.finish(publish_report_json(*report));
  } else {
    print_publish_report(*report, args.all_or_nothing, context);
  }
  return publish_exit_code(*report);
}

}  // namespace

void add_publish_commands(CLI::App& app, std::vector<Command>& commands) {
  auto args = std::make_shared<PublishArgs>();
  CLI::App* publish = app.add_subcommand(
      "publish",
      "Check NDJSON events (stage 1) and append the well-formed ones to the log. Exits 0 when "
      "none was refused, 3 when some were, 6 when Kafka gave no answer for some (publish those "
      "lines again, same event_id), 1 on any other error.");
  publish->add_option("FILE", args->file, "NDJSON file to publish, or - for standard input")
      ->required();
  publish->add_flag("--all-or-nothing", args->all_or_nothing,
                    "Append nothing when any line is refused");
  publish->add_flag("--json", args->json,
                    "Print {\"refused\",\"appended\",\"failed\",\"unknown\"} as one JSON "
                    "document");
  publish->add_flag("--pretty", args->pretty, "Indent the JSON document");
  add_examples(publish, {"homeward publish events.ndjson",
                         "homeward --data /srv/ledger publish - --json < events.ndjson"});
  commands.push_back(
      {publish, [args](const CommandContext& context) { return run_publish(*args, context); }});
}

}  // namespace homeward::connectors::cli
