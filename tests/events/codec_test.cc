// The FlatBuffers wire form: round trips, determinism, and refusal of bytes
// that do not verify or break a stage-1 value rule, without ever crashing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "events/codec.h"
#include "events/ndjson.h"
#include "events/timestamp.h"
#include "homeward_event_generated.h"
#include "sample_events.h"
#include "tests/support/temp_dir.h"

namespace homeward::events {
namespace {

namespace wire = ::homeward::wire;
using testing::all_samples;
using testing::full_events;

TEST(Codec, EncodeDecodeRoundTripsAllNineTypes) {
  for (const Event& event : all_samples()) {
    const std::string bytes = encode_event(event);
    auto decoded = decode_event(bytes);
    ASSERT_TRUE(decoded.has_value()) << format_event_json(event) << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, event) << format_event_json(event);
  }
}

TEST(Codec, EncodingIsDeterministicAndCarriesTheIdentifier) {
  for (const Event& event : all_samples()) {
    const std::string a = encode_event(event);
    const std::string b = encode_event(Event(event));
    EXPECT_EQ(a, b);
    ASSERT_GE(a.size(), 8u);
    EXPECT_EQ(a.substr(4, 4), "HWEV");
    const auto* root = wire::GetEvent(a.data());
    EXPECT_EQ(root->schema_version(), kSchemaVersion);
  }
  // Different events give different bytes.
  EXPECT_NE(encode_event(full_events()[3]), encode_event(full_events()[4]));
}

TEST(Codec, WritesGoalAndSchemaVersionExplicitly) {
  const std::string bytes = encode_event(full_events()[0]);
  const auto* root = wire::GetEvent(bytes.data());
  // wire tables inherit flatbuffers::Table privately; look at the raw table.
  const auto* table = flatbuffers::GetRoot<flatbuffers::Table>(bytes.data());
  EXPECT_TRUE(table->CheckField(wire::Event::VT_SCHEMA_VERSION));
  const auto* opened = root->body_as_CaseOpened();
  ASSERT_NE(opened, nullptr);
  EXPECT_TRUE(
      static_cast<const flatbuffers::Table*>(root->body())->CheckField(wire::CaseOpened::VT_GOAL));
  EXPECT_EQ(opened->goal(), 150000);
  EXPECT_EQ(opened->budget()->size(), 2u);
}

TEST(Codec, DecodesFromUnalignedMemory) {
  const std::string bytes = encode_event(full_events()[1]);
  for (size_t shift = 1; shift < 8; ++shift) {
    std::string buffer(shift, '\0');
    buffer += bytes;
    auto decoded = decode_event(std::string_view(buffer).substr(shift));
    ASSERT_TRUE(decoded.has_value()) << shift;
    EXPECT_EQ(*decoded, full_events()[1]);
  }
}

std::string error_of(std::string_view bytes) {
  auto decoded = decode_event(bytes);
  EXPECT_FALSE(decoded.has_value());
  if (decoded) return "";
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
  return decoded.error().message;
}

TEST(Codec, RefusesShortAndForeignBuffers) {
  EXPECT_NE(error_of("").find("too few"), std::string::npos);
  EXPECT_NE(error_of("1234567").find("too few"), std::string::npos);
  std::string other = encode_event(full_events()[0]);
  other.replace(4, 4, "XXXX");
  EXPECT_NE(error_of(other).find("file identifier"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x08\0\0\0HWEV", 8)).find("verif"), std::string::npos);
}

// A decode result is acceptable when it is an error, or an event that obeys
// every stage-1 rule (so that its canonical line parses back to it).
void expect_error_or_valid(std::string_view bytes, const std::string& context) {
  auto decoded = decode_event(bytes);
  (void)peek_identity(bytes);
  if (!decoded) {
    EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption) << context;
    EXPECT_FALSE(decoded.error().message.empty()) << context;
    return;
  }
  auto reparsed = parse_event_json(format_event_json(*decoded));
  ASSERT_TRUE(reparsed.has_value())
      << context << ": decoded an invalid event: " << reparsed.error().field << " "
      << reparsed.error().reason;
  EXPECT_EQ(*reparsed, *decoded) << context;
  auto again = decode_event(encode_event(*decoded));
  ASSERT_TRUE(again.has_value()) << context;
  EXPECT_EQ(*again, *decoded) << context;
}

TEST(CodecFuzz, TruncatedBuffersNeverCrash) {
  for (const Event& event : all_samples()) {
    const std::string bytes = encode_event(event);
    for (size_t n = 0; n < bytes.size(); ++n) {
      expect_error_or_valid(std::string_view(bytes).substr(0, n),
                            "prefix " + std::to_string(n) + " of " + event.event_id);
    }
  }
}

TEST(CodecFuzz, RandomBitFlipsNeverCrash) {
  const uint32_t seed = 20150623;
  std::printf("CodecFuzz.RandomBitFlipsNeverCrash seed=%u\n", seed);
  std::mt19937 rng(seed);
  size_t accepted = 0;
  for (const Event& event : all_samples()) {
    const std::string bytes = encode_event(event);
    for (int round = 0; round < 1500; ++round) {
      std::string mutated = bytes;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        const size_t pos = rng() % mutated.size();
        mutated[pos] = static_cast<char>(mutated[pos] ^ (1u << (rng() % 8)));
      }
      expect_error_or_valid(mutated, "seed " + std::to_string(seed) + " round " +
                                         std::to_string(round) + " of " + event.event_id);
      if (decode_event(mutated)) ++accepted;
    }
  }
  // Some flips land in string bytes and still give a valid event; most do not.
  std::printf("accepted %zu mutated buffers\n", accepted);
}

TEST(CodecFuzz, RandomBytesNeverCrash) {
  const uint32_t seed = 4217;
  std::printf("CodecFuzz.RandomBytesNeverCrash seed=%u\n", seed);
  std::mt19937 rng(seed);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (bytes.size() >= 8 && round % 2 == 0) bytes.replace(4, 4, "HWEV");
    // Small root offsets make the verifier look deeper than random ones.
    if (bytes.size() >= 8 && round % 4 == 0) {
      bytes[0] = static_cast<char>(rng() % 64);
      bytes[1] = bytes[2] = bytes[3] = 0;
    }
    expect_error_or_valid(bytes,
                          "seed " + std::to_string(seed) + " round " + std::to_string(round));
  }
}

