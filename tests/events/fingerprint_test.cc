// Fingerprints decide "identical" in the duplicate rule: equal for equal
// events, different when any field differs.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "events/codec.h"
#include "events/fingerprint.h"
#include "events/ndjson.h"
#include "sample_events.h"

namespace homeward::events {
namespace {

using testing::all_samples;
using testing::currency;
using testing::full_events;

TEST(Fingerprint, EqualEventsHaveEqualFingerprints) {
  for (const Event& event : all_samples()) {
    const Event copy = event;
    EXPECT_EQ(fingerprint(copy), fingerprint(event));
    // However the event travelled, the fingerprint is the same.
    EXPECT_EQ(fingerprint(*decode_event(encode_event(event))), fingerprint(event));
    EXPECT_EQ(fingerprint(*parse_event_json(format_event_json(event))), fingerprint(event));
  }
}

TEST(Fingerprint, SampleEventsAllDiffer) {
  std::set<Fingerprint> seen;
  for (const Event& event : all_samples()) seen.insert(fingerprint(event));
  EXPECT_EQ(seen.size(), all_samples().size());
}

TEST(Fingerprint, ChangesWhenAnyFieldChanges) {
  using Mutation = std::function<void(Event&)>;
  const std::vector<std::pair<size_t, Mutation>> mutations = {
      {0, [](Event& e) { e.event_id = "e1x"; }},
      {0, [](Event& e) { e.occurred_at = TimestampMicros(e.occurred_at.value() + 1); }},
      {0, [](Event& e) { e.case_id = "case-xg"; }},
      {0, [](Event& e) { e.source.reset(); }},
      {0, [](Event& e) { e.source = "portal:web-2"; }},
      {0, [](Event& e) { std::get<CaseOpened>(e.body).plan.currency = currency("EUR"); }},
      {0, [](Event& e) { std::get<CaseOpened>(e.body).plan.goal = MinorUnits(150001); }},
      {0, [](Event& e) { std::get<CaseOpened>(e.body).plan.budget.reset(); }},
      {0,
       [](Event& e) { (*std::get<CaseOpened>(e.body).plan.budget)[0].amount = MinorUnits(40001); }},
      {0,
       [](Event& e) {
         (*std::get<CaseOpened>(e.body).plan.budget)[0].category = Category::kLegal;
       }},
      {0, [](Event& e) { std::get<CaseOpened>(e.body).plan.budget->pop_back(); }},
      {1, [](Event& e) { std::get<CaseGoalChanged>(e.body).reason.reset(); }},
      {1, [](Event& e) { std::get<CaseGoalChanged>(e.body).reason = ""; }},
      {1, [](Event& e) { std::get<CaseGoalChanged>(e.body).reason->push_back('.'); }},
      {2, [](Event& e) { std::get<CaseClosed>(e.body).reason = CloseReason::kOther; }},
      {3, [](Event& e) { std::get<DonationReceived>(e.body).donor_ref = "d-18"; }},
      {3, [](Event& e) { std::get<DonationReceived>(e.body).amount = MinorUnits(2501); }},
      {3, [](Event& e) { std::get<DonationReceived>(e.body).currency = currency("THB"); }},
      {3,
       [](Event& e) {  // same fields, another type
         const auto& d = std::get<DonationReceived>(e.body);
         e.body = PledgeMade{d.donor_ref, d.amount, d.currency};
       }},
      {5, [](Event& e) { std::get<PledgeFulfilled>(e.body).pledge_id = "e5x"; }},
      {6, [](Event& e) { std::get<PledgeCancelled>(e.body).reason.reset(); }},
      {7, [](Event& e) { std::get<RefundIssued>(e.body).reason = RefundReason::kChargeback; }},
      {7, [](Event& e) { std::get<RefundIssued>(e.body).donation_id = "e3"; }},
      {8, [](Event& e) { std::get<FundsDisbursed>(e.body).category = Category::kLegal; }},
      {8, [](Event& e) { std::get<FundsDisbursed>(e.body).reference.reset(); }},
      {8, [](Event& e) { std::get<FundsDisbursed>(e.body).amount = MinorUnits(1235); }},
  };
  const auto events = full_events();
  for (size_t i = 0; i < mutations.size(); ++i) {
    const auto& [index, mutate] = mutations[i];
    Event changed = events[index];
    mutate(changed);
    ASSERT_NE(changed, events[index]) << "mutation " << i << " changed nothing";
    EXPECT_NE(fingerprint(changed), fingerprint(events[index])) << "mutation " << i;
  }
}

TEST(Fingerprint, StringBoundariesAreUnambiguous) {
  // Moving a character between adjacent strings must change the fingerprint.
  const EventBody body = full_events()[3].body;
  const Event a{"e4", testing::kT0, "c", std::nullopt, body};
  const Event b{"e", testing::kT0, "4c", std::nullopt, body};
  EXPECT_NE(fingerprint(a), fingerprint(b));
}

}  // namespace
}  // namespace homeward::events
