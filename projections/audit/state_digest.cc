// The canonical state is produced in one pass over the store in key order,
// which is already the order docs/audit.md defines for every section except
// two: the totals (key "m/totals", between the donors and the pledges) are
// held back and written last, and the rejection lines are collected and
// sorted, because their order in the store is log order, and a malformed
// record's place in the log depends on partitioning (its key need not be its
// case's).
#include "projections/audit/state_digest.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/rules.h"
#include "events/check.h"
#include "events/event.h"
#include "events/timestamp.h"
#include "projections/audit/store_keys.h"
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
  std::optional<engine::ProjectionTotals> totals;
  std::vector<std::string> rejections;

  auto cursor = store.open_cursor();
  for (; cursor->valid(); cursor->next()) {
    const std::string_view key = cursor->key();
    const std::string_view value = cursor->value();
    const DecodedKey k = decode_key(key);
    switch (k.kind) {
      case KeyKind::kCase: {
        auto s = decode_summary(value);
        if (!s) return std::unexpected(damaged(key, s.error()));
        if (!s->opened) break;  // its handled ids are in the event lines
        out.line(
            fmt::format("case {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}", k.case_id,
                        s->currency.code_view(), engine::to_string(s->status()),
                        s->has_budget ? 1 : 0, s->goal.value(), s->received.value(),
                        s->refunded.value(), s->pledged.value(), s->disbursed.value(), s->donations,
                        s->donors, s->refunds, events::format_timestamp(s->opened_at),
                        timestamp_or_dash(s->fully_funded_at), timestamp_or_dash(s->closed_at),
                        s->close_reason ? std::string(events::to_string(*s->close_reason)) : "-",
                        s->events_applied, s->duplicates, s->events_rejected));
        for (size_t i = 0; i < events::kCategoryCount; ++i) {
          const auto category = static_cast<events::Category>(i);
          if (!s->shows_in_budget(category)) continue;
          out.line(fmt::format("budget {} {} {} {}", k.case_id, events::to_string(category),
                               s->planned[i].value(), s->disbursed_by_category[i].value()));
        }
        break;
      }
      case KeyKind::kDonation: {
        auto d = decode_donation(value);
        if (!d) return std::unexpected(damaged(key, d.error()));
        out.line(fmt::format("donation {} {} {} {} {}", k.case_id, k.id, d->donor_ref,
                             d->amount.value(), d->refunded.value()));
        break;
      }
      case KeyKind::kHandledEvent: {
        // The fingerprint of the first event handled under this id: it
        // decides later duplicates, so it is state, even for an event that
        // was rejected.
        auto print = decode_fingerprint(value);
        if (!print) return std::unexpected(damaged(key, print.error()));
        out.line(fmt::format("event {} {} {}", k.case_id, k.id, to_hex(value)));
        break;
      }
      case KeyKind::kPledge: {
        auto p = decode_pledge(value);
        if (!p) return std::unexpected(damaged(key, p.error()));
        out.line(fmt::format("pledge {} {} {} {} {}", k.case_id, k.id, p->donor_ref,
                             p->amount.value(), pledge_state(p->state)));
        break;
      }
      case KeyKind::kRejection: {
        auto r = decode_rejection(value);
        if (!r) return std::unexpected(damaged(key, r.error()));
        std::string line =
            fmt::format("rejection {} {} {} {}", or_dash(r->case_id), or_dash(r->event_id),
                        r->type ? std::string(events::to_string(*r->type)) : std::string("-"),
                        engine::to_string(r->reason));
        rejections.push_back(std::move(line));
        break;
      }
      case KeyKind::kTotals: {
        auto t = decode_totals(value);
        if (!t) return std::unexpected(damaged(key, t.error()));
        totals = *t;
        break;
      }
      default:
        // Donor sets follow from the donations; format, positions and the
        // chain index depend on the log, not on the state.
        break;
    }
  }
  if (auto status = cursor->status(); !status) return std::unexpected(status.error());
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