// --- buffers built by hand, as another producer might ---

struct Built {
  flatbuffers::FlatBufferBuilder fbb;
  std::string finish(flatbuffers::Offset<wire::Event> root) {
    wire::FinishEventBuffer(fbb, root);
    return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  }
};

std::string donation(int64_t amount, const char* currency, const char* event_id = "e1",
                     uint16_t schema_version = 1, int64_t occurred_at = testing::kT0.value()) {
  Built b;
  auto body = wire::CreateDonationReceivedDirect(b.fbb, "d-1", amount, currency);
  return b.finish(wire::CreateEventDirect(b.fbb, schema_version, event_id, occurred_at, "case-1",
                                          nullptr, wire::EventBody::DonationReceived,
                                          body.Union()));
}

std::string opened(std::optional<int64_t> goal,
                   const std::vector<std::pair<uint8_t, int64_t>>* budget) {
  Built b;
  std::vector<flatbuffers::Offset<wire::BudgetLine>> lines;
  if (budget) {
    for (auto [category, amount] : *budget) {
      lines.push_back(wire::CreateBudgetLine(b.fbb, static_cast<wire::Category>(category), amount));
    }
  }
  auto body = wire::CreateCaseOpenedDirect(
      b.fbb, "USD", goal ? flatbuffers::Optional<int64_t>(*goal) : flatbuffers::nullopt,
      budget ? &lines : nullptr);
  return b.finish(wire::CreateEventDirect(b.fbb, 1, "e1", 0, "case-1", nullptr,
                                          wire::EventBody::CaseOpened, body.Union()));
}

