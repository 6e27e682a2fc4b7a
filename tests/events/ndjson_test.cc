// NDJSON stage 1 (SPEC sections 3 and 4): every refusal names the field and
// the reason; accepted lines normalise into Event values; the canonical line
// parses back to the same Event.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "events/ndjson.h"
#include "sample_events.h"

namespace homeward::events {
namespace {

using nlohmann::ordered_json;
using testing::all_samples;
using testing::currency;
using testing::full_events;

Event parse_ok(std::string_view line) {
  auto parsed = parse_event_json(line);
  EXPECT_TRUE(parsed.has_value()) << line << "\n  refused: "
                                  << (parsed ? ""
                                             : parsed.error().field + ": " + parsed.error().reason);
  return parsed ? *parsed : Event{};
}

// Expects a refusal of `field` whose reason contains `reason_part`.
void expect_refused(std::string_view line, std::string_view field, std::string_view reason_part) {
  auto parsed = parse_event_json(line);
  ASSERT_FALSE(parsed.has_value()) << "accepted: " << line;
  EXPECT_EQ(parsed.error().field, field) << line << "\n  reason: " << parsed.error().reason;
  EXPECT_NE(parsed.error().reason.find(reason_part), std::string::npos)
      << line << "\n  reason: " << parsed.error().reason
      << "\n  expected to contain: " << reason_part;
}

TEST(ParseEventJson, ReadsTheSpecExamples) {
  const Event opened = parse_ok(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"case-xf","currency":"USD","budget":[{"category":"repatriation","amount":"400.00"},{"category":"livelihood","amount":"1100.00"}]})");
  EXPECT_EQ(opened.event_id, "e1");
  EXPECT_EQ(opened.case_id, "case-xf");
  EXPECT_EQ(opened.occurred_at, testing::kT0);
  EXPECT_FALSE(opened.source.has_value());
  const auto& plan = std::get<CaseOpened>(opened.body).plan;
  EXPECT_EQ(plan.currency.code_view(), "USD");
  EXPECT_EQ(plan.goal, MinorUnits(150000));  // the budget's sum
  ASSERT_TRUE(plan.budget.has_value());
  ASSERT_EQ(plan.budget->size(), 2u);
  // Sorted by category: repatriation (3) before livelihood (5).
  EXPECT_EQ((*plan.budget)[0], (BudgetLine{Category::kRepatriation, MinorUnits(40000)}));
  EXPECT_EQ((*plan.budget)[1], (BudgetLine{Category::kLivelihood, MinorUnits(110000)}));

  const Event donation = parse_ok(
      R"({"type":"DonationReceived","event_id":"e2","occurred_at":"2015-06-02T09:30:00Z","case_id":"case-xf","donor_ref":"d-17","amount":"25.00","currency":"USD"})");
  EXPECT_EQ(std::get<DonationReceived>(donation.body),
            (DonationReceived{"d-17", MinorUnits(2500), currency("USD")}));

  const Event refund = parse_ok(
      R"({"type":"RefundIssued","event_id":"e3","occurred_at":"2015-06-03T10:00:00Z","case_id":"case-xf","donation_id":"e2","amount":"5","currency":"USD","reason":"donor_request"})");
  EXPECT_EQ(std::get<RefundIssued>(refund.body),
            (RefundIssued{"e2", MinorUnits(500), currency("USD"), RefundReason::kDonorRequest}));
}

TEST(ParseEventJson, BudgetOrderDoesNotChangeTheEvent) {
  const Event a = parse_ok(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"USD","goal":"15","budget":[{"category":"legal","amount":"5"},{"category":"shelter","amount":"10"}]})");
  const Event b = parse_ok(
      R"({"budget":[{"amount":"10.00","category":"shelter"},{"category":"legal","amount":"5.0"}],"case_id":"c","currency":"USD","occurred_at":"2015-06-01T15:00:00+07:00","event_id":"e1","type":"CaseOpened"})");
  EXPECT_EQ(a, b);
}

