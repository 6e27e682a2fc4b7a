#include "events/fingerprint.h"

#include <array>
#include <cstring>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "events/check.h"

namespace homeward::events {
namespace {

// A canonical, unambiguous byte form of an Event: fixed-width little-endian
// integers, length-prefixed strings and explicit presence flags, so that no
// two different events can serialize to the same bytes. The leading version
// byte changes if this layout ever does (fingerprints are stored with case
// state, so a change would make old and new fingerprints differ).
class Canonical {
 public:
  // Writes into `bytes` (cleared first), so that a thread reuses one buffer.
  explicit Canonical(std::string& bytes) : bytes_(bytes) {
    bytes_.clear();
    u8(1);
  }
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
  std::string& bytes_;
};

// SHA-256 with one context per thread, the algorithm fetched once (looking it
// up on every call cost more than hashing an event: see engine/projector.cc).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()), md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
    HOMEWARD_CHECK(ctx_ != nullptr && md_ != nullptr, "OpenSSL has no SHA-256");
  }
  ~Sha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  std::array<unsigned char, 32> digest(std::string_view bytes) {
    std::array<unsigned char, 32> out{};
    unsigned int size = 0;
    const bool ok = EVP_DigestInit_ex2(ctx_, md_, nullptr) == 1 &&
                    EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx_, out.data(), &size) == 1;
    HOMEWARD_CHECK(ok && size == out.size(), "OpenSSL SHA-256 failed");
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
  EVP_MD* md_;
};

}  // namespace

Fingerprint fingerprint(const Event& event) {
  thread_local std::string buffer;
  thread_local Sha256 sha;
  Canonical c(buffer);
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
  const std::array<unsigned char, 32> digest = sha.digest(c.bytes());
  Fingerprint out{};
  std::memcpy(out.data(), digest.data(), out.size());
  return out;
}

}  // namespace homeward::events