TEST(CodecRefuses, HandBuiltBuffersWithBadValues) {
  ASSERT_TRUE(decode_event(donation(2500, "USD")).has_value());
  EXPECT_EQ(error_of(donation(0, "USD")),
            "amount: 0 is below the minimum of 1 minor unit (0.01 USD)");
  EXPECT_NE(error_of(donation(-5, "USD")).find("amount: -5 is below"), std::string::npos);
  EXPECT_NE(error_of(donation(1'000'000'000'000'001, "USD")).find("amount: "), std::string::npos);
  EXPECT_NE(error_of(donation(100, "XAU")).find("currency: \"XAU\" is not a supported"),
            std::string::npos);
  EXPECT_NE(error_of(donation(100, "usd")).find("currency:"), std::string::npos);
  EXPECT_NE(error_of(donation(100, "USD", "e 1")).find("event_id: "), std::string::npos);
  EXPECT_NE(error_of(donation(100, "USD", "")).find("event_id: is empty"), std::string::npos);
  EXPECT_NE(error_of(donation(100, "USD", "e1", 2)).find("schema_version: 2"), std::string::npos);
  EXPECT_NE(error_of(donation(100, "USD", "e1", 0)).find("schema_version: 0"), std::string::npos);
  EXPECT_NE(error_of(donation(100, "USD", "e1", 1, int64_t{300'000'000'000'000'000}))
                .find("occurred_at_us: "),
            std::string::npos);
}

TEST(CodecRefuses, EnumsOutOfRange) {
  {
    Built b;
    auto body = wire::CreateFundsDisbursedDirect(b.fbb, static_cast<wire::Category>(200), 5, "USD");
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::FundsDisbursed, body.Union()));
    EXPECT_EQ(error_of(bytes), "category: 200 is not a Category value (0 to 7)");
  }
  {
    Built b;
    auto body = wire::CreateCaseClosed(b.fbb, static_cast<wire::CloseReason>(3));
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::CaseClosed, body.Union()));
    EXPECT_EQ(error_of(bytes), "reason: 3 is not a CloseReason value (0 to 2)");
  }
  {
    Built b;
    auto body =
        wire::CreateRefundIssuedDirect(b.fbb, "d", 5, "USD", static_cast<wire::RefundReason>(6));
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::RefundIssued, body.Union()));
    EXPECT_EQ(error_of(bytes), "reason: 6 is not a RefundReason value (0 to 5)");
  }
  {
    // A union type this reader does not know; the verifier lets it through.
    Built b;
    auto body = wire::CreateCaseClosed(b.fbb, wire::CloseReason::completed);
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, static_cast<wire::EventBody>(42), body.Union()));
    EXPECT_NE(error_of(bytes).find("body: union type 42"), std::string::npos);
    const PartialIdentity identity = peek_identity(bytes);
    EXPECT_EQ(identity.event_id, "e1");
    EXPECT_EQ(identity.case_id, "c");
    EXPECT_FALSE(identity.type.has_value());
  }
  {
    Built b;
    auto body = wire::CreateCaseClosed(b.fbb, wire::CloseReason::completed);
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::NONE, body.Union()));
    EXPECT_NE(error_of(bytes).find("body: union type 0"), std::string::npos);
  }
}

