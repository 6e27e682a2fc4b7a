// `homeward project`, `case`, `cases`, `stats`, `rejections`: bring the
// projections up to the end of the log, then print them.
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/as_of.h"
#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/publishing.h"
#include "connectors/cli/table_output.h"
#include "events/identifier.h"
#include "projections/json_output.h"
#include "projections/paging.h"

namespace homeward::connectors::cli {
namespace {

struct OutputArgs {
  bool json = false;
  bool pretty = false;
  std::string as_of;  // --as-of of case, cases, stats (as_of.h); empty: now
};

// --status, --limit and --after of `cases` and `rejections`
// (projections/paging.h). Paging is asked for by --limit or --after: the
// JSON document is then a page object with `next`; without them it stays the
// plain array of SPEC section 7.
struct PageArgs {
  std::string status;  // cases only; empty: every status
  size_t limit = 0;    // 0: no limit
  std::string after;
  [[nodiscard]] bool paging() const { return limit > 0 || !after.empty(); }
};

void add_page_options(CLI::App* command, PageArgs& args, std::string_view what,
                      std::string_view cursor_name) {
  command
      ->add_option(
          "--limit", args.limit,
          fmt::format("At most N {}; the output then says where the next page starts", what))
      ->type_name("N")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            // Checked on the text: CLI11 would wrap "-1" into a huge size_t.
            const bool digits = !text.empty() && text.size() <= 18 &&
                                text.find_first_not_of("0123456789") == std::string::npos;
            if (!digits || std::stoll(text) < 1) return "N must be a whole number from 1";
            return {};
          },
          ""));
  command
      ->add_option(
          "--after", args.after,
          fmt::format("Only the {} after {} (the `next` of the previous page)", what, cursor_name))
      ->type_name(std::string(cursor_name));
}

void add_output_flags(CLI::App* command, OutputArgs& args) {
  command->add_flag("--json", args.json, "Print exactly one JSON document (SPEC section 7)");
  command->add_flag("--pretty", args.pretty, "Indent the JSON document");
}

// After a page that is not the last, on standard output under the table.
void print_next_page(std::ostream& out, std::string_view what, std::string_view cursor) {
  out << fmt::format("more {} follow: the next page starts with --after {}\n", what, cursor);
}

