// The canonical state comes from two passes over the store: the records
// (summaries, rejections, totals), then every case's history folded with the
// rules, which gives its donations, handled ids and pledges. Cases come in
// case_id order either way; within a case each kind of record is sorted by
// id. The rejection lines are collected and sorted, because their order in
// the store is log order, and a malformed record's place in the log depends
// on partitioning (its key need not be its case's).
#include "projections/audit/state_digest.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/rules.h"
#include "events/check.h"
#include "events/event.h"
#include "events/timestamp.h"
#include "projections/audit/store_keys.h"
#include "projections/case_history.h"
#include "projections/record_codec.h"

namespace homeward::projections::audit {
namespace {

class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    HOMEWARD_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1,
                   "OpenSSL SHA-256 init failed");
  }
  void update(std::string_view bytes) {
    HOMEWARD_CHECK(EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) == 1,
                   "OpenSSL SHA-256 update failed");
  }
  std::string finish_hex() {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    HOMEWARD_CHECK(EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size) == 1 && size == 32,
                   "OpenSSL SHA-256 final failed");
    return to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

std::string timestamp_or_dash(const std::optional<TimestampMicros>& t) {
  return t ? events::format_timestamp(*t) : std::string("-");
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

std::string or_dash(std::string_view text) {
  return text.empty() ? std::string("-") : std::string(text);
}

class CanonicalWriter {
 public:
  explicit CanonicalWriter(std::ostream* copy) : copy_(copy) {}

  void line(std::string text) {
    text.push_back('\n');
    sha_.update(text);
    if (copy_ != nullptr) copy_->write(text.data(), static_cast<std::streamsize>(text.size()));
    ++lines_;
  }
  StateDigest finish() { return StateDigest{sha_.finish_hex(), lines_}; }

 private:
  Sha256Stream sha_;
  std::ostream* copy_;
  int64_t lines_ = 0;
};

Error damaged(std::string_view key, const Error& error) {
  return Error{ErrorCode::kCorruption, fmt::format("{}: {}", describe_key(key), error.message)};
}

}  // namespace

Result<StateDigest> compute_state_digest(const RocksProjectionStore& store,
                                         std::ostream* canonical) {
  CanonicalWriter out(canonical);
  out.line(std::string(kStateDigestVersion));

  // The summaries and the rejections and totals are records; a case's
  // donations, handled ids and pledges are the fold of its history
  // (case_history.h). Summaries are read first, then written with their
  // case's fold, which comes in the same (case_id) order.
  std::map<std::string, engine::CaseSummary, std::less<>> summaries;
  std::optional<engine::ProjectionTotals> totals;
  std::vector<std::string> rejections;
  {
    auto cursor = store.open_cursor();
    for (; cursor->valid(); cursor->next()) {
      const std::string_view key = cursor->key();
      const std::string_view value = cursor->value();
      const DecodedKey k = decode_key(key);
      if (k.kind == KeyKind::kCase) {
        auto summary = decode_summary(value);
        if (!summary) return std::unexpected(damaged(key, summary.error()));
        summaries.emplace(std::string(k.case_id), *summary);
      } else if (k.kind == KeyKind::kRejection) {
        auto r = decode_rejection(value);
        if (!r) return std::unexpected(damaged(key, r.error()));
        rejections.push_back(
            fmt::format("rejection {} {} {} {}", or_dash(r->case_id), or_dash(r->event_id),
                        r->type ? std::string(events::to_string(*r->type)) : std::string("-"),
                        engine::to_string(r->reason)));
      } else if (k.kind == KeyKind::kTotals) {
        auto t = decode_totals(value);
        if (!t) return std::unexpected(damaged(key, t.error()));
        totals = *t;
      }
      // Donor sets follow from the donations; format, positions, the chain
      // index and the history's log positions depend on the log, not on the
      // state.
    }
    if (auto status = cursor->status(); !status) return std::unexpected(status.error());
  }

  auto write_summary = [&](std::string_view case_id, const engine::CaseSummary& s) {
    if (!s.opened) return;  // its handled ids are in its event lines
    out.line(fmt::format("case {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}", case_id,
                         s.currency.code_view(), engine::to_string(s.status()),
                         s.has_budget ? 1 : 0, s.goal.value(), s.received.value(),
                         s.refunded.value(), s.pledged.value(), s.disbursed.value(), s.donations,
                         s.donors, s.refunds, events::format_timestamp(s.opened_at),
                         timestamp_or_dash(s.fully_funded_at), timestamp_or_dash(s.closed_at),
                         s.close_reason ? std::string(events::to_string(*s.close_reason)) : "-",
                         s.events_applied, s.duplicates, s.events_rejected));
    for (size_t i = 0; i < events::kCategoryCount; ++i) {
      const auto category = static_cast<events::Category>(i);
      if (!s.shows_in_budget(category)) continue;
      out.line(fmt::format("budget {} {} {} {}", case_id, events::to_string(category),
                           s.planned[i].value(), s.disbursed_by_category[i].value()));
    }
  };

  // Lines of one kind of a case's records, sorted by id (bytewise).
  std::vector<std::pair<std::string_view, std::string>> lines;
  auto write_sorted = [&] {
    std::sort(lines.begin(), lines.end());
    for (auto& [id, line] : lines) out.line(std::move(line));
    lines.clear();
  };

  HistoryFoldVisitor visitor;
  visitor.on_case = [&](engine::CaseLedger& ledger) -> Status {
    const std::string_view case_id = ledger.case_id;
    const auto stored = summaries.find(case_id);
    if (stored == summaries.end()) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("case {} has a history but no summary", case_id));
    }
    // The stored summary, which the invariants check against the fold.
    write_summary(case_id, stored->second);
    summaries.erase(stored);
    ledger.for_each_donation([&](std::string_view id, const engine::DonationRecord& d) {
      lines.emplace_back(id, fmt::format("donation {} {} {} {} {}", case_id, id, d.donor_ref,
                                         d.amount.value(), d.refunded.value()));
    });
    write_sorted();
    // The fingerprint of the first event handled under each id: it decides
    // later duplicates, so it is state, even for an event that was rejected.
    ledger.for_each_handled_event([&](std::string_view id, const events::Fingerprint& print) {
      lines.emplace_back(
          id, fmt::format("event {} {} {}", case_id, id,
                          to_hex(std::string_view(reinterpret_cast<const char*>(print.data()),
                                                  print.size()))));
    });
    write_sorted();
    ledger.for_each_pledge([&](std::string_view id, const engine::PledgeRecord& p) {
      lines.emplace_back(id, fmt::format("pledge {} {} {} {} {}", case_id, id, p.donor_ref,
                                         p.amount.value(), pledge_state(p.state)));
    });
    write_sorted();
    return {};
  };
  if (auto folded = fold_histories(store, HistoryFilter{}, visitor); !folded) {
    return std::unexpected(folded.error());
  }
  if (!summaries.empty()) {
    return make_error(ErrorCode::kCorruption, fmt::format("case {} has a summary but no history",
                                                          summaries.begin()->first));
  }

  std::sort(rejections.begin(), rejections.end());
  for (std::string& line : rejections) out.line(std::move(line));
  const engine::ProjectionTotals t = totals.value_or(engine::ProjectionTotals{});
  out.line(fmt::format("totals {} {} {}", t.applied, t.duplicates, t.rejected));
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    out.line(fmt::format("rejected {} {}", engine::to_string(static_cast<engine::RejectReason>(i)),
                         t.rejected_by_reason[i]));
  }
  return out.finish();
}

}  // namespace homeward::projections::audit
