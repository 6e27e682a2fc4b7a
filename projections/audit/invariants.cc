// Two passes over the store: the summaries (c) and the totals, then every
// case's history folded with the rules (case_history.h). A case's donations,
// pledges and donors exist only as that fold, so the checks relate three
// things written or derived apart: the stored summary, the fold of the
// stored history, and sums over the fold's records.
#include "projections/audit/invariants.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/case_ledger.h"
#include "events/money.h"
#include "projections/audit/store_compare.h"
#include "projections/audit/store_keys.h"
#include "projections/case_history.h"
#include "projections/record_codec.h"

namespace homeward::projections::audit {
namespace {

std::string amount(events::WideMinorUnits minor, uint8_t exponent) {
  return events::format_amount(minor, exponent);
}

// Sums over a folded ledger's own records, computed wide.
struct RecordFigures {
  events::WideMinorUnits donated = 0;
  events::WideMinorUnits refunded = 0;
  int64_t donation_records = 0;
  int64_t givers = 0;
  events::WideMinorUnits outstanding = 0;
};

// One record of the store, decoded: `value` is empty when the record is
// absent or damaged, and `damage` says what a damaged one failed.
template <typename T>
struct StoredRecord {
  std::optional<T> value;
  bool decoded = true;
  std::string damage;
};

template <typename Decode>
auto read_record(const RocksProjectionStore& store, std::string_view key, Decode decode)
    -> Result<StoredRecord<typename decltype(decode(std::string_view()))::value_type>> {
  StoredRecord<typename decltype(decode(std::string_view()))::value_type> record;
  auto cursor = store.open_cursor(key);
  if (cursor->valid() && cursor->key() == key) {
    auto decoded = decode(cursor->value());
    if (decoded) {
      record.value = std::move(*decoded);
    } else {
      record.decoded = false;
      record.damage = decoded.error().message;
    }
  }
  if (auto status = cursor->status(); !status) return std::unexpected(status.error());
  return record;
}

}  // namespace

Result<InvariantSummary> check_invariants(const RocksProjectionStore& store,
                                          const InvariantContext& context, Findings& findings) {
  InvariantSummary summary;
  // Stored summaries by case id; a case's entry is removed once its history
  // is folded, so what is left has a summary and no history.
  std::map<std::string, engine::CaseSummary, std::less<>> summaries;
  std::optional<engine::ProjectionTotals> totals;

  auto add = [&](std::string_view case_id, std::string message) {
    Finding& finding = findings.emplace_back();
    finding.check = Check::kInvariants;
    finding.store = context.store_name;
    finding.case_id = std::string(case_id);
    finding.message =
        case_id.empty() ? std::move(message) : fmt::format("case {}: {}", case_id, message);
  };

  {
    auto cursor = store.open_cursor(std::string(1, kCasePrefix));
    for (; cursor->valid(); cursor->next()) {
      const DecodedKey k = decode_key(cursor->key());
      auto decoded = decode_summary(cursor->value());
      if (!decoded) {
        add(k.case_id, fmt::format("summary record is damaged: {}", decoded.error().message));
        continue;
      }
      summaries.emplace(std::string(k.case_id), *decoded);
    }
    if (auto status = cursor->status(); !status) return std::unexpected(status.error());
    // The donor count kept with every commit is the number of donor keys.
    int64_t donor_keys = 0;
    auto donors = store.open_cursor(std::string(1, kGlobalDonorPrefix));
    for (; donors->valid(); donors->next()) ++donor_keys;
    if (auto status = donors->status(); !status) return std::unexpected(status.error());
    auto donor_count = read_record(store, kDonorCountKey, decode_donor_count);
    if (!donor_count) return std::unexpected(donor_count.error());
    if (!donor_count->decoded) {
      add("", fmt::format("the donor count record is damaged: {}", donor_count->damage));
    } else if (donor_count->value.value_or(0) != donor_keys) {
      add("", fmt::format("the donor count is {} but the store holds {} donor keys",
                          donor_count->value.value_or(0), donor_keys));
    }
    auto stored_totals = read_record(store, kTotalsKey, decode_totals);
    if (!stored_totals) return std::unexpected(stored_totals.error());
    if (!stored_totals->decoded) {
      add("", fmt::format("the event totals record is damaged: {}", stored_totals->damage));
    }
    totals = stored_totals->value;
  }

  // The figures of one stored summary alone (SPEC section 5's arithmetic).
  auto check_summary = [&](std::string_view case_id, const engine::CaseSummary& s) {
    const uint8_t e = s.currency.exponent;
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
    if (s.refunds < 0 || (s.refunds > 0 && s.donations == 0)) {
      add(case_id, fmt::format("refunds is {} with {} donations", s.refunds, s.donations));
    }
  };

  // A folded ledger against its stored summary and its own records.
  auto check_case = [&](const engine::CaseLedger& ledger) -> Status {
    const std::string_view case_id = ledger.case_id;
    const auto stored = summaries.find(case_id);
    if (stored == summaries.end()) {
      add(case_id, "has a history but no summary record");
      return {};
    }
    const engine::CaseSummary stored_summary = stored->second;
    summaries.erase(stored);
    if (!(ledger.summary == stored_summary)) {
      add(case_id,
          fmt::format("its stored summary is not what folding its stored history gives "
                      "({})",
                      summary_difference(stored_summary, ledger.summary, "stored", "history")));
    }
    check_summary(case_id, stored_summary);
    // The rest relates the fold's summary to the fold's own records: sums
    // kept apart by the rules, added up again here.
    const engine::CaseSummary& s = ledger.summary;
    RecordFigures f;
    ledger.for_each_donation([&](std::string_view id, const engine::DonationRecord& d) {
      ++summary.donations_checked;
      f.donated += d.amount.value();
      f.refunded += d.refunded.value();
      ++f.donation_records;
      if (d.amount.value() < events::kAmountMin || d.amount.value() > events::kAmountMax) {
        add(case_id, fmt::format("donation {} has an amount of {} minor units, outside 1 to "
                                 "10^15",
                                 id, d.amount.value()));
      }
      if (d.refunded.value() < 0 || d.refunded > d.amount) {
        add(case_id, fmt::format("donation {} is refunded beyond its amount ({} of {} minor "
                                 "units)",
                                 id, d.refunded.value(), d.amount.value()));
      }
    });
    ledger.for_each_pledge([&](std::string_view, const engine::PledgeRecord& p) {
      ++summary.pledges_checked;
      if (p.state == engine::PledgeState::kOutstanding) f.outstanding += p.amount.value();
    });
    ledger.for_each_giver([&](std::string_view) { ++f.givers; });
    if (!s.opened) {
      if (f.donation_records > 0 || f.givers > 0 || f.outstanding != 0) {
        add(case_id, "was never opened but has donations or pledges");
      }
      return {};
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
      add(case_id,
          fmt::format("donations is {} but it has {} donations", s.donations, f.donation_records));
    }
    if (s.donors != f.givers) {
      add(case_id, fmt::format("donors is {} but it has {} distinct donors", s.donors, f.givers));
    }
    if (s.pledged.value() != f.outstanding) {
      add(case_id, fmt::format("pledged is {} but its outstanding pledges sum to {}",
                               amount(s.pledged.value(), e), amount(f.outstanding, e)));
    }
    return {};
  };

  HistoryFoldVisitor visitor;
  visitor.on_case = check_case;
  if (auto folded = fold_histories(store, HistoryFilter{}, visitor); !folded) {
    // A history that does not decode is a finding about this store, not a
    // failure to read it.
    if (folded.error().code != ErrorCode::kCorruption) return std::unexpected(folded.error());
    add("", folded.error().message);
  }
  for (const auto& [case_id, s] : summaries) add(case_id, "has a summary record but no history");

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