TEST(FormatEventJson, WritesTheCanonicalLine) {
  const auto events = full_events();
  EXPECT_EQ(
      format_event_json(events[0]),
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00.250000Z","case_id":"case-xf","source":"portal:web-1","currency":"USD","goal":"1500.00","budget":[{"category":"repatriation","amount":"400.00"},{"category":"livelihood","amount":"1100.00"}]})");
  EXPECT_EQ(
      format_event_json(events[4]),
      R"({"type":"PledgeMade","event_id":"e5","occurred_at":"2015-06-01T08:00:00.250000Z","case_id":"case-xf","source":"portal:web-1","donor_ref":"d_18","amount":"3000","currency":"JPY"})");
  EXPECT_EQ(
      format_event_json(events[8]),
      R"({"type":"FundsDisbursed","event_id":"e9","occurred_at":"2015-06-01T08:00:00.250000Z","case_id":"case-xf","source":"portal:web-1","category":"medical","amount":"1.234","currency":"KWD","reference":"inv:2015.06-1"})");
  EXPECT_EQ(
      format_event_json(events[1]).find(
          R"("reason":"needs \"assessment\" \\ revised\n\tline 2, café €")") != std::string::npos,
      true)
      << format_event_json(events[1]);
}

TEST(FormatEventJson, EscapesControlCharacters) {
  Event e = full_events()[6];
  std::get<PledgeCancelled>(e.body).reason = std::string(
      "a\x01"
      "b\x1f"
      "c\"\\",
      7);
  const std::string line = format_event_json(e);
  EXPECT_NE(line.find(R"("reason":"a\u0001b\u001fc\"\\")"), std::string::npos) << line;
  EXPECT_EQ(parse_ok(line), e);
}

TEST(NdjsonRoundTrip, AllNineTypesParseBackToEqualEvents) {
  for (const Event& event : all_samples()) {
    const std::string line = format_event_json(event);
    const Event back = parse_ok(line);
    EXPECT_EQ(back, event) << line;
    EXPECT_EQ(format_event_json(back), line);
  }
}

// --- refusals ---

// The canonical line of a sample as an ordered JSON object, to mutate.
ordered_json sample_json(EventType type, bool full = true) {
  const auto events = full ? testing::full_events() : testing::minimal_events();
  return ordered_json::parse(format_event_json(events[static_cast<size_t>(type)]));
}

std::vector<std::string_view> required_fields(EventType type) {
  std::vector<std::string_view> common = {"event_id", "occurred_at", "case_id"};
  std::vector<std::string_view> own;
  switch (type) {
    case EventType::kCaseOpened:
    case EventType::kCaseGoalChanged:
      own = {"currency"};
      break;
    case EventType::kCaseClosed:
      own = {"reason"};
      break;
    case EventType::kDonationReceived:
    case EventType::kPledgeMade:
      own = {"donor_ref", "amount", "currency"};
      break;
    case EventType::kPledgeFulfilled:
    case EventType::kPledgeCancelled:
      own = {"pledge_id"};
      break;
    case EventType::kRefundIssued:
      own = {"donation_id", "amount", "currency", "reason"};
      break;
    case EventType::kFundsDisbursed:
      own = {"category", "amount", "currency"};
      break;
  }
  common.insert(common.end(), own.begin(), own.end());
  return common;
}

TEST(ParseEventJsonRefuses, AMissingRequiredFieldOfEveryType) {
  for (size_t t = 0; t < kEventTypeCount; ++t) {
    const auto type = static_cast<EventType>(t);
    for (auto field : required_fields(type)) {
      ordered_json j = sample_json(type);
      j.erase(std::string(field));
      expect_refused(j.dump(), field, "is missing");
    }
    ordered_json j = sample_json(type);
    j.erase("type");
    expect_refused(j.dump(), "type", "is missing");
  }
}

TEST(ParseEventJsonRefuses, EveryFieldOfTheWrongJsonType) {
  for (size_t t = 0; t < kEventTypeCount; ++t) {
    const auto type = static_cast<EventType>(t);
    const ordered_json original = sample_json(type);
    for (const auto& [key, value] : original.items()) {
      if (key == "budget") continue;  // an array, covered below
      for (const ordered_json& wrong : {ordered_json(5), ordered_json(nullptr), ordered_json(true),
                                        ordered_json::array(), ordered_json::object()}) {
        ordered_json j = original;
        j[key] = wrong;
        expect_refused(j.dump(), key, "must be a JSON string");
      }
    }
  }
}

TEST(ParseEventJsonRefuses, AmountsThatAreJsonNumbers) {
  expect_refused(
      R"({"type":"DonationReceived","event_id":"e2","occurred_at":"2015-06-02T09:30:00Z","case_id":"c","donor_ref":"d","amount":25.00,"currency":"USD"})",
      "amount", "must be a JSON string holding a decimal, such as \"25.00\", not a number");
  expect_refused(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"USD","budget":[{"category":"legal","amount":5}]})",
      "budget[0].amount", "must be a JSON string");
}

