// The ledger rules, stage 2 of SPEC section 4.
//
// handle_event runs in three steps: the duplicate rule, then the checks of
// the event's type in exactly the order SPEC lists them (the first failing
// check names the rejection), then the effect. Checks only read the ledger;
// effects only run once every check passed, so a rejected event never leaves
// a partial change behind (except the bookkeeping of its id and the case's
// counters, which SPEC asks for).
#include "engine/rules.h"

#include <array>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "events/check.h"
#include "events/fingerprint.h"
#include "events/money.h"

namespace homeward::engine {
namespace {

constexpr std::array<std::string_view, kRejectReasonCount> kRejectReasonNames = {
    "malformed",
    "conflicting_duplicate",
    "case_exists",
    "unknown_case",
    "case_closed",
    "currency_mismatch",
    "overflow",
    "unknown_pledge",
    "pledge_not_outstanding",
    "unknown_donation",
    "refund_exceeds_donation",
    "insufficient_funds",
};

// For readers who do not know SPEC's codes (the board's report, dashboards):
// what each reason means, in the words of SPEC section 4.
constexpr std::array<std::string_view, kRejectReasonCount> kRejectReasonWords = {
    "not a well-formed event (bytes that do not verify, or values SPEC does not allow)",
    "an event with the same id, but other fields, was already handled in this case",
    "the case was already opened",
    "no case was opened under this id before this event",
    "the case is closed",
    "not in the case's currency",
    "a total would leave the range of exact amounts",
    "no such pledge in this case",
    "the pledge was already fulfilled or cancelled",
    "no such donation in this case",
    "more than what is left of the donation after its earlier refunds",
    "more than the case has available",
};

using events::CaseClosed;
using events::CaseGoalChanged;
using events::CaseOpened;
using events::DonationReceived;
using events::Event;
using events::FundingPlan;
using events::FundsDisbursed;
using events::PledgeCancelled;
using events::PledgeFulfilled;
using events::PledgeMade;
using events::RefundIssued;

// Nullopt: every check passed and the event may be applied.
using Check = std::optional<RejectReason>;

size_t category_index(Category category) {
  const auto index = static_cast<size_t>(category);
  HOMEWARD_CHECK(index < kCategoryCount, "Category out of range");
  return index;
}

// Adds two amounts whose sum was already checked to fit (the overflow check
// of the event's type ran before the effect). A failure here means a check
// is missing, which is a programmer error.
MinorUnits add_checked(MinorUnits a, MinorUnits b) {
  const std::optional<MinorUnits> sum = events::checked_add(a, b);
  HOMEWARD_CHECK(sum.has_value(), "an applied amount left the int64 range");
  return *sum;
}

MinorUnits sub_checked(MinorUnits a, MinorUnits b) {
  const std::optional<MinorUnits> difference = events::checked_sub(a, b);
  HOMEWARD_CHECK(difference.has_value(), "an applied amount left the int64 range");
  return *difference;
}

bool would_overflow(MinorUnits total, MinorUnits amount) {
  return !events::checked_add(total, amount).has_value();
}

// The folding of one event into one case. A class only to share the ledger
// and the event between the per-type checks and effects.
class Fold {
 public:
  Fold(CaseLedger& ledger, const Event& event) : ledger_(ledger), s_(ledger.summary), e_(event) {}