TEST(CodecRefuses, BudgetProblems) {
  const std::vector<std::pair<uint8_t, int64_t>> budget = {{3, 40000}, {5, 110000}};
  auto ok = decode_event(opened(150000, &budget));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(std::get<CaseOpened>(ok->body).plan.goal, MinorUnits(150000));
  // A producer may leave the goal out beside a budget: it is the sum.
  auto no_goal = decode_event(opened(std::nullopt, &budget));
  ASSERT_TRUE(no_goal.has_value());
  EXPECT_EQ(*no_goal, *ok);
  EXPECT_EQ(error_of(opened(150001, &budget)),
            "goal: is 1500.01 USD but the budget sums to 1500.00 USD; they must be equal");
  EXPECT_EQ(error_of(opened(0, nullptr)),
            "goal: 0 is below the minimum of 1 minor unit (0.01 USD)");
  EXPECT_EQ(error_of(opened(std::nullopt, nullptr)),
            "goal: is missing; CaseOpened needs a goal, a budget, or both");
  const std::vector<std::pair<uint8_t, int64_t>> empty;
  EXPECT_NE(error_of(opened(5, &empty)).find("budget: is empty"), std::string::npos);
  const std::vector<std::pair<uint8_t, int64_t>> repeated = {{3, 1}, {5, 1}, {3, 1}};
  EXPECT_NE(error_of(opened(3, &repeated)).find("budget[2].category: repeats \"repatriation\""),
            std::string::npos);
  const std::vector<std::pair<uint8_t, int64_t>> bad_category = {{8, 1}};
  EXPECT_EQ(error_of(opened(1, &bad_category)),
            "budget[0].category: 8 is not a Category value (0 to 7)");
  const std::vector<std::pair<uint8_t, int64_t>> zero_line = {{1, 0}, {2, 5}};
  EXPECT_NE(error_of(opened(5, &zero_line)).find("budget[0].amount: 0 is below"),
            std::string::npos);
  // Unsorted lines from another producer are accepted and sorted.
  const std::vector<std::pair<uint8_t, int64_t>> unsorted = {{5, 110000}, {3, 40000}};
  auto sorted = decode_event(opened(150000, &unsorted));
  ASSERT_TRUE(sorted.has_value());
  EXPECT_EQ(*sorted, *ok);
}

// SPEC: `goal` is an amount (1 to 10^15 minor units). A goal of 0 beside a
// budget is refused on the wire exactly as `"goal":"0"` is in NDJSON; it is
// not read as "no goal" (today's FlatBuffers default).
TEST(CodecRefuses, GoalZeroMeansTheSameOnTheWireAndInNdjson) {
  const std::vector<std::pair<uint8_t, int64_t>> budget = {{3, 40000}, {5, 110000}};
  EXPECT_EQ(error_of(opened(0, &budget)),
            "goal: 0 is below the minimum of 1 minor unit (0.01 USD)");
  auto line = parse_event_json(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z",)"
      R"("case_id":"case-1","currency":"USD","goal":"0","budget":[)"
      R"({"category":"repatriation","amount":"400.00"},{"category":"livelihood","amount":"1100.00"}]})");
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().field, "goal");
  // And the budget alone means the same in both forms: the goal is its sum.
  auto from_line = parse_event_json(
      R"({"type":"CaseOpened","event_id":"e1","occurred_at":"1970-01-01T00:00:00Z",)"
      R"("case_id":"case-1","currency":"USD","budget":[)"
      R"({"category":"repatriation","amount":"400.00"},{"category":"livelihood","amount":"1100.00"}]})");
  ASSERT_TRUE(from_line.has_value());
  auto from_wire = decode_event(opened(std::nullopt, &budget));
  ASSERT_TRUE(from_wire.has_value()) << from_wire.error().message;
  EXPECT_EQ(*from_wire, *from_line);
}

