// A reference fold of SPEC sections 4-5, written from the text of the SPEC
// and sharing no code with engine/rules.cc: it compares whole Event values
// for the duplicate rule, uses std::map everywhere and checks overflow with
// 128-bit sums. tests/integration/randomized_reference_test.cc and
// tests/fuzz/fuzz_projector.cc both hold the projector to it, so a rule
// changed in the engine and not in SPEC (or the reverse) shows in both.
//
// ReferenceFold::fold takes one decoded event at a time, in log order, and
// answers "" (applied), "duplicate", or the SPEC reason code of the
// rejection. Records that do not decode are not its business: they belong to
// no case (SPEC section 4, malformed).
#pragma once

#include <climits>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "events/event.h"

namespace homeward::testing {

using events::Category;
using events::Event;
using events::EventType;

struct RefDonation {
  int64_t amount = 0;
  int64_t refunded = 0;
};
struct RefPledge {
  std::string donor;
  int64_t amount = 0;
  bool outstanding = true;
};

struct RefCase {
  bool opened = false;
  std::string currency;
  int64_t goal = 0;
  std::map<Category, int64_t> planned;
  std::map<Category, int64_t> disbursed_by_category;
  int64_t received = 0, refunded = 0, pledged = 0, disbursed = 0;
  int64_t donations = 0, refunds = 0;
  std::set<std::string> donors;
  int64_t opened_at = 0;
  std::optional<int64_t> fully_funded_at, closed_at;
  std::optional<events::CloseReason> close_reason;
  bool chargeback = false;  // a chargeback was applied: available may be negative
  int64_t applied = 0, duplicates = 0, rejected = 0;
  std::map<std::string, Event> seen;  // every handled event id, first event
  std::map<std::string, RefDonation> donation_records;
  std::map<std::string, RefPledge> pledge_records;

  int64_t net() const { return received - refunded; }
  int64_t available() const { return net() - disbursed; }
};

struct RefRejection {
  std::string case_id, event_id;
  EventType type;
  std::string reason;
  int64_t offset;
};

struct ReferenceFold {
  std::map<std::string, RefCase> cases;
  std::vector<RefRejection> rejections;
  int64_t applied = 0, duplicates = 0, rejected = 0;
  std::map<std::string, int64_t> rejected_by_reason;
  std::set<std::string> all_donors;

  static bool fits(__int128 v) { return v <= INT64_MAX && v >= INT64_MIN; }

  // Returns "" when applied, "duplicate", or the rejection reason.
  std::string fold(const Event& e, int64_t offset) {
    RefCase& c = cases[e.case_id];
    const bool counted_before = c.opened;
    std::string verdict = decide_and_apply(c, e);
    const bool counts_in_case = counted_before || c.opened;
    if (verdict.empty()) {
      ++applied;
      if (counts_in_case) ++c.applied;
    } else if (verdict == "duplicate") {
      ++duplicates;
      if (counts_in_case) ++c.duplicates;
    } else {
      ++rejected;
      ++rejected_by_reason[verdict];
      if (counts_in_case) ++c.rejected;
      rejections.push_back({e.case_id, e.event_id, e.type(), verdict, offset});
    }
    return verdict;
  }