TEST(ParseEventJsonRefuses, BadValuesOfEveryField) {
  struct Case {
    EventType type;
    const char* field;
    ordered_json value;
    const char* reason_part;
  };
  const std::string long_text(281, 'x');
  const std::vector<Case> cases = {
      {EventType::kDonationReceived, "event_id", "e 1", "has ' ' at position 2"},
      {EventType::kDonationReceived, "event_id", "", "is empty"},
      {EventType::kDonationReceived, "event_id", std::string(129, 'a'), "129 characters"},
      {EventType::kDonationReceived, "occurred_at", "2015-02-29T00:00:00Z", "calendar date"},
      {EventType::kDonationReceived, "occurred_at", "2015-06-01T08:00:00", "time zone"},
      {EventType::kDonationReceived, "case_id", "case/1", "has '/'"},
      {EventType::kDonationReceived, "source", "web portal", "has ' '"},
      {EventType::kDonationReceived, "donor_ref", "d\xC3\xA9", "byte 0xc3"},
      {EventType::kDonationReceived, "amount", "0.00", "is zero"},
      {EventType::kDonationReceived, "amount", "1.001", "has 3 decimals; USD allows at most 2"},
      {EventType::kDonationReceived, "currency", "XAU", "not a supported currency"},
      {EventType::kDonationReceived, "currency", "usd", "upper case"},
      {EventType::kPledgeMade, "amount", "30.5", "JPY has no minor unit"},
      {EventType::kPledgeMade, "currency", "EURO", "not a supported currency"},
      {EventType::kPledgeFulfilled, "pledge_id", "", "is empty"},
      {EventType::kPledgeCancelled, "pledge_id", "p#1", "has '#'"},
      {EventType::kPledgeCancelled, "reason", long_text, "281 characters long; at most 280"},
      {EventType::kCaseGoalChanged, "reason", long_text, "281 characters long"},
      {EventType::kCaseClosed, "reason", "finished",
       "\"finished\" is not a close reason; expected completed, cancelled or other"},
      {EventType::kRefundIssued, "reason", "oops", "is not a refund reason"},
      {EventType::kRefundIssued, "donation_id", "e 4", "has ' '"},
      {EventType::kRefundIssued, "amount", "-5.00", "sign"},
      {EventType::kFundsDisbursed, "category", "food",
       "\"food\" is not a category; expected shelter, medical, legal, repatriation, education, "
       "livelihood, psychosocial or other"},
      {EventType::kFundsDisbursed, "amount", "1.2345", "has 4 decimals; KWD allows at most 3"},
      {EventType::kFundsDisbursed, "reference", "inv 1", "has ' '"},
      {EventType::kCaseOpened, "currency", "XDR", "not a supported currency"},
      {EventType::kCaseOpened, "goal", "1e3", "exponent"},
      {EventType::kCaseGoalChanged, "goal", "0", "is zero"},
  };
  for (const Case& c : cases) {
    ordered_json j = sample_json(c.type);
    j[c.field] = c.value;
    if (std::string_view(c.field) == "goal") j.erase("budget");
    expect_refused(j.dump(), c.field, c.reason_part);
  }
}