  Check check(const CaseOpened&) const {
    if (s_.opened) return RejectReason::kCaseExists;
    return std::nullopt;
  }
  Check check(const CaseGoalChanged& body) const {
    if (!s_.opened) return RejectReason::kUnknownCase;
    if (s_.closed()) return RejectReason::kCaseClosed;
    if (!(body.plan.currency == s_.currency)) return RejectReason::kCurrencyMismatch;
    return std::nullopt;
  }
  Check check(const CaseClosed&) const {
    if (!s_.opened) return RejectReason::kUnknownCase;
    if (s_.closed()) return RejectReason::kCaseClosed;
    return std::nullopt;
  }
  // No case_closed check: money that arrived after closing is counted and
  // shows as surplus (SPEC section 4).
  Check check(const DonationReceived& body) const {
    if (!s_.opened) return RejectReason::kUnknownCase;
    if (!(body.currency == s_.currency)) return RejectReason::kCurrencyMismatch;
    if (would_overflow(s_.received, body.amount)) return RejectReason::kOverflow;
    return std::nullopt;
  }
  Check check(const PledgeMade& body) const {
    if (!s_.opened) return RejectReason::kUnknownCase;
    if (s_.closed()) return RejectReason::kCaseClosed;
    if (!(body.currency == s_.currency)) return RejectReason::kCurrencyMismatch;
    if (would_overflow(s_.pledged, body.amount)) return RejectReason::kOverflow;
    return std::nullopt;
  }
  Check check(const PledgeFulfilled& body) {
    if (!s_.opened) return RejectReason::kUnknownCase;
    const auto found = ledger_.find_pledge(body.pledge_id);
    if (!found) return RejectReason::kUnknownPledge;
    pledge_ = *found;
    const PledgeRecord pledge = ledger_.pledge(pledge_);
    if (pledge.state != PledgeState::kOutstanding) return RejectReason::kPledgeNotOutstanding;
    if (would_overflow(s_.received, pledge.amount)) return RejectReason::kOverflow;
    return std::nullopt;
  }
  Check check(const PledgeCancelled& body) {
    if (!s_.opened) return RejectReason::kUnknownCase;
    const auto found = ledger_.find_pledge(body.pledge_id);
    if (!found) return RejectReason::kUnknownPledge;
    pledge_ = *found;
    if (ledger_.pledge(pledge_).state != PledgeState::kOutstanding) {
      return RejectReason::kPledgeNotOutstanding;
    }
    return std::nullopt;
  }
  Check check(const RefundIssued& body) {
    if (!s_.opened) return RejectReason::kUnknownCase;
    if (!(body.currency == s_.currency)) return RejectReason::kCurrencyMismatch;
    const auto found = ledger_.find_donation(body.donation_id);
    if (!found) return RejectReason::kUnknownDonation;
    donation_ = *found;
    const DonationRecord record = ledger_.donation(donation_);
    // amount > record.amount - record.refunded, written without a
    // subtraction that a corrupted record could overflow.
    if (body.amount > sub_checked(record.amount, record.refunded)) {
      return RejectReason::kRefundExceedsDonation;
    }
    // A chargeback is forced by the bank, so it is applied even where it
    // leaves `available` negative.
    if (body.reason != events::RefundReason::kChargeback && body.amount > s_.available()) {
      return RejectReason::kInsufficientFunds;
    }
    return std::nullopt;
  }
  Check check(const FundsDisbursed& body) const {
    if (!s_.opened) return RejectReason::kUnknownCase;
    if (!(body.currency == s_.currency)) return RejectReason::kCurrencyMismatch;
    if (body.amount > s_.available()) return RejectReason::kInsufficientFunds;
    // Unreachable while amount <= available <= received, kept because SPEC
    // lists it and the rules must not depend on that arithmetic argument.
    if (would_overflow(s_.disbursed, body.amount) ||
        would_overflow(s_.disbursed_by_category[category_index(body.category)], body.amount)) {
      return RejectReason::kOverflow;
    }
    return std::nullopt;
  }

  void apply(const CaseOpened& body) {
    s_.opened = true;
    s_.currency = body.plan.currency;
    set_plan(body.plan);
    s_.opened_at = e_.occurred_at;
  }
  void apply(const CaseGoalChanged& body) { set_plan(body.plan); }
  void apply(const CaseClosed& body) {
    s_.closed_at = e_.occurred_at;
    s_.close_reason = body.reason;
  }
  void apply(const DonationReceived& body) { add_donation(body.donor_ref, body.amount); }
  void apply(const PledgeMade& body) {
    s_.pledged = add_checked(s_.pledged, body.amount);
    // The pledge's id is this event's id, which the duplicate rule keeps
    // unique per case.
    ledger_.record_pledge(body.donor_ref, body.amount);
  }
  void apply(const PledgeFulfilled&) {
    // Copied: recording the donation may move the donor's bytes.
    const PledgeRecord pledge = ledger_.pledge(pledge_);
    const std::string donor_ref(pledge.donor_ref);
    s_.pledged = sub_checked(s_.pledged, pledge.amount);
    ledger_.settle_pledge(pledge_, PledgeState::kFulfilled);
    // The pledge becomes a donation whose id is this event's id (SPEC 3).
    add_donation(donor_ref, pledge.amount);
  }
  void apply(const PledgeCancelled&) {
    s_.pledged = sub_checked(s_.pledged, ledger_.pledge(pledge_).amount);
    ledger_.settle_pledge(pledge_, PledgeState::kCancelled);
  }
  void apply(const RefundIssued& body) {
    ledger_.add_refund(donation_, body.amount);
    s_.refunded = add_checked(s_.refunded, body.amount);
    s_.refunds += 1;
  }
  void apply(const FundsDisbursed& body) {
    MinorUnits& in_category = s_.disbursed_by_category[category_index(body.category)];
    in_category = add_checked(in_category, body.amount);
    s_.disbursed = add_checked(s_.disbursed, body.amount);
  }

