// `homeward donor DONOR_REF [--json]`: one donor's statement (donations,
// refunds, pledges, and the cases they gave to). PERSONAL DATA: for auditors
// and the donor portal only (docs/reports.md); public reports never name a
// donor.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/publishing.h"
#include "connectors/cli/table_output.h"
#include "events/money.h"
#include "events/timestamp.h"
#include "projections/read_models/donor_statement.h"

namespace homeward::connectors::cli {
namespace {

struct DonorArgs {
  std::string donor_ref;
  bool json = false;
  bool pretty = false;
};

std::string money(MinorUnits amount, const events::Currency& currency) {
  return fmt::format("{} {}", group_thousands(events::format_amount(amount, currency.exponent)),
                     currency.code_view());
}

std::string_view pledge_state(engine::PledgeState state) {
  switch (state) {
    case engine::PledgeState::kOutstanding:
      return "outstanding";
    case engine::PledgeState::kFulfilled:
      return "fulfilled";
    case engine::PledgeState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

void print_statement(std::ostream& out, const projections::DonorStatement& statement) {
  out << fmt::format("Donor {} (personal data: for auditors and the donor portal only)\n",
                     statement.donor_ref);

  out << "\nDonations\n";
  Table donations({{"case_id", Align::kLeft, kIdColumnWidth},
                   {"donation_id", Align::kLeft, kIdColumnWidth},
                   {"date"},
                   {"amount", Align::kRight},
                   {"refunded", Align::kRight},
                   {"pledge_id"}});
  for (const auto& d : statement.donations) {
    donations.add_row({d.case_id, d.donation_id, events::format_date(d.occurred_at),
                       money(d.amount, d.currency), money(d.refunded, d.currency),
                       d.pledge_id.value_or("-")});
  }
  if (donations.empty()) {
    out << "(none)\n";
  } else {
    donations.print(out);
  }

  if (!statement.refunds.empty()) {
    out << "\nRefunds\n";
    Table refunds({{"case_id", Align::kLeft, kIdColumnWidth},
                   {"refund_id", Align::kLeft, kIdColumnWidth},
                   {"donation_id", Align::kLeft, kIdColumnWidth},
                   {"date"},
                   {"amount", Align::kRight},
                   {"reason"}});
    for (const auto& r : statement.refunds) {
      refunds.add_row({r.case_id, r.refund_id, r.donation_id, events::format_date(r.occurred_at),
                       money(r.amount, r.currency), std::string(events::to_string(r.reason))});
    }
    refunds.print(out);
  }

  if (!statement.pledges.empty()) {
    out << "\nPledges\n";
    Table pledges({{"case_id", Align::kLeft, kIdColumnWidth},
                   {"pledge_id", Align::kLeft, kIdColumnWidth},
                   {"made"},
                   {"amount", Align::kRight},
                   {"state"},
                   {"settled"}});
    for (const auto& p : statement.pledges) {
      pledges.add_row({p.case_id, p.pledge_id, events::format_date(p.made_at),
                       money(p.amount, p.currency), std::string(pledge_state(p.state)),
                       p.settled_at ? events::format_date(*p.settled_at) : "-"});
    }
    pledges.print(out);
  }

  out << "\nCases\n";
  Table cases({{"case_id", Align::kLeft, kIdColumnWidth},
               {"status"},
               {"goal", Align::kRight},
               {"net", Align::kRight},
               {"fully_funded"},
               {"given", Align::kRight}});
  std::vector<std::string> helped;
  for (const auto& c : statement.cases) {
    const engine::CaseSummary& s = c.summary;
    if (!s.opened) continue;  // the index only leads to opened cases; be safe
    cases.add_row({c.case_id, std::string(engine::to_string(s.status())), money(s.goal, s.currency),
                   money(s.net(), s.currency),
                   s.fully_funded_at ? events::format_date(*s.fully_funded_at) : "no",
                   money(c.given, s.currency)});
    if (c.helped_fully_fund) helped.push_back(c.case_id);
  }
  cases.print(out);
  for (const std::string& case_id : helped) {
    out << fmt::format("Your gift helped fully fund a survivor's return ({}).\n", case_id);
  }
}

Result<int> run_donor(const DonorArgs& args, const CommandContext& context) {
  auto ledger = open_up_to_date(context);
  if (!ledger) return std::unexpected(ledger.error());
  auto statement = projections::donor_statement(*ledger->store, args.donor_ref);
  if (!statement) {
    if (statement.error().code == ErrorCode::kNotFound) {
      context.err << fmt::format("homeward: {}\n", statement.error().message);
      return kExitError;
    }
    return std::unexpected(statement.error());
  }
  if (args.json) {
    print_json(context.out, projections::donor_statement_json(*statement), args.pretty);
  } else {
    print_statement(context.out, *statement);
  }
  return kExitOk;
}

}  // namespace

void add_donor_commands(CLI::App& app, std::vector<Command>& commands) {
  auto args = std::make_shared<DonorArgs>();
  CLI::App* donor = app.add_subcommand(
      "donor",
      "Show one donor's statement: donations, refunds, pledges and the cases they gave to. "
      "PERSONAL DATA: for auditors and the donor portal only");
  donor
      ->add_option("DONOR_REF", args->donor_ref,
                   "The donor's donor_ref (after `--` when it starts with '-')")
      ->required();
  donor->add_flag("--json", args->json, "Print exactly one JSON document");
  donor->add_flag("--pretty", args->pretty, "Indent the JSON document");
  donor->footer(
      "A donor statement ties a donor_ref to gifts, amounts and dates: it is personal data. "
      "Give it only to the donor it names or to an auditor (docs/reports.md).");
  add_examples(donor, {"homeward donor d-17", "homeward donor d-17 --json --pretty"});
  commands.push_back(
      {donor, [args](const CommandContext& context) { return run_donor(*args, context); }});
}

}  // namespace homeward::connectors::cli
