// Fuzz target: NDJSON stage 1, `events::parse_event_json` (issue 14 item 2).
//
// Any line either is refused with a field and a reason, or gives an Event
// that (1) formats to a canonical line that parses back to the same Event,
// (2) encodes to FlatBuffers that decode to the same Event (stage 1 on the
// wire accepts what stage 1 in NDJSON accepted), with the same fingerprint,
// and (3) holds SPEC section 2's values. A crash, a sanitizer report or a
// broken round trip is a finding.
//
// The custom mutator is structure-aware: when the input is a JSON object (a
// valid event, as every seed is), it changes exactly one thing of it (one
// field's value, its JSON type, a field removed, a field added, the type
// renamed, a budget line changed) so that most mutants are near-valid events
// that reach the deep checks (amounts, timestamps, budgets) instead of dying
// at the JSON parser. Otherwise, and one time in eight, libFuzzer's own byte
// mutations run.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/codec.h"
#include "events/fingerprint.h"
#include "events/identifier.h"
#include "events/money.h"
#include "events/ndjson.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using homeward::events::Event;
using Json = nlohmann::ordered_json;

void check_values(const Event& event) {
  using namespace homeward::events;
  FUZZ_CHECK(is_valid_identifier(event.event_id) && is_valid_identifier(event.case_id),
             "an accepted event has an invalid id");
  FUZZ_CHECK(!event.source || is_valid_identifier(*event.source), "invalid source accepted");
  auto amount_ok = [](homeward::MinorUnits amount) {
    return amount.value() >= kAmountMin && amount.value() <= kAmountMax;
  };
  std::visit(
      [&](const auto& body) {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (requires { body.amount; }) {
          FUZZ_CHECK(amount_ok(body.amount), "an amount out of range was accepted");
        }
        if constexpr (requires { body.plan; }) {
          FUZZ_CHECK(amount_ok(body.plan.goal), "a goal out of range was accepted");
          if (body.plan.budget) {
            FUZZ_CHECK(!body.plan.budget->empty(), "an empty budget was accepted");
            int64_t sum = 0;
            for (size_t i = 0; i < body.plan.budget->size(); ++i) {
              const auto& line = (*body.plan.budget)[i];
              FUZZ_CHECK(amount_ok(line.amount), "a budget amount out of range was accepted");
              if (i > 0) {
                FUZZ_CHECK((*body.plan.budget)[i - 1].category < line.category,
                           "a budget is not sorted by distinct categories");
              }
              sum += line.amount.value();
            }
            FUZZ_CHECK(sum == body.plan.goal.value(), "a budget that does not sum was accepted");
          }
        }
        if constexpr (std::is_same_v<Body, DonationReceived> || std::is_same_v<Body, PledgeMade>) {
          FUZZ_CHECK(is_valid_identifier(body.donor_ref), "an invalid donor_ref was accepted");
        }
      },
      event.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace homeward::events;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_event_json(line);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().reason.empty(), "a refusal without a reason");
    return 0;
  }
  check_values(*parsed);
  const std::string canonical = format_event_json(*parsed);
  auto again = parse_event_json(canonical);
  FUZZ_CHECK(again.has_value(), "the canonical line is refused: %s: %s\n  %s",
             again ? "" : again.error().field.c_str(), again ? "" : again.error().reason.c_str(),
             canonical.c_str());
  FUZZ_CHECK(*again == *parsed, "the canonical line parses to another event:\n  %s",
             canonical.c_str());
  FUZZ_CHECK(format_event_json(*again) == canonical, "formatting is not canonical");
  const std::string wire = encode_event(*parsed);
  auto decoded = decode_event(wire);
  FUZZ_CHECK(decoded.has_value(), "the wire form of an accepted event is malformed: %s",
             decoded ? "" : decoded.error().message.c_str());
  FUZZ_CHECK(*decoded == *parsed, "the wire form decodes to another event");
  FUZZ_CHECK(fingerprint(*decoded) == fingerprint(*parsed), "the fingerprint changed");
  FUZZ_CHECK(encode_event(*decoded) == wire, "encoding is not deterministic");
  return 0;
}