TEST(ParseEventJsonRefuses, UnknownFieldsAndFieldsOfAnotherType) {
  for (size_t t = 0; t < kEventTypeCount; ++t) {
    ordered_json j = sample_json(static_cast<EventType>(t));
    j["amonut"] = "5.00";
    expect_refused(j.dump(), "amonut", "is not a known field");
  }
  ordered_json j = sample_json(EventType::kPledgeFulfilled);
  j["amount"] = "5.00";
  expect_refused(j.dump(), "amount", "is not a field of PledgeFulfilled");
  j = sample_json(EventType::kCaseClosed);
  j["goal"] = "5.00";
  expect_refused(j.dump(), "goal", "is not a field of CaseClosed");
  j = sample_json(EventType::kDonationReceived);
  j["Amount"] = "5.00";  // field names are case-sensitive
  expect_refused(j.dump(), "Amount", "is not a known field");
}

// Issue 11: an unknown field names the nearest field of the event's type.
TEST(ParseEventJsonRefuses, AnUnknownFieldSuggestsTheNearestKnownOne) {
  struct Case {
    EventType type;
    std::string key;
    std::string suggestion;  // empty: none
  };
  const std::vector<Case> cases = {
      {EventType::kDonationReceived, "donor", "donor_ref"},
      {EventType::kDonationReceived, "amonut", "amount"},
      {EventType::kDonationReceived, "Amount", "amount"},
      {EventType::kDonationReceived, "curency", "currency"},
      {EventType::kDonationReceived, "occured_at", "occurred_at"},
      {EventType::kDonationReceived, "eventId", "event_id"},
      {EventType::kRefundIssued, "donation", "donation_id"},
      {EventType::kFundsDisbursed, "categroy", "category"},
      {EventType::kPledgeCancelled, "pledge", "pledge_id"},
      {EventType::kCaseClosed, "colour", ""},
      {EventType::kDonationReceived, "surplus", ""},
      {EventType::kDonationReceived, std::string(100, 'a'), ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.key);
    ordered_json j = sample_json(c.type);
    j[c.key] = "x";
    const auto parsed = parse_event_json(j.dump());
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().field, c.key);
    EXPECT_EQ(parsed.error().reason,
              c.suggestion.empty()
                  ? "is not a known field (check its spelling)"
                  : "is not a known field; did you mean \"" + c.suggestion + "\"?");
  }
  ordered_json j = sample_json(EventType::kCaseOpened);
  j["budget"] = ordered_json::array({{{"category", "legal"}, {"amout", "5.00"}}});
  j.erase("goal");
  expect_refused(j.dump(), "budget[0].amout",
                 "is not a field of a budget entry (only category and amount); did you mean "
                 "\"amount\"?");
}

TEST(ParseEventJsonRefuses, DuplicateKeysOfEveryType) {
  for (size_t t = 0; t < kEventTypeCount; ++t) {
    const ordered_json j = sample_json(static_cast<EventType>(t));
    for (const auto& [key, value] : j.items()) {
      // The same key again at the end, even with the same value.
      std::string line = j.dump();
      line.pop_back();
      line += ",\"" + key + "\":" + value.dump() + "}";
      expect_refused(line, key, "appears more than once");
    }
  }
  expect_refused(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"USD","budget":[{"category":"legal","amount":"5","amount":"5"}]})",
      "budget[0].amount", "appears more than once");
}