  std::string decide_and_apply(RefCase& c, const Event& e) {
    if (auto it = c.seen.find(e.event_id); it != c.seen.end()) {
      return it->second == e ? "duplicate" : "conflicting_duplicate";
    }
    c.seen.emplace(e.event_id, e);
    auto currency_of = [](const events::Currency& cur) { return std::string(cur.code_view()); };
    switch (e.type()) {
      case EventType::kCaseOpened: {
        if (c.opened) return "case_exists";
        const auto& plan = std::get<events::CaseOpened>(e.body).plan;
        c.opened = true;
        c.currency = currency_of(plan.currency);
        set_plan(c, plan);
        c.opened_at = e.occurred_at.value();
        break;
      }
      case EventType::kCaseGoalChanged: {
        const auto& ev = std::get<events::CaseGoalChanged>(e.body);
        if (!c.opened) return "unknown_case";
        if (c.close_reason) return "case_closed";
        if (currency_of(ev.plan.currency) != c.currency) return "currency_mismatch";
        set_plan(c, ev.plan);
        break;
      }
      case EventType::kCaseClosed: {
        if (!c.opened) return "unknown_case";
        if (c.close_reason) return "case_closed";
        c.close_reason = std::get<events::CaseClosed>(e.body).reason;
        c.closed_at = e.occurred_at.value();
        break;
      }
      case EventType::kDonationReceived: {
        const auto& ev = std::get<events::DonationReceived>(e.body);
        if (!c.opened) return "unknown_case";
        if (currency_of(ev.currency) != c.currency) return "currency_mismatch";
        if (!fits(static_cast<__int128>(c.received) + ev.amount.value())) return "overflow";
        add_donation(c, e.event_id, ev.donor_ref, ev.amount.value());
        break;
      }
      case EventType::kPledgeMade: {
        const auto& ev = std::get<events::PledgeMade>(e.body);
        if (!c.opened) return "unknown_case";
        if (c.close_reason) return "case_closed";
        if (currency_of(ev.currency) != c.currency) return "currency_mismatch";
        if (!fits(static_cast<__int128>(c.pledged) + ev.amount.value())) return "overflow";
        c.pledged += ev.amount.value();
        c.pledge_records[e.event_id] = {ev.donor_ref, ev.amount.value(), true};
        break;
      }
      case EventType::kPledgeFulfilled: {
        const auto& ev = std::get<events::PledgeFulfilled>(e.body);
        if (!c.opened) return "unknown_case";
        auto it = c.pledge_records.find(ev.pledge_id);
        if (it == c.pledge_records.end()) return "unknown_pledge";
        if (!it->second.outstanding) return "pledge_not_outstanding";
        if (!fits(static_cast<__int128>(c.received) + it->second.amount)) return "overflow";
        it->second.outstanding = false;
        c.pledged -= it->second.amount;
        add_donation(c, e.event_id, it->second.donor, it->second.amount);
        break;
      }
      case EventType::kPledgeCancelled: {
        const auto& ev = std::get<events::PledgeCancelled>(e.body);
        if (!c.opened) return "unknown_case";
        auto it = c.pledge_records.find(ev.pledge_id);
        if (it == c.pledge_records.end()) return "unknown_pledge";
        if (!it->second.outstanding) return "pledge_not_outstanding";
        it->second.outstanding = false;
        c.pledged -= it->second.amount;
        break;
      }
      case EventType::kRefundIssued: {
        const auto& ev = std::get<events::RefundIssued>(e.body);
        if (!c.opened) return "unknown_case";
        if (currency_of(ev.currency) != c.currency) return "currency_mismatch";
        auto it = c.donation_records.find(ev.donation_id);
        if (it == c.donation_records.end()) return "unknown_donation";
        if (ev.amount.value() > it->second.amount - it->second.refunded) {
          return "refund_exceeds_donation";
        }
        if (ev.reason != events::RefundReason::kChargeback && ev.amount.value() > c.available()) {
          return "insufficient_funds";
        }
        it->second.refunded += ev.amount.value();
        c.refunded += ev.amount.value();
        ++c.refunds;
        if (ev.reason == events::RefundReason::kChargeback) c.chargeback = true;
        break;
      }
      case EventType::kFundsDisbursed: {
        const auto& ev = std::get<events::FundsDisbursed>(e.body);
        if (!c.opened) return "unknown_case";
        if (currency_of(ev.currency) != c.currency) return "currency_mismatch";
        if (ev.amount.value() > c.available()) return "insufficient_funds";
        if (!fits(static_cast<__int128>(c.disbursed) + ev.amount.value())) return "overflow";
        c.disbursed += ev.amount.value();
        c.disbursed_by_category[ev.category] += ev.amount.value();
        break;
      }
    }
    if (!c.close_reason && c.net() >= c.goal && !c.fully_funded_at) {
      c.fully_funded_at = e.occurred_at.value();
    }
    return "";
  }

  static void set_plan(RefCase& c, const events::FundingPlan& plan) {
    c.goal = plan.goal.value();
    c.planned.clear();
    if (plan.budget) {
      for (const auto& line : *plan.budget) c.planned[line.category] = line.amount.value();
    }
  }

  void add_donation(RefCase& c, const std::string& id, const std::string& donor, int64_t amount) {
    c.received += amount;
    ++c.donations;
    c.donors.insert(donor);
    all_donors.insert(donor);
    c.donation_records[id] = {amount, 0};
  }
};

}  // namespace homeward::testing
