// Short builders for ledger-rule tests: `donation("e2", "d-17", 2500)` is a
// DonationReceived of 25.00 USD to case "case-xf" by donor d-17, occurring at
// kT0. Events are built as values directly (no NDJSON parsing), so these
// tests depend on nothing but the event structs. `at()` and `in_case()`
// change the time and the case of any event.
#pragma once

#include <cstdint>
#include <numeric>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/rules.h"
#include "events/event.h"

namespace homeward::testing {

using events::BudgetLine;
using events::Category;
using events::CloseReason;
using events::Currency;
using events::Event;
using events::EventBody;
using events::FundingPlan;
using events::RefundReason;

inline constexpr const char* kCase = "case-xf";

inline const Currency kUsd{{'U', 'S', 'D'}, 2};
inline const Currency kEur{{'E', 'U', 'R'}, 2};
inline const Currency kJpy{{'J', 'P', 'Y'}, 0};
inline const Currency kKwd{{'K', 'W', 'D'}, 3};

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kSecondsPerDay = 86'400;
// 2015-06-01T00:00:00Z.
inline constexpr TimestampMicros kT0{int64_t{1'433'116'800} * kMicrosPerSecond};

// Midnight UTC of 2015-06-DD.
inline TimestampMicros june(int day_of_month) {
  return TimestampMicros(kT0.value() + (day_of_month - 1) * kSecondsPerDay * kMicrosPerSecond);
}
inline TimestampMicros plus_micros(TimestampMicros t, int64_t micros) {
  return TimestampMicros(t.value() + micros);
}

inline Event make_event(std::string event_id, EventBody body) {
  return Event{std::move(event_id), kT0, kCase, std::nullopt, std::move(body)};
}
inline Event at(Event event, TimestampMicros occurred_at) {
  event.occurred_at = occurred_at;
  return event;
}
inline Event in_case(Event event, std::string case_id) {
  event.case_id = std::move(case_id);
  return event;
}

inline FundingPlan goal_plan(int64_t goal, const Currency& currency) {
  return FundingPlan{currency, MinorUnits(goal), std::nullopt};
}
// The goal is the budget's sum, as stage 1 guarantees. Lines must be given
// sorted by category, as stage 1 leaves them.
inline FundingPlan budget_plan(std::vector<BudgetLine> budget, const Currency& currency) {
  int64_t goal = 0;
  for (const BudgetLine& line : budget) goal += line.amount.value();
  return FundingPlan{currency, MinorUnits(goal), std::move(budget)};
}
inline BudgetLine line(Category category, int64_t amount) {
  return BudgetLine{category, MinorUnits(amount)};
}

inline Event opened(std::string id, int64_t goal, const Currency& currency = kUsd) {
  return make_event(std::move(id), events::CaseOpened{goal_plan(goal, currency)});
}
inline Event opened_with_budget(std::string id, std::vector<BudgetLine> budget,
                                const Currency& currency = kUsd) {
  return make_event(std::move(id), events::CaseOpened{budget_plan(std::move(budget), currency)});
}
inline Event goal_changed(std::string id, int64_t goal, const Currency& currency = kUsd) {
  return make_event(std::move(id),
                    events::CaseGoalChanged{goal_plan(goal, currency), std::nullopt});
}
inline Event goal_changed_with_budget(std::string id, std::vector<BudgetLine> budget,
                                      const Currency& currency = kUsd) {
  return make_event(std::move(id), events::CaseGoalChanged{budget_plan(std::move(budget), currency),
                                                           std::nullopt});
}
inline Event closed(std::string id, CloseReason reason = CloseReason::kCompleted) {
  return make_event(std::move(id), events::CaseClosed{reason});
}
inline Event donation(std::string id, std::string donor, int64_t amount,
                      const Currency& currency = kUsd) {
  return make_event(std::move(id),
                    events::DonationReceived{std::move(donor), MinorUnits(amount), currency});
}
inline Event pledge(std::string id, std::string donor, int64_t amount,
                    const Currency& currency = kUsd) {
  return make_event(std::move(id),
                    events::PledgeMade{std::move(donor), MinorUnits(amount), currency});
}
inline Event fulfilled(std::string id, std::string pledge_id) {
  return make_event(std::move(id), events::PledgeFulfilled{std::move(pledge_id)});
}
inline Event cancelled(std::string id, std::string pledge_id) {
  return make_event(std::move(id), events::PledgeCancelled{std::move(pledge_id), std::nullopt});
}
inline Event refund(std::string id, std::string donation_id, int64_t amount,
                    RefundReason reason = RefundReason::kDonorRequest,
                    const Currency& currency = kUsd) {
  return make_event(std::move(id), events::RefundIssued{std::move(donation_id), MinorUnits(amount),
                                                        currency, reason});
}
inline Event disbursement(std::string id, Category category, int64_t amount,
                          const Currency& currency = kUsd) {
  return make_event(std::move(id),
                    events::FundsDisbursed{category, MinorUnits(amount), currency, std::nullopt});
}

inline engine::CaseLedger empty_ledger(std::string case_id = kCase) {
  engine::CaseLedger ledger;
  ledger.case_id = std::move(case_id);
  return ledger;
}

}  // namespace homeward::testing

namespace homeward::engine {

// Readable gtest failure messages: "rejected(unknown_case)" instead of bytes.
inline void PrintTo(const Outcome& outcome, std::ostream* os) {
  switch (outcome.disposition) {
    case Disposition::kApplied:
      *os << "applied";
      return;
    case Disposition::kDuplicate:
      *os << "duplicate";
      return;
    case Disposition::kRejected:
      *os << "rejected(" << to_string(outcome.reason) << ")";
      return;
  }
}

}  // namespace homeward::engine

namespace homeward {

inline void PrintTo(const MinorUnits& amount, std::ostream* os) { *os << amount.value(); }
inline void PrintTo(const TimestampMicros& t, std::ostream* os) { *os << t.value() << "us"; }

}  // namespace homeward