TEST(ParseEventJsonRefuses, BudgetProblems) {
  const std::string head =
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"USD")";
  expect_refused(
      head +
          R"(,"goal":"20.00","budget":[{"category":"legal","amount":"5"},{"category":"shelter","amount":"10"}]})",
      "goal", "is 20.00 USD but the budget sums to 15.00 USD");
  expect_refused(head + R"(,"budget":[]})", "budget", "is empty");
  expect_refused(head + R"(,"goal":"5","budget":[]})", "budget", "is empty");
  expect_refused(
      head +
          R"(,"budget":[{"category":"legal","amount":"5"},{"category":"shelter","amount":"1"},{"category":"legal","amount":"1"}]})",
      "budget[2].category", "repeats \"legal\" of budget[0]");
  expect_refused(head + R"(,"budget":[{"category":"legal"}]})", "budget[0].amount", "is missing");
  expect_refused(head + R"(,"budget":[{"amount":"5"}]})", "budget[0].category", "is missing");
  expect_refused(head + R"(,"budget":[{"category":"legal","amount":"5","note":"x"}]})",
                 "budget[0].note", "is not a field of a budget entry");
  expect_refused(head + R"(,"budget":[{"category":"legal","amount":"5"},"shelter"]})", "budget[1]",
                 "must be an object");
  expect_refused(head + R"(,"budget":{"legal":"5"}})", "budget", "must be a JSON array");
  expect_refused(head + R"(,"budget":null})", "budget", "must be a JSON array");
  expect_refused(head + R"(,"budget":[{"category":"food","amount":"5"}]})", "budget[0].category",
                 "\"food\" is not a category");
  expect_refused(head + R"(,"budget":[{"category":"legal","amount":"0.00"}]})", "budget[0].amount",
                 "is zero");
  expect_refused(
      head +
          R"(,"budget":[{"category":"legal","amount":"10000000000000.00"},{"category":"shelter","amount":"0.01"}]})",
      "budget", "above the maximum goal");
}

TEST(ParseEventJsonRefuses, GoalAndBudgetBothMissing) {
  expect_refused(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"USD"})",
      "goal", "CaseOpened needs a goal, a budget, or both");
  expect_refused(
      R"({"type":"CaseGoalChanged","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"USD","reason":"r"})",
      "goal", "CaseGoalChanged needs a goal, a budget, or both");
}

TEST(ParseEventJson, GoalWithoutBudgetAndBudgetWithoutGoalAreBothAccepted) {
  const Event goal_only = parse_ok(
      R"({"type":"CaseGoalChanged","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"THB","goal":"99.99"})");
  const auto& plan = std::get<CaseGoalChanged>(goal_only.body).plan;
  EXPECT_EQ(plan.goal, MinorUnits(9999));
  EXPECT_FALSE(plan.budget.has_value());
  const Event budget_only = parse_ok(
      R"({"type":"CaseGoalChanged","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","currency":"JPY","budget":[{"category":"other","amount":"7"}]})");
  EXPECT_EQ(std::get<CaseGoalChanged>(budget_only.body).plan.goal, MinorUnits(7));
}

TEST(ParseEventJsonRefuses, LinesThatAreNotJsonObjects) {
  expect_refused("", "", "not JSON");
  expect_refused("{", "", "not JSON");
  expect_refused("{\"type\":\"CaseClosed\",}", "", "not JSON");
  expect_refused("not json", "", "not JSON");
  expect_refused("{\"a\":1} {\"b\":2}", "", "not JSON");
  expect_refused("[1,2]", "", "must be a JSON object, not an array");
  expect_refused("\"CaseClosed\"", "", "must be a JSON object, not a string");
  expect_refused("42", "", "must be a JSON object, not a number");
  expect_refused("null", "", "must be a JSON object, not null");
  expect_refused(std::string("{\"type\":\"CaseClosed\xFF\"}"), "", "not JSON");
}