// FlatBuffers reads an absent scalar as its default: without presence checks a
// record lacking `occurred_at_us` is an event of 1970-01-01, a CaseClosed
// without reason is `completed`, a refund without reason `donor_request`, a
// disbursement without category `shelter`. Each must be refused, naming the
// missing field. Buffers are built without ForceDefaults, as another
// producer's generated code builds them.
TEST(CodecRefuses, RecordsLackingARequiredFieldNameIt) {
  auto event = [](wire::EventBody type, auto make_body,
                  flatbuffers::Optional<int64_t> occurred_at = 1'433'145'600'000'000) {
    Built b;
    const auto body = make_body(b.fbb);
    return b.finish(wire::CreateEventDirect(b.fbb, 1, "e1", occurred_at, "case-1", nullptr, type,
                                            body.Union()));
  };
  using FBB = flatbuffers::FlatBufferBuilder;
  const auto no_time = event(
      wire::EventBody::CaseClosed,
      [](FBB& fbb) { return wire::CreateCaseClosed(fbb, wire::CloseReason::cancelled); },
      flatbuffers::nullopt);
  EXPECT_EQ(error_of(no_time), "occurred_at_us: is missing");
  EXPECT_EQ(error_of(event(wire::EventBody::CaseClosed,
                           [](FBB& fbb) { return wire::CreateCaseClosed(fbb); })),
            "reason: is missing");
  EXPECT_EQ(
      error_of(event(wire::EventBody::RefundIssued,
                     [](FBB& fbb) { return wire::CreateRefundIssuedDirect(fbb, "d", 5, "USD"); })),
      "reason: is missing");
  EXPECT_EQ(error_of(event(wire::EventBody::RefundIssued,
                           [](FBB& fbb) {
                             return wire::CreateRefundIssuedDirect(fbb, "d", flatbuffers::nullopt,
                                                                   "USD",
                                                                   wire::RefundReason::chargeback);
                           })),
            "amount: is missing");
  EXPECT_EQ(error_of(event(wire::EventBody::FundsDisbursed,
                           [](FBB& fbb) {
                             return wire::CreateFundsDisbursedDirect(fbb, flatbuffers::nullopt, 5,
                                                                     "USD");
                           })),
            "category: is missing");
  EXPECT_EQ(error_of(event(wire::EventBody::FundsDisbursed,
                           [](FBB& fbb) {
                             return wire::CreateFundsDisbursedDirect(fbb, wire::Category::medical,
                                                                     flatbuffers::nullopt, "USD");
                           })),
            "amount: is missing");
  EXPECT_EQ(error_of(event(wire::EventBody::DonationReceived,
                           [](FBB& fbb) {
                             return wire::CreateDonationReceivedDirect(fbb, "d-1",
                                                                       flatbuffers::nullopt, "USD");
                           })),
            "amount: is missing");
  EXPECT_EQ(error_of(event(wire::EventBody::PledgeMade,
                           [](FBB& fbb) {
                             return wire::CreatePledgeMadeDirect(fbb, "d-1", flatbuffers::nullopt,
                                                                 "USD");
                           })),
            "amount: is missing");
  auto budget_event = [&](flatbuffers::Optional<wire::Category> category,
                          flatbuffers::Optional<int64_t> amount) {
    return event(wire::EventBody::CaseGoalChanged, [&](FBB& fbb) {
      std::vector<flatbuffers::Offset<wire::BudgetLine>> lines = {
          wire::CreateBudgetLine(fbb, wire::Category::legal, 100),
          wire::CreateBudgetLine(fbb, category, amount)};
      return wire::CreateCaseGoalChangedDirect(fbb, "USD", flatbuffers::nullopt, &lines);
    });
  };
  EXPECT_EQ(error_of(budget_event(flatbuffers::nullopt, 5)), "budget[1].category: is missing");
  EXPECT_EQ(error_of(budget_event(wire::Category::shelter, flatbuffers::nullopt)),
            "budget[1].amount: is missing");
  ASSERT_TRUE(decode_event(budget_event(wire::Category::shelter, 5)).has_value());
}

// The values that are FlatBuffers defaults (0) are written by a builder
// generated from the schema whenever they are set, so they arrive intact.
TEST(Codec, RequiredFieldsWhoseValueIsZeroArePresent) {
  Built closed;
  auto closed_body = wire::CreateCaseClosed(closed.fbb, wire::CloseReason::completed);
  auto decoded = decode_event(
      closed.finish(wire::CreateEventDirect(closed.fbb, 1, "e1", 0, "case-1", nullptr,
                                            wire::EventBody::CaseClosed, closed_body.Union())));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(std::get<CaseClosed>(decoded->body).reason, CloseReason::kCompleted);
  EXPECT_EQ(decoded->occurred_at, TimestampMicros(0));

  Built spent;
  auto spent_body =
      wire::CreateFundsDisbursedDirect(spent.fbb, wire::Category::shelter, 5, "USD", nullptr);
  decoded = decode_event(
      spent.finish(wire::CreateEventDirect(spent.fbb, 1, "e1", 0, "case-1", nullptr,
                                           wire::EventBody::FundsDisbursed, spent_body.Union())));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(std::get<FundsDisbursed>(decoded->body).category, Category::kShelter);
}

