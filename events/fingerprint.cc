#include "events/fingerprint.h"

#include <cstring>
#include <string>

#include <xxhash.h>

namespace homeward::events {
namespace {

// A canonical, unambiguous byte form of an Event: fixed-width little-endian
// integers, length-prefixed strings and explicit presence flags, so that no
// two different events can serialize to the same bytes. The leading version
// byte changes if this layout ever does (fingerprints are stored with case
// state, so a change would make old and new fingerprints differ).
class Canonical {
 public:
  Canonical() { u8(1); }
  void u8(uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void i64(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) {
      bytes_.push_back(static_cast<char>(u & 0xFF));
      u >>= 8;
    }
  }
  void str(std::string_view s) {
    i64(static_cast<int64_t>(s.size()));
    bytes_.append(s);
  }
  void opt_str(const std::optional<std::string>& s) {
    u8(s ? 1 : 0);
    if (s) str(*s);
  }
  void currency(const Currency& c) { str(c.code_view()); }
  void plan(const FundingPlan& p) {
    currency(p.currency);
    i64(p.goal.value());
    u8(p.budget ? 1 : 0);
    if (!p.budget) return;
    i64(static_cast<int64_t>(p.budget->size()));
    for (const BudgetLine& line : *p.budget) {
      u8(static_cast<uint8_t>(line.category));
      i64(line.amount.value());
    }
  }
  [[nodiscard]] const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace

Fingerprint fingerprint(const Event& event) {
  Canonical c;
  c.u8(static_cast<uint8_t>(event.type()));
  c.str(event.event_id);
  c.i64(event.occurred_at.value());
  c.str(event.case_id);
  c.opt_str(event.source);
  std::visit(
      [&c](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, CaseOpened>) {
          c.plan(b.plan);
        } else if constexpr (std::is_same_v<T, CaseGoalChanged>) {
          c.plan(b.plan);
          c.opt_str(b.reason);
        } else if constexpr (std::is_same_v<T, CaseClosed>) {
          c.u8(static_cast<uint8_t>(b.reason));
        } else if constexpr (std::is_same_v<T, DonationReceived> || std::is_same_v<T, PledgeMade>) {
          c.str(b.donor_ref);
          c.i64(b.amount.value());
          c.currency(b.currency);
        } else if constexpr (std::is_same_v<T, PledgeFulfilled>) {
          c.str(b.pledge_id);
        } else if constexpr (std::is_same_v<T, PledgeCancelled>) {
          c.str(b.pledge_id);
          c.opt_str(b.reason);
        } else if constexpr (std::is_same_v<T, RefundIssued>) {
          c.str(b.donation_id);
          c.i64(b.amount.value());
          c.currency(b.currency);
          c.u8(static_cast<uint8_t>(b.reason));
        } else {
          static_assert(std::is_same_v<T, FundsDisbursed>);
          c.u8(static_cast<uint8_t>(b.category));
          c.i64(b.amount.value());
          c.currency(b.currency);
          c.opt_str(b.reference);
        }
      },
      event.body);
  const XXH128_hash_t hash = XXH3_128bits(c.bytes().data(), c.bytes().size());
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, hash);
  Fingerprint out{};
  static_assert(sizeof(canonical.digest) == out.size());
  std::memcpy(out.data(), canonical.digest, out.size());
  return out;
}

}  // namespace homeward::events
