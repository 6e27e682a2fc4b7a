// Sample events of every type for the events/ tests, built as values (not
// parsed), so that parser and codec tests compare against an independent
// source.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"
#include "events/money.h"

namespace homeward::events::testing {

inline Currency currency(std::string_view code) {
  auto found = find_currency(code);
  if (!found) std::abort();  // a typo in a test, not a behaviour under test
  return *found;
}

// 2015-06-01T08:00:00Z.
inline constexpr TimestampMicros kT0{int64_t{1'433'145'600} * 1'000'000};

// One event of each type, in EventType order, with every optional field set.
inline std::vector<Event> full_events() {
  const Currency usd = currency("USD");
  const Currency jpy = currency("JPY");
  const Currency kwd = currency("KWD");
  std::vector<Event> events;
  auto add = [&events](std::string id, EventBody body) {
    events.push_back(Event{std::move(id), TimestampMicros(kT0.value() + 250'000), "case-xf",
                           std::string("portal:web-1"), std::move(body)});
  };
  add("e1", CaseOpened{
                FundingPlan{usd, MinorUnits(150000),
                            std::vector<BudgetLine>{{Category::kRepatriation, MinorUnits(40000)},
                                                    {Category::kLivelihood, MinorUnits(110000)}}}});
  add("e2",
      CaseGoalChanged{
          FundingPlan{usd, MinorUnits(160000),
                      std::vector<BudgetLine>{{Category::kShelter, MinorUnits(10000)},
                                              {Category::kRepatriation, MinorUnits(40000)},
                                              {Category::kLivelihood, MinorUnits(110000)}}},
          std::string("needs \"assessment\" \\ revised\n\tline 2, caf\xC3\xA9 \xE2\x82\xAC")});
  add("e3", CaseClosed{CloseReason::kCancelled});
  add("e4", DonationReceived{"d-17", MinorUnits(2500), usd});
  add("e5", PledgeMade{"d_18", MinorUnits(3000), jpy});
  add("e6", PledgeFulfilled{"e5"});
  add("e7", PledgeCancelled{"e5", std::string("donor changed their mind")});
  add("e8", RefundIssued{"e4", MinorUnits(500), usd, RefundReason::kReallocated});
  add("e9",
      FundsDisbursed{Category::kMedical, MinorUnits(1234), kwd, std::string("inv:2015.06-1")});
  return events;
}

// The same nine types with every optional field absent.
inline std::vector<Event> minimal_events() {
  const Currency eur = currency("EUR");
  std::vector<Event> events;
  auto add = [&events](std::string id, EventBody body) {
    events.push_back(Event{std::move(id), kT0, "c1", std::nullopt, std::move(body)});
  };
  add("m1", CaseOpened{FundingPlan{eur, MinorUnits(1), std::nullopt}});
  add("m2", CaseGoalChanged{FundingPlan{eur, MinorUnits(1'000'000'000'000'000), std::nullopt},
                            std::nullopt});
  add("m3", CaseClosed{CloseReason::kCompleted});
  add("m4", DonationReceived{"d", MinorUnits(1), eur});
  add("m5", PledgeMade{"d", MinorUnits(1'000'000'000'000'000), eur});
  add("m6", PledgeFulfilled{"m5"});
  add("m7", PledgeCancelled{"m5", std::nullopt});
  add("m8", RefundIssued{"m4", MinorUnits(1), eur, RefundReason::kChargeback});
  add("m9", FundsDisbursed{Category::kOther, MinorUnits(7), eur, std::nullopt});
  return events;
}

inline std::vector<Event> all_samples() {
  auto out = full_events();
  for (auto& e : minimal_events()) out.push_back(std::move(e));
  return out;
}

}  // namespace homeward::events::testing
