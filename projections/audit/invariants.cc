// One pass over the store in key order. Keys group by kind first (c, d, e,
// g, h, m, p, r, x), so the per-case figures from the records are gathered in
// a map and compared with the summaries at the end.
#include "projections/audit/invariants.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "engine/case_ledger.h"
#include "events/money.h"
#include "projections/audit/store_keys.h"
#include "projections/record_codec.h"

namespace homeward::projections::audit {
namespace {

struct CaseFigures {
  std::optional<engine::CaseSummary> summary;
  events::WideMinorUnits donated = 0;
  events::WideMinorUnits refunded = 0;
  int64_t donation_records = 0;
  int64_t donors = 0;  // distinct donor_ref of its donation records
  events::WideMinorUnits outstanding = 0;
};

std::string amount(events::WideMinorUnits minor, uint8_t exponent) {
  return events::format_amount(minor, exponent);
}

}  // namespace

Result<InvariantSummary> check_invariants(const RocksProjectionStore& store,
                                          const InvariantContext& context, Findings& findings) {
  InvariantSummary summary;
  std::unordered_map<std::string, CaseFigures> cases;
  std::optional<engine::ProjectionTotals> totals;
  std::string donors_case;
  std::unordered_set<std::string> donors_seen;

  auto add = [&](std::string_view case_id, std::string message) {
    Finding& finding = findings.emplace_back();
    finding.check = Check::kInvariants;
    finding.store = context.store_name;
    finding.case_id = std::string(case_id);
    finding.message =
        case_id.empty() ? std::move(message) : fmt::format("case {}: {}", case_id, message);
  };

  auto cursor = store.open_cursor();
  for (; cursor->valid(); cursor->next()) {
    const std::string_view key = cursor->key();
    const std::string_view value = cursor->value();
    const DecodedKey k = decode_key(key);
    switch (k.kind) {
      case KeyKind::kCase: {
        auto decoded = decode_summary(value);
        if (!decoded) {
          add(k.case_id, fmt::format("summary record is damaged: {}", decoded.error().message));
          break;
        }
        cases[std::string(k.case_id)].summary = *decoded;
        break;
      }
      case KeyKind::kDonation: {
        auto decoded = decode_donation(value);
        if (!decoded) {
          add(k.case_id,
              fmt::format("donation {} record is damaged: {}", k.id, decoded.error().message));
          break;
        }
        ++summary.donations_checked;
        CaseFigures& figures = cases[std::string(k.case_id)];
        // A case's donation records are contiguous: count its distinct
        // donors with one set at a time.
        if (k.case_id != donors_case) {
          donors_case = std::string(k.case_id);
          donors_seen.clear();
        }
        if (donors_seen.insert(decoded->donor_ref).second) ++figures.donors;
        figures.donated += decoded->amount.value();
        figures.refunded += decoded->refunded.value();
        ++figures.donation_records;
        if (decoded->amount.value() < events::kAmountMin ||
            decoded->amount.value() > events::kAmountMax) {
          add(k.case_id, fmt::format("donation {} has an amount of {} minor units, outside "
                                     "1 to 10^15",
                                     k.id, decoded->amount.value()));
        }
        if (decoded->refunded.value() < 0 || decoded->refunded > decoded->amount) {
          add(k.case_id, fmt::format("donation {} is refunded beyond its amount ({} of {} "
                                     "minor units)",
                                     k.id, decoded->refunded.value(), decoded->amount.value()));
        }
        break;
      }
      case KeyKind::kPledge: {
        auto decoded = decode_pledge(value);
        if (!decoded) {
          add(k.case_id,
              fmt::format("pledge {} record is damaged: {}", k.id, decoded.error().message));
          break;
        }
        ++summary.pledges_checked;
        if (decoded->state == engine::PledgeState::kOutstanding) {
          cases[std::string(k.case_id)].outstanding += decoded->amount.value();
        }
        break;
      }
      case KeyKind::kTotals: {
        auto decoded = decode_totals(value);
        if (!decoded) {
          add("", fmt::format("the event totals record is damaged: {}", decoded.error().message));
          break;
        }
        totals = *decoded;
        break;
      }
      default:
        break;  // handled ids, donors, rejections, positions: no figure to check
    }
  }
  if (auto status = cursor->status(); !status) return std::unexpected(status.error());

  // Sorted, so that the findings come in case order.
  std::map<std::string_view, const CaseFigures*> sorted;
  for (const auto& [case_id, figures] : cases) sorted.emplace(case_id, &figures);
  for (const auto& [case_id, figures_ptr] : sorted) {
    const CaseFigures& f = *figures_ptr;
    if (!f.summary) {
      if (f.donation_records > 0 || f.donors > 0 || f.outstanding != 0) {
        add(case_id, "has donation or pledge records but no summary record");
      }
      continue;
    }
    const engine::CaseSummary& s = *f.summary;
    if (!s.opened) {
      if (f.donation_records > 0 || f.donors > 0 || f.outstanding != 0) {
        add(case_id, "was never opened but has donation or pledge records");
      }
      continue;
    }
    ++summary.cases_checked;
    const uint8_t e = s.currency.exponent;
    if (s.received.value() != f.donated) {
      add(case_id, fmt::format("received is {} but its donations sum to {}",
                               amount(s.received.value(), e), amount(f.donated, e)));
    }
    if (s.refunded.value() != f.refunded) {
      add(case_id, fmt::format("refunded is {} but the refunds of its donations sum to {}",
                               amount(s.refunded.value(), e), amount(f.refunded, e)));
    }
    if (s.donations != f.donation_records) {
      add(case_id, fmt::format("donations is {} but it has {} donation records", s.donations,
                               f.donation_records));
    }
    if (s.donors != f.donors) {
      add(case_id, fmt::format("donors is {} but it has {} distinct donors", s.donors, f.donors));
    }
    if (s.pledged.value() != f.outstanding) {
      add(case_id, fmt::format("pledged is {} but its outstanding pledges sum to {}",
                               amount(s.pledged.value(), e), amount(f.outstanding, e)));
    }
    // net = received - refunded and available = net - disbursed (SPEC 5),
    // computed wide so that a damaged figure cannot overflow the check.
    const events::WideMinorUnits net =
        static_cast<events::WideMinorUnits>(s.received.value()) - s.refunded.value();
    const events::WideMinorUnits available = net - s.disbursed.value();
    if (net < 0) {
      add(case_id, fmt::format("net = received - refunded = {} is negative", amount(net, e)));
    }
    events::WideMinorUnits by_category = 0;
    for (const MinorUnits& m : s.disbursed_by_category) by_category += m.value();
    if (by_category != s.disbursed.value()) {
      add(case_id, fmt::format("disbursed is {} but its categories sum to {}",
                               amount(s.disbursed.value(), e), amount(by_category, e)));
    }
    if (available < 0 && context.chargebacks_by_case != nullptr &&
        !context.chargebacks_by_case->contains(std::string(case_id))) {
      add(case_id, fmt::format("available is {} (negative) but the case has no applied "
                               "chargeback",
                               amount(available, e)));
    }
    if (s.refunds < 0 || (s.refunds > 0 && f.donation_records == 0)) {
      add(case_id,
          fmt::format("refunds is {} with {} donation records", s.refunds, f.donation_records));
    }
  }

  if (!totals) {
    if (context.events_read.value_or(0) > 0) add("", "the event totals record is missing");
  } else {
    int64_t by_reason = 0;
    for (const int64_t count : totals->rejected_by_reason) by_reason += count;
    if (by_reason != totals->rejected) {
      add("", fmt::format("events rejected is {} but the rejections by reason sum to {}",
                          totals->rejected, by_reason));
    }
    if (context.events_read && totals->read() != *context.events_read) {
      add("", fmt::format("applied {} + duplicates {} + rejected {} = {}, but {} events were "
                          "read from the log",
                          totals->applied, totals->duplicates, totals->rejected, totals->read(),
                          *context.events_read));
    }
  }
  return summary;
}

}  // namespace homeward::projections::audit
