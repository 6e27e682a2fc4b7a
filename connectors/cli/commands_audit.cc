// `homeward audit`: replay the whole log independently and check the
// projections and the log itself (projections/audit/audit.h; the auditor's
// guide is docs/audit.md). Exit codes: 0 every check held, 4 some check
// failed (the findings say what and where), 1 the audit could not be done.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/progress.h"
#include "connectors/cli/publishing.h"
#include "connectors/cli/table_output.h"
#include "events/timestamp.h"
#include "projections/audit/audit.h"
#include "projections/audit/reports.h"

namespace homeward::connectors::cli {
namespace {

struct AuditArgs {
  std::string out_dir;
  std::string verify_against;
  bool json = false;
  bool pretty = false;
  bool canonical_state = false;
  bool keep_replay = false;
};

// ./homeward-audit-20261123T162700Z: sortable, and never an existing audit's
// directory unless two start in the same second.
std::filesystem::path default_out_dir() {
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::string stamp = events::format_timestamp(
      TimestampMicros(static_cast<int64_t>(now.time_since_epoch().count()) * 1'000'000));
  std::erase(stamp, '-');
  std::erase(stamp, ':');
  return std::filesystem::path(".") / ("homeward-audit-" + stamp);
}

Result<int> run_audit_command(const AuditArgs& args, const CommandContext& context) {
  auto log = open_log(context, LogAccess::kRead);
  if (!log) return std::unexpected(log.error());

  // The live projections are only read (beside any writer, also on a
  // read-only copy), and only when they exist: an audit must not create a
  // store that it would then find "behind".
  auto store = open_store_reader(**log, context);
  if (!store) return std::unexpected(store.error());
  std::unique_ptr<projections::RocksProjectionStore> live = std::move(*store);
  if (live == nullptr && !context.options.quiet) {
    context.err << fmt::format("homeward: no live projections in {}: auditing the log alone\n",
                               projections_dir(context.options).string());
  }

  projections::audit::AuditOptions options;
  options.out_dir = args.out_dir.empty() ? default_out_dir() : std::filesystem::path(args.out_dir);
  if (!args.verify_against.empty()) options.verify_against = args.verify_against;
  options.log_description = (*log)->describe();
  options.write_canonical_state = args.canonical_state;
  options.keep_replay_store = args.keep_replay;
  options.verify_log_checksums = (*log)->checksum_verifier();
  // cases.csv, rejections.csv, periods.csv and report.html, from the replay.
  options.write_more_reports = projections::audit::write_reports;

  // 10M events take minutes: show where the audit is (on a terminal only).
  ProgressLine progress(context.err, context.show_progress(), "auditing");
  options.on_progress = [&progress](const projections::audit::AuditProgress& p) {
    using projections::audit::AuditPhase;
    switch (p.phase) {
      case AuditPhase::kReplaying:
        progress.show("replaying the log",
                      fmt::format("({} of {} records)", group_thousands(p.records_read),
                                  group_thousands(p.records_total)));
        break;
      case AuditPhase::kComparing:
        progress.show("comparing with the live projections");
        break;
      case AuditPhase::kCheckingInvariants:
        progress.show("checking the invariants");
        break;
      case AuditPhase::kComputingDigest:
        progress.show("computing the state digest");
        break;
      case AuditPhase::kWritingReports:
        progress.show("writing the reports");
        break;
    }
  };
  auto result = projections::audit::run_audit((*log)->reader(), live.get(), options);
  progress.finish();
  if (!result) return std::unexpected(result.error());

  if (args.json) {
    print_json(context.out, result->report, args.pretty);
  } else {
    const auto& report = result->report;
    context.out << fmt::format("audited {} events of {}\n", report["events_read"].get<int64_t>(),
                               options.log_description);
    for (const auto& partition : report["partitions"]) {
      context.out << fmt::format(
          "  partition {}: next offset {}, chain head {}\n", partition["partition"].get<int64_t>(),
          partition["next_offset"].get<int64_t>(), partition["chain_head"].get<std::string>());
    }
    if (report["state_digest"].is_object()) {  // null when the audit stopped at a damaged file
      context.out << fmt::format("  state digest (sha256, {}): {}\n",
                                 report["state_digest"]["canonical_form"].get<std::string>(),
                                 report["state_digest"]["value"].get<std::string>());
    }
    // Each check's status as report.json gives it: a check that was not
    // done says so rather than "passed".
    for (const auto& [name, check] : report["checks"].items()) {
      std::string status = check["status"].get<std::string>();
      if (status == "failed") status = "FAILED";
      if (name == "comparison" && check.value("live_store", "") == "behind") {
        status += fmt::format(" (live store {} records behind the log: compared at its positions)",
                              group_thousands(check["live_lag_records"].get<int64_t>()));
      }
      context.out << fmt::format("  {:<15} {}\n", name, status);
    }
    constexpr size_t kShown = 50;
    for (size_t i = 0; i < result->findings.size() && i < kShown; ++i) {
      context.out << "  " << projections::audit::describe(result->findings[i]) << "\n";
    }
    if (result->findings.size() > kShown) {
      context.out << fmt::format("  ... and {} more findings in the report\n",
                                 result->findings.size() - kShown);
    }
    context.out << fmt::format(
        "{}: report in {}\n",
        result->passed() ? "audit passed"
                         : fmt::format("audit FAILED with {} findings", result->findings.size()),
        result->report_path.string());
  }
  return result->passed() ? kExitOk : projections::audit::kExitAuditFailed;
}

}  // namespace

void add_audit_commands(CLI::App& app, std::vector<Command>& commands) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand(
      "audit",
      "Replay the whole log into a fresh store and check the projections and the log: "
      "invariants, sums per currency, the live store record by record, chain heads, state "
      "digest. Exit 0 when every check holds, 4 when one fails (see docs/audit.md)");
  audit
      ->add_option("--out", args->out_dir,
                   "Directory for report.json and the other reports (default "
                   "./homeward-audit-<UTC time>)")
      ->type_name("DIR");
  audit
      ->add_option("--verify-against", args->verify_against,
                   "An earlier report.json: its chain heads must be prefixes of today's log")
      ->type_name("REPORT");
  audit->add_flag("--json", args->json, "Print report.json on standard output");
  audit->add_flag("--pretty", args->pretty, "Indent the JSON document");
  audit->add_flag("--canonical-state", args->canonical_state,
                  "Also write state.txt, the canonical state the digest is computed over");
  audit->add_flag("--keep-replay", args->keep_replay,
                  "Keep the replayed store in OUT/replay-store for inspection");
  add_examples(audit, {"homeward audit --out audits/2026-12-31",
                       "homeward audit --out audits/2027-03-31 --verify-against "
                       "audits/2026-12-31/report.json"});
  commands.push_back(
      {audit, [args](const CommandContext& context) { return run_audit_command(*args, context); }});
}

}  // namespace homeward::connectors::cli