namespace {

// Values worth trying in any field: boundary amounts, broken timestamps,
// unsupported currencies, ids at and past their limits, other JSON types.
Json interesting_value(std::mt19937& rng) {
  static const std::vector<Json> kValues = {
      "",
      "0",
      "0.00",
      "1",
      "0.01",
      "0.001",
      "1.",
      ".5",
      "-1",
      "+1",
      "1e3",
      " 1",
      "1,00",
      "1000000000000.00",
      "10000000000000.00",
      "10000000000000.01",
      "999999999999999",
      "1000000000000000",
      "1000000000000001",
      "99999999999999999999999999",
      "０１",
      "2015-06-01T08:00:00Z",
      "2015-02-29T00:00:00Z",
      "2016-02-29T23:59:60Z",
      "2015-06-01T24:00:00Z",
      "2015-06-01T08:00:00.1234567Z",
      "2015-06-01T08:00:00+14:60",
      "0000-01-01T00:00:00+00:01",
      "9999-12-31T23:59:59-00:01",
      "2015-06-01t08:00:00z",
      "2015-06-01T08:00:00",
      "USD",
      "JPY",
      "KWD",
      "XAU",
      "XXX",
      "usd",
      "US",
      "UYW",
      std::string(128, 'a'),
      std::string(129, 'a'),
      "a/b",
      "a b",
      "é",
      std::string(281, 'x'),
      "shelter",
      "other",
      "completed",
      "chargeback",
      "donor_request",
      "CaseOpened",
      nullptr,
      true,
      0,
      -1,
      1.5,
      1e308,
      Json::array(),
      Json::object(),
      Json::array({Json{{"category", "shelter"}, {"amount", "1.00"}}}),
      Json::array({Json{{"category", "shelter"}, {"amount", "1.00"}},
                   Json{{"category", "shelter"}, {"amount", "2.00"}}})};
  return kValues[std::uniform_int_distribution<size_t>(0, kValues.size() - 1)(rng)];
}

const char* const kFieldNames[] = {"type",     "event_id",  "occurred_at", "case_id",  "source",
                                   "currency", "goal",      "budget",      "reason",   "donor_ref",
                                   "amount",   "pledge_id", "donation_id", "category", "reference",
                                   "donor",    "Amount",    "extra"};
const char* const kTypes[] = {"CaseOpened",       "CaseGoalChanged", "CaseClosed",
                              "DonationReceived", "PledgeMade",      "PledgeFulfilled",
                              "PledgeCancelled",  "RefundIssued",    "FundsDisbursed"};

// libFuzzer's byte mutation of one string value.
std::string mutate_string(const std::string& text, size_t max_size) {
  std::string buffer = text;
  buffer.resize(std::max<size_t>(max_size, text.size() + 16));
  const size_t size =
      LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(buffer.data()), text.size(), buffer.size());
  buffer.resize(size);
  return buffer;
}

// Changes one thing of `value` (an object or a budget array).
void mutate_json(Json& value, std::mt19937& rng, int depth) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  if (value.is_array() && !value.empty() && depth < 3) {
    mutate_json(value[pick(value.size())], rng, depth + 1);
    return;
  }
  if (!value.is_object() || value.empty()) {
    value = interesting_value(rng);
    return;
  }
  auto it = value.begin();
  std::advance(it, static_cast<long>(pick(value.size())));
  switch (pick(7)) {
    case 0:  // one field's text, byte-mutated
    case 1:
      if (it->is_string()) {
        *it = mutate_string(it->get<std::string>(), 300);
      } else {
        mutate_json(*it, rng, depth + 1);
      }
      break;
    case 2:
      *it = interesting_value(rng);
      break;  // one field's value replaced
    case 3:
      value.erase(it);
      break;  // one field removed
    case 4:
      value[kFieldNames[pick(std::size(kFieldNames))]] = interesting_value(rng);
      break;
    case 5:
      value["type"] = kTypes[pick(std::size(kTypes))];
      break;
    default:
      if (it->is_array() || it->is_object()) {
        mutate_json(*it, rng, depth + 1);
      } else {
        *it = interesting_value(rng);
      }
      break;
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::mt19937 rng(seed);
  if (rng() % 8 != 0) {
    Json value = Json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr,
                             /*allow_exceptions=*/false);
    if (value.is_object()) {
      mutate_json(value, rng, 0);
      // A byte mutation may leave invalid UTF-8 in a string: written as U+FFFD
      // (libFuzzer's own mutations still make invalid UTF-8 lines).
      const std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
      if (text.size() <= max_size) {
        std::memcpy(data, text.data(), text.size());
        return text.size();
      }
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