TEST(DecodeRecord, TheKeyMustBeTheCaseId) {
  const std::string bytes = encode_event(full_events()[3]);  // case-xf
  auto decoded = decode_record("case-xf", bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, full_events()[3]);
  auto error = [&](std::string_view key) {
    auto result = decode_record(key, bytes);
    EXPECT_FALSE(result.has_value()) << key;
    return result ? std::string() : result.error().message;
  };
  EXPECT_EQ(error("case-x"), "key: \"case-x\" is not the record's case_id \"case-xf\"");
  EXPECT_EQ(error(""), "key: is missing; a record's key must be its case_id \"case-xf\"");
  EXPECT_EQ(error(std::string(300, 'k')),
            "key: is not the record's case_id \"case-xf\" (300 bytes that are not an identifier)");
  // The value's own problem comes first.
  EXPECT_NE(decode_record("case-xf", "garbage").error().message.find("too few"), std::string::npos);
}

// The verifier's limits are fitted to the schema (docs/design.md): the largest
// valid event, a budget line per category, passes; one table more does not.
TEST(CodecLimits, TheVerifierTakesEveryCategoryOnceAndNoMoreTables) {
  std::vector<std::pair<uint8_t, int64_t>> budget;
  for (uint8_t c = 0; c < kCategoryCount; ++c) budget.emplace_back(c, 100);
  auto full = decode_event(opened(std::nullopt, &budget));
  ASSERT_TRUE(full.has_value()) << full.error().message;
  EXPECT_EQ(std::get<CaseOpened>(full->body).plan.budget->size(), kCategoryCount);
  EXPECT_EQ(std::get<CaseOpened>(full->body).plan.goal, MinorUnits(800));
  budget.emplace_back(0, 100);
  EXPECT_EQ(error_of(opened(std::nullopt, &budget)),
            "bytes do not verify as a homeward.wire.Event (FlatBuffers verifier, at most 10 "
            "tables 3 deep: a budget has at most 8 lines)");
}

TEST(CodecLimits, ARecordIsAtMostOneMebibyte) {
  std::string bytes = encode_event(full_events()[3]);
  // FlatBuffers ignores bytes after the data it references: padded to the
  // limit the record still decodes, one byte more and it is refused.
  bytes.resize(kMaxRecordBytes, '\0');
  ASSERT_TRUE(decode_event(bytes).has_value());
  bytes.push_back('\0');
  EXPECT_EQ(error_of(bytes),
            "1048577 bytes exceed the 1048576 bytes (1 MiB) an event record may hold");
}

TEST(CodecRefuses, InvalidFreeTextAndIdentifiers) {
  {
    Built b;
    auto body = wire::CreatePledgeCancelledDirect(b.fbb, "p1", "bad \xC0\xAF utf-8");
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::PledgeCancelled, body.Union()));
    EXPECT_EQ(error_of(bytes), "reason: is not valid UTF-8");
  }
  {
    Built b;
    const std::string long_text(281, 'r');
    auto body = wire::CreatePledgeCancelledDirect(b.fbb, "p1", long_text.c_str());
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::PledgeCancelled, body.Union()));
    EXPECT_EQ(error_of(bytes), "reason: is 281 characters long; at most 280 are allowed");
  }
  {
    Built b;
    auto body = wire::CreatePledgeFulfilledDirect(b.fbb, "p 1");
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", "src/1", wire::EventBody::PledgeFulfilled, body.Union()));
    EXPECT_NE(error_of(bytes).find("source: "), std::string::npos);
  }
  {
    // An identifier with an embedded NUL: FlatBuffers strings carry a length.
    Built b;
    auto pledge = b.fbb.CreateString(std::string("p\0q", 3));
    auto body = wire::CreatePledgeFulfilled(b.fbb, pledge);
    const std::string bytes = b.finish(wire::CreateEventDirect(
        b.fbb, 1, "e1", 0, "c", nullptr, wire::EventBody::PledgeFulfilled, body.Union()));
    EXPECT_NE(error_of(bytes).find("pledge_id: "), std::string::npos);
  }
}

