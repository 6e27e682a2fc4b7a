// `homeward project`, `case`, `cases`, `stats`, `rejections`: bring the
// projections up to the end of the log, then print them.
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/as_of.h"
#include "connectors/cli/command_context.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/publishing.h"
#include "connectors/cli/table_output.h"
#include "projections/json_output.h"

namespace homeward::connectors::cli {
namespace {

struct OutputArgs {
  bool json = false;
  bool pretty = false;
  std::string as_of;  // --as-of of case, cases, stats (as_of.h); empty: now
};

void add_output_flags(CLI::App* command, OutputArgs& args) {
  command->add_flag("--json", args.json, "Print exactly one JSON document (SPEC section 7)");
  command->add_flag("--pretty", args.pretty, "Indent the JSON document");
}

Result<int> run_project(bool rebuild, const CommandContext& context) {
  auto log = open_log(context.options, LogAccess::kMustExist);
  if (!log) return std::unexpected(log.error());
  // The log stays open (and locked) while the store is deleted, so no other
  // homeward process can be projecting into it meanwhile.
  if (rebuild) {
    auto destroyed = destroy_projections(context.options);
    if (!destroyed) return std::unexpected(destroyed.error());
  }
  auto store = open_projections(context.options);
  if (!store) return std::unexpected(store.error());
  auto report = catch_up(**log, **store, context);
  if (!report) return std::unexpected(report.error());
  if (rebuild) {
    context.out << fmt::format("rebuilt the projections: read {} events from the whole log\n",
                               report->events_read);
  } else {
    context.out << fmt::format("read {} events; the projections are up to date\n",
                               report->events_read);
  }
  return kExitOk;
}

Result<int> run_case(const std::string& case_id, const OutputArgs& args,
                     const CommandContext& context) {
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto found = find_case_as_of(*ledger->store, case_id, args.as_of);
  if (!found) return std::unexpected(found.error());
  if (!found->has_value()) {
    context.err << fmt::format("homeward: case {} is unknown{}\n", case_id,
                               args.as_of.empty() ? "" : " as of " + args.as_of);
    return kExitError;
  }
  if (args.json) {
    print_json(context.out, projections::case_json(case_id, **found), args.pretty);
  } else {
    print_as_of_note(context.out, args.as_of);
    print_case(context.out, case_id, **found);
  }
  return kExitOk;
}

Result<int> run_cases(const OutputArgs& args, const CommandContext& context) {
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto cases = list_cases_as_of(*ledger->store, args.as_of);
  if (!cases) return std::unexpected(cases.error());
  if (args.json) {
    print_json(context.out, projections::cases_json(*cases), args.pretty);
  } else {
    print_as_of_note(context.out, args.as_of);
    print_cases_table(context.out, *cases);
  }
  return kExitOk;
}

Result<int> run_stats(const OutputArgs& args, const CommandContext& context) {
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto report = impact_report_as_of(*ledger->store, args.as_of);
  if (!report) return std::unexpected(report.error());
  if (args.json) {
    print_json(context.out, projections::impact_json(*report), args.pretty);
    return kExitOk;
  }
  print_as_of_note(context.out, args.as_of);
  auto printed = print_impact_report(context.out, *report);
  if (!printed) return std::unexpected(printed.error());
  return kExitOk;
}

Result<int> run_rejections(const OutputArgs& args, const CommandContext& context) {
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto rejections = ledger->store->list_rejections();
  if (!rejections) return std::unexpected(rejections.error());
  if (args.json) {
    print_json(context.out, projections::rejections_json(*rejections), args.pretty);
  } else {
    print_rejections_table(context.out, *rejections);
  }
  return kExitOk;
}

}  // namespace

void add_query_commands(CLI::App& app, std::vector<Command>& commands) {
  auto rebuild = std::make_shared<bool>(false);
  CLI::App* project = app.add_subcommand(
      "project", "Bring the projections up to the end of the log and say how many events it read");
  project->add_flag("--rebuild", *rebuild,
                    "Delete DIR/projections first and replay the whole log (after an upgrade of "
                    "the rules)");
  commands.push_back({project, [rebuild](const CommandContext& context) {
                        return run_project(*rebuild, context);
                      }});

  struct CaseArgs {
    std::string case_id;
    OutputArgs output;
  };
  auto case_args = std::make_shared<CaseArgs>();
  CLI::App* one_case = app.add_subcommand("case", "Show one case: its figures and its budget");
  one_case
      ->add_option("CASE_ID", case_args->case_id,
                   "The case's case_id (after `--` when it starts with '-': "
                   "`homeward case --json -- -b`)")
      ->required();
  add_output_flags(one_case, case_args->output);
  add_as_of_option(one_case, case_args->output.as_of);
  commands.push_back({one_case, [case_args](const CommandContext& context) {
                        return run_case(case_args->case_id, case_args->output, context);
                      }});

  auto cases_args = std::make_shared<OutputArgs>();
  CLI::App* cases = app.add_subcommand("cases", "List every opened case, sorted by case_id");
  add_output_flags(cases, *cases_args);
  add_as_of_option(cases, cases_args->as_of);
  commands.push_back({cases, [cases_args](const CommandContext& context) {
                        return run_cases(*cases_args, context);
                      }});

  auto stats_args = std::make_shared<OutputArgs>();
  CLI::App* stats = app.add_subcommand("stats", "Show the impact report across all cases");
  add_output_flags(stats, *stats_args);
  add_as_of_option(stats, stats_args->as_of);
  commands.push_back({stats, [stats_args](const CommandContext& context) {
                        return run_stats(*stats_args, context);
                      }});

  auto rejections_args = std::make_shared<OutputArgs>();
  CLI::App* rejections = app.add_subcommand(
      "rejections", "List the events the ledger rules rejected, in log order within each case");
  add_output_flags(rejections, *rejections_args);
  commands.push_back({rejections, [rejections_args](const CommandContext& context) {
                        return run_rejections(*rejections_args, context);
                      }});
}

}  // namespace homeward::connectors::cli