 private:
  // The latest plan replaces the earlier one entirely: a goal that comes
  // without a budget leaves every category unplanned.
  void set_plan(const FundingPlan& plan) {
    s_.goal = plan.goal;
    s_.planned.fill(MinorUnits(0));
    s_.has_budget = plan.budget.has_value();
    if (plan.budget.has_value()) {
      for (const events::BudgetLine& line : *plan.budget) {
        s_.planned[category_index(line.category)] = line.amount;
      }
    }
  }

  // A donation record whose id is the current event's id (the ledger counts
  // its donor).
  void add_donation(std::string_view donor_ref, MinorUnits amount) {
    s_.received = add_checked(s_.received, amount);
    s_.donations += 1;
    ledger_.record_donation(donor_ref, amount);
  }

  CaseLedger& ledger_;
  CaseSummary& s_;
  const Event& e_;
  // What the checks found, for the effect: the pledge or donation the event
  // names (set by the check of its type, which passed before any effect).
  CaseLedger::RecordIndex pledge_ = 0;
  CaseLedger::RecordIndex donation_ = 0;
};

Outcome check_and_apply(CaseLedger& ledger, const Event& event) {
  Fold fold(ledger, event);
  const Check failed =
      std::visit([&fold](const auto& body) { return fold.check(body); }, event.body);
  if (failed.has_value()) return Outcome::rejected(*failed);
  std::visit([&fold](const auto& body) { fold.apply(body); }, event.body);

  // fully_funded_at: the first applied event after which a not-closed case
  // has net >= goal. Set once, never cleared (a refund or a raised goal
  // changes the status, not the history).
  CaseSummary& s = ledger.summary;
  if (!s.closed() && !s.fully_funded_at.has_value() && s.net() >= s.goal) {
    s.fully_funded_at = event.occurred_at;
  }
  return Outcome::applied();
}

}  // namespace

std::string_view to_string(RejectReason reason) {
  const auto index = static_cast<size_t>(reason);
  HOMEWARD_CHECK(index < kRejectReasonCount, "RejectReason out of range");
  return kRejectReasonNames[index];
}

std::string_view plain_words(RejectReason reason) {
  const auto index = static_cast<size_t>(reason);
  HOMEWARD_CHECK(index < kRejectReasonCount, "RejectReason out of range");
  return kRejectReasonWords[index];
}

std::optional<RejectReason> parse_reject_reason(std::string_view text) {
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    if (kRejectReasonNames[i] == text) return static_cast<RejectReason>(i);
  }
  return std::nullopt;
}

Result<Outcome> handle_event(CaseLedger& ledger, const events::Event& event) {
  return handle_event(ledger, event, events::fingerprint(event));
}

Result<Outcome> handle_event(CaseLedger& ledger, const events::Event& event,
                             const events::Fingerprint& print) {
  HOMEWARD_CHECK(event.case_id == ledger.case_id, "event folded into another case's ledger");
  if (auto room = ledger.room_for(event); !room) return std::unexpected(std::move(room.error()));

  // Duplicate rule (SPEC section 4, step 1). Every event id handled in this
  // case is remembered, whatever its outcome, and that includes events
  // handled before the case was opened (rejected unknown_case): SPEC says
  // "already handled in the same case (applied, duplicate or rejected)", and
  // a case's identity is its case_id, which those events already carried. So
  // a later identical event with such an id is a duplicate, and a different
  // one with that id is a conflicting_duplicate. The first event's
  // fingerprint is kept; later ones never replace it.
  Outcome outcome;
  const CaseLedger::Remembered seen = ledger.remember_event(event.event_id, print);
  if (!seen.first_time) {
    outcome = seen.first == print ? Outcome::duplicate()
                                  : Outcome::rejected(RejectReason::kConflictingDuplicate);
  } else {
    outcome = check_and_apply(ledger, event);
  }
  ledger.history_events += 1;

  // The case's own counters start with its CaseOpened (that one included);
  // events before it count only in the projector's totals.
  CaseSummary& s = ledger.summary;
  if (s.opened) {
    switch (outcome.disposition) {
      case Disposition::kApplied:
        s.events_applied += 1;
        break;
      case Disposition::kDuplicate:
        s.duplicates += 1;
        break;
      case Disposition::kRejected:
        s.events_rejected += 1;
        break;
    }
  }
  ledger.dirty.summary = true;
  return outcome;
}

}  // namespace homeward::engine