TEST(PeekIdentity, ReadsIdsOfValidAndOfMalformedEvents) {
  const PartialIdentity valid = peek_identity(encode_event(full_events()[3]));
  EXPECT_EQ(valid.case_id, "case-xf");
  EXPECT_EQ(valid.event_id, "e4");
  EXPECT_EQ(valid.type, EventType::kDonationReceived);
  // Verifies, but the amount breaks stage 1: the ids are still useful.
  const PartialIdentity bad_amount = peek_identity(donation(0, "USD", "e7"));
  EXPECT_EQ(bad_amount.event_id, "e7");
  EXPECT_EQ(bad_amount.case_id, "case-1");
  EXPECT_EQ(bad_amount.type, EventType::kDonationReceived);
  const PartialIdentity bad_id = peek_identity(donation(5, "USD", "e 7"));
  EXPECT_FALSE(bad_id.event_id.has_value());
  EXPECT_EQ(bad_id.case_id, "case-1");
  const PartialIdentity garbage = peek_identity("definitely not flatbuffers");
  EXPECT_FALSE(garbage.case_id.has_value());
  EXPECT_FALSE(garbage.event_id.has_value());
  EXPECT_FALSE(garbage.type.has_value());
}

// The bytes flatc writes from a JSON description of an event and the schema
// alone, as another producer would.
std::string flatc_bytes(const std::string& json_text) {
  homeward::testing::TempDir dir;
  const std::filesystem::path json = dir.path() / "event.json";
  {
    std::ofstream out(json);
    out << json_text;
  }
  const std::string command = std::string("'") + HOMEWARD_FLATC +
                              "' -b --root-type homeward.wire.Event -o '" + dir.path().string() +
                              "' '" + HOMEWARD_SCHEMA_PATH + "' '" + json.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::filesystem::path bin;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path() != json) bin = entry.path();
  }
  EXPECT_FALSE(bin.empty()) << "flatc wrote no binary";
  std::ifstream in(bin, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(Codec, AcceptsBytesWrittenByFlatcFromTheSchema) {
  auto decoded = decode_event(flatc_bytes(R"({
      "schema_version": 1,
      "event_id": "ext-1",
      "occurred_at_us": 1435053600250000,
      "case_id": "case-xf",
      "source": "other-producer",
      "body_type": "DonationReceived",
      "body": { "donor_ref": "d-42", "amount": 1050, "currency": "THB" }
    })"));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(decoded->event_id, "ext-1");
  EXPECT_EQ(decoded->case_id, "case-xf");
  EXPECT_EQ(decoded->source, "other-producer");
  EXPECT_EQ(format_timestamp(decoded->occurred_at), "2015-06-23T10:00:00.250000Z");
  EXPECT_EQ(std::get<DonationReceived>(decoded->body),
            (DonationReceived{"d-42", MinorUnits(1050), testing::currency("THB")}));
}

// flatc leaves out a scalar equal to its default unless the schema makes it
// optional: the required ones are, so a stated `completed` arrives and a
// forgotten reason or time is refused instead of read as the default.
TEST(Codec, FlatcWritesRequiredDefaultValuesAndOmissionsAreRefused) {
  auto closed = decode_event(flatc_bytes(R"({"event_id": "x-1", "occurred_at_us": 0,
      "case_id": "c", "body_type": "CaseClosed", "body": {"reason": "completed"}})"));
  ASSERT_TRUE(closed.has_value()) << closed.error().message;
  EXPECT_EQ(std::get<CaseClosed>(closed->body).reason, CloseReason::kCompleted);
  EXPECT_EQ(error_of(flatc_bytes(R"({"event_id": "x-1", "occurred_at_us": 0,
      "case_id": "c", "body_type": "CaseClosed", "body": {}})")),
            "reason: is missing");
  EXPECT_EQ(error_of(flatc_bytes(R"({"event_id": "x-1", "case_id": "c",
      "body_type": "CaseClosed", "body": {"reason": "other"}})")),
            "occurred_at_us: is missing");
}

}  // namespace
}  // namespace homeward::events