TEST(ParseEventJsonRefuses, UnknownTypeBeforeAnythingElse) {
  expect_refused(R"({"type":"DonationMade","event_id":"e 1","bogus":1})", "type",
                 "\"DonationMade\" is not an event type; expected CaseOpened, CaseGoalChanged");
  expect_refused(R"({"type":"donationreceived"})", "type", "is not an event type");
  expect_refused(R"({"type":7})", "type", "must be a JSON string, not a number");
}

TEST(ParseEventJsonRefuses, InAFixedOrder) {
  // An unknown field is reported before a missing one.
  expect_refused(R"({"type":"CaseClosed","colour":"red"})", "colour", "is not a known field");
  // Common fields before the type's own, in SPEC order.
  expect_refused(R"({"type":"CaseClosed","reason":"x","case_id":"c 1","occurred_at":"bad"})",
                 "event_id", "is missing");
  expect_refused(
      R"({"type":"CaseClosed","reason":"x","case_id":"c 1","occurred_at":"bad","event_id":"e"})",
      "occurred_at", "is not an RFC 3339 timestamp");
  expect_refused(
      R"({"type":"CaseClosed","reason":"x","case_id":"c 1","occurred_at":"2015-06-01T08:00:00Z","event_id":"e"})",
      "case_id", "has ' '");
  // The currency comes before the amount, whose decimals depend on it.
  expect_refused(
      R"({"type":"DonationReceived","event_id":"e","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","donor_ref":"d","amount":"x","currency":"ABC"})",
      "currency", "not a supported currency");
  expect_refused(
      R"({"type":"DonationReceived","event_id":"e","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","donor_ref":"d 1","amount":"x","currency":"ABC"})",
      "donor_ref", "has ' '");
}

TEST(ParseEventJson, FreeTextMayHoldAnyUnicodeUpTo280Characters) {
  std::string reason;
  for (int i = 0; i < 280; ++i) reason += "\xC3\xA9";
  ordered_json j = sample_json(EventType::kPledgeCancelled);
  j["reason"] = reason;
  const Event e = parse_ok(j.dump());
  EXPECT_EQ(std::get<PledgeCancelled>(e.body).reason, reason);
  // JSON escapes are decoded before the length is counted: \u00e9 is one character.
  std::string escaped =
      R"({"type":"PledgeCancelled","event_id":"e","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","pledge_id":"p","reason":")";
  for (int i = 0; i < 280; ++i) escaped += "\\u00e9";
  EXPECT_EQ(std::get<PledgeCancelled>(parse_ok(escaped + "\"}").body).reason, reason);
  expect_refused(escaped + "x\"}", "reason", "281 characters long");
}

TEST(ParseEventJsonRefuses, LoneSurrogateEscapesAndHugeLines) {
  const std::string head =
      R"({"type":"PledgeCancelled","event_id":"e","occurred_at":"2015-06-01T08:00:00Z","case_id":"c","pledge_id":"p","reason":)";
  expect_refused(head + R"("\ud800"})", "", "not JSON");
  // A paired surrogate escape is one character.
  EXPECT_EQ(std::get<PledgeCancelled>(parse_ok(head + R"("\ud83d\ude00"})").body).reason,
            "\xF0\x9F\x98\x80");
  // Larger than the per-thread parser keeps: parsed by a parser of its own.
  expect_refused(head + "\"" + std::string(3 << 20, 'x') + "\"}", "reason",
                 "is 3145728 characters long");
  expect_refused(std::string(5000, '[') + std::string(5000, ']'), "", "not JSON");
}

TEST(ParseEventJson, AcceptsWhitespaceAroundTokensAndCarriageReturn) {
  const Event e = parse_ok(
      " { \"type\" : \"CaseClosed\" , \"event_id\":\"e\",\"occurred_at\":\"2015-06-01T08:00:00Z\","
      "\"case_id\":\"c\",\"reason\":\"completed\" }\r");
  EXPECT_EQ(std::get<CaseClosed>(e.body).reason, CloseReason::kCompleted);
}

}  // namespace
}  // namespace homeward::events