Result<int> run_project(bool rebuild, const CommandContext& context) {
  auto log = open_log(context, LogAccess::kRead);
  if (!log) return std::unexpected(log.error());
  Result<engine::CatchUpReport> report;
  if (rebuild) {
    report = rebuild_projections(**log, context);
  } else {
    auto store = open_store_writer(**log, context);
    if (!store) return std::unexpected(store.error());
    report = catch_up(**log, **store, context);
  }
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

Result<int> run_cases(const OutputArgs& args, const PageArgs& page_args,
                      const CommandContext& context) {
  projections::CaseQuery query;
  if (!page_args.status.empty()) query.status = engine::parse_case_status(page_args.status);
  query.after = page_args.after;
  if (page_args.limit > 0) query.limit = page_args.limit;
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto page = cases_page_as_of(*ledger->store, query, args.as_of);
  if (!page) return std::unexpected(page.error());
  if (args.json) {
    print_json(context.out,
               page_args.paging() ? projections::case_page_json(*page)
                                  : projections::cases_json(page->cases),
               args.pretty);
  } else {
    print_as_of_note(context.out, args.as_of);
    print_cases_table(context.out, page->cases);
    if (page->next) print_next_page(context.out, "cases", *page->next);
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

Result<int> run_rejections(const OutputArgs& args, const PageArgs& page_args,
                           const CommandContext& context) {
  projections::RejectionQuery query;
  if (!page_args.after.empty()) {
    // The option's validator accepted it already.
    auto after = projections::parse_rejection_cursor(page_args.after);
    if (!after) return std::unexpected(after.error());
    query.after = std::move(*after);
  }
  if (page_args.limit > 0) query.limit = page_args.limit;
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto page = projections::query_rejections(*ledger->store, query);
  if (!page) return std::unexpected(page.error());
  if (args.json) {
    print_json(context.out,
               page_args.paging() ? projections::rejection_page_json(*page)
                                  : projections::rejections_json(page->rejections),
               args.pretty);
  } else {
    print_rejections_table(context.out, page->rejections);
    if (page->next) {
      print_next_page(context.out, "rejections", projections::format_rejection_cursor(*page->next));
    }
  }
  return kExitOk;
}

}  // namespace

void add_query_commands(CLI::App& app, std::vector<Command>& commands) {
  auto rebuild = std::make_shared<bool>(false);
  CLI::App* project = app.add_subcommand(
      "project", "Bring the projections up to the end of the log and say how many events it read");
  project->add_flag("--rebuild", *rebuild,
                    "Replay the whole log into new projections beside the live ones and swap "
                    "them in when done (after an upgrade of the rules); queries read the old "
                    "ones meanwhile");
  add_examples(project, {"homeward project",
                         "homeward project --rebuild   # after an upgrade of the rules"});
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
  add_examples(one_case, {"homeward case case-2015-001",
                          "homeward case case-2015-001 --as-of 2015-06-30 --json"});
  commands.push_back({one_case, [case_args](const CommandContext& context) {
                        return run_case(case_args->case_id, case_args->output, context);
                      }});

  struct ListArgs {
    OutputArgs output;
    PageArgs page;
  };
  auto cases_args = std::make_shared<ListArgs>();
  CLI::App* cases = app.add_subcommand("cases", "List every opened case, sorted by case_id");
  add_output_flags(cases, cases_args->output);
  add_as_of_option(cases, cases_args->output.as_of);
  cases
      ->add_option("--status", cases_args->page.status,
                   "Only the cases with this status (open, funded or closed; with --as-of, "
                   "the status they had then)")
      ->type_name("STATUS")
      ->check(CLI::IsMember({"open", "funded", "closed"}));
  add_page_options(cases, cases_args->page, "cases", "CASE_ID");
  cases->get_option("--after")->check(CLI::Validator(
      [](std::string& text) -> std::string {
        return events::is_valid_identifier(text) ? std::string()
                                                 : "not a case_id (SPEC section 2: 1 to 128 of "
                                                   "A-Z a-z 0-9 . _ : -)";
      },
      ""));
  add_examples(cases, {"homeward cases --status funded",
                       "homeward cases --json --limit 1000 --after case-001000"});
  commands.push_back({cases, [cases_args](const CommandContext& context) {
                        return run_cases(cases_args->output, cases_args->page, context);
                      }});

  auto stats_args = std::make_shared<OutputArgs>();
  CLI::App* stats = app.add_subcommand("stats", "Show the impact report across all cases");
  add_output_flags(stats, *stats_args);
  add_as_of_option(stats, stats_args->as_of);
  add_examples(stats, {"homeward stats", "homeward stats --as-of 2015-12-31 --json"});
  commands.push_back({stats, [stats_args](const CommandContext& context) {
                        return run_stats(*stats_args, context);
                      }});

  auto rejections_args = std::make_shared<ListArgs>();
  CLI::App* rejections = app.add_subcommand(
      "rejections", "List the events the ledger rules rejected, in log order within each case");
  add_output_flags(rejections, rejections_args->output);
  add_page_options(rejections, rejections_args->page, "rejections", "CASE_ID/PARTITION/OFFSET");
  rejections->get_option("--after")->check(CLI::Validator(
      [](std::string& text) -> std::string {
        auto key = projections::parse_rejection_cursor(text);
        return key ? std::string() : key.error().message;
      },
      ""));
  add_examples(rejections, {"homeward rejections",
                            "homeward rejections --json --limit 100 --after case-7/0/4711"});
  commands.push_back({rejections, [rejections_args](const CommandContext& context) {
                        return run_rejections(rejections_args->output, rejections_args->page,
                                              context);
                      }});
}

}  // namespace homeward::connectors::cli
