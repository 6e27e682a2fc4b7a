// The ledger rules, stage 2 of SPEC section 4: a pure fold of one case's
// events, in the case's log order.
//
// `handle_event` is the only place where a figure changes. It reads and
// writes nothing but the CaseLedger it is given, so any number of cases can be
// folded in parallel, and the same events in the same order always give the
// same ledger. Not thread-safe for one ledger; thread-safe across ledgers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/case_ledger.h"
#include "events/error.h"
#include "events/event.h"
#include "events/fingerprint.h"

namespace homeward::engine {

// Rejection reasons of SPEC section 4. Their order is stored; append only.
enum class RejectReason : uint8_t {
  kMalformed,
  kConflictingDuplicate,
  kCaseExists,
  kUnknownCase,
  kCaseClosed,
  kCurrencyMismatch,
  kOverflow,
  kUnknownPledge,
  kPledgeNotOutstanding,
  kUnknownDonation,
  kRefundExceedsDonation,
  kInsufficientFunds,
};
inline constexpr size_t kRejectReasonCount = 12;

// SPEC spellings: "malformed", "conflicting_duplicate", "case_exists", ...
[[nodiscard]] std::string_view to_string(RejectReason reason);
// What the reason means, in plain words ("more than the case has available"
// for insufficient_funds), for people who do not read SPEC's codes.
[[nodiscard]] std::string_view plain_words(RejectReason reason);
[[nodiscard]] std::optional<RejectReason> parse_reject_reason(std::string_view text);

enum class Disposition : uint8_t { kApplied, kDuplicate, kRejected };

struct Outcome {
  Disposition disposition = Disposition::kApplied;
  RejectReason reason = RejectReason::kMalformed;  // meaningful only when rejected

  [[nodiscard]] static Outcome applied() { return {Disposition::kApplied, {}}; }
  [[nodiscard]] static Outcome duplicate() { return {Disposition::kDuplicate, {}}; }
  [[nodiscard]] static Outcome rejected(RejectReason r) { return {Disposition::kRejected, r}; }
  bool operator==(const Outcome&) const = default;
};

// Handles one event whose case_id is ledger.case_id (checked): the duplicate
// rule first, then the checks of the event's type in SPEC order; applies the
// event when none fails. Updates the case's counters and marks what changed in
// ledger.dirty. kResourceExhausted, with the ledger unchanged, when the
// case's id tables cannot take the event's ids (CaseLedger::room_for): no
// outcome of SPEC fits, so the fold cannot go on past it.
[[nodiscard]] Result<Outcome> handle_event(CaseLedger& ledger, const events::Event& event);
// The same, with the event's fingerprint (events::fingerprint(event))
// computed by the caller: the projector computes it on its reading thread.
[[nodiscard]] Result<Outcome> handle_event(CaseLedger& ledger, const events::Event& event,
                                           const events::Fingerprint& print);

}  // namespace homeward::engine
