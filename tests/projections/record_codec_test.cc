// The record codec: every value round-trips, and damaged bytes give
// kCorruption instead of a crash or an out-of-bounds read.
#include "projections/record_codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace homeward::projections {
namespace {

using engine::CaseSummary;

events::Currency usd() { return events::Currency{{'U', 'S', 'D'}, 2}; }

CaseSummary full_summary() {
  CaseSummary s;
  s.opened = true;
  s.currency = usd();
  s.goal = MinorUnits(150000);
  s.has_budget = true;
  s.planned[3] = MinorUnits(40000);
  s.planned[5] = MinorUnits(110000);
  s.disbursed_by_category[3] = MinorUnits(4000);
  s.received = MinorUnits(5000);
  s.refunded = MinorUnits(2250);
  s.pledged = MinorUnits(700);
  s.disbursed = MinorUnits(4000);
  s.donations = 2;
  s.donors = 2;
  s.refunds = 1;
  s.opened_at = TimestampMicros(1433145600000000);
  s.fully_funded_at = TimestampMicros(1433500200250000);
  s.closed_at = TimestampMicros(1435708800000000);
  s.close_reason = events::CloseReason::kCancelled;
  s.events_applied = 6;
  s.duplicates = 1;
  s.events_rejected = 3;
  return s;
}

engine::RejectionRecord full_rejection() {
  engine::RejectionRecord r;
  r.case_id = "case-1";
  r.event_id = "ev-9";
  r.type = events::EventType::kRefundIssued;
  r.reason = engine::RejectReason::kInsufficientFunds;
  r.partition = Partition(7);
  r.offset = Offset(1234567890123);
  r.detail = "";
  return r;
}

engine::ProjectionTotals full_totals() {
  engine::ProjectionTotals t;
  t.applied = 100;
  t.duplicates = 4;
  t.rejected = 0;
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    t.rejected_by_reason[i] = int64_t(i);
    t.rejected += int64_t(i);  // the reasons add up to the rejections, or it is corruption
  }
  return t;
}

engine::PartitionCheckpoint full_checkpoint() {
  engine::PartitionCheckpoint c;
  c.next_offset = Offset(42);
  for (size_t i = 0; i < c.chain_head.size(); ++i) c.chain_head[i] = uint8_t(0xa0 + i);
  return c;
}

// Every proper prefix of `bytes` and `bytes` plus one extra byte must fail
// with kCorruption.
void expect_every_truncation_rejected(
    const std::string& bytes, const std::function<std::optional<Error>(std::string_view)>& decode) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    // A copy of exactly n bytes, so that a read past the end is visible to
    // sanitizers instead of landing in the rest of the original string.
    const std::string truncated = bytes.substr(0, n);
    std::optional<Error> error = decode(truncated);
    ASSERT_TRUE(error.has_value()) << "length " << n << " of " << bytes.size() << " decoded";
    EXPECT_EQ(error->code, ErrorCode::kCorruption) << "length " << n;
  }
  std::optional<Error> error = decode(bytes + "x");
  ASSERT_TRUE(error.has_value()) << "a trailing byte was accepted";
  EXPECT_EQ(error->code, ErrorCode::kCorruption);
  EXPECT_FALSE(decode(bytes).has_value()) << "the full encoding must decode";
}

template <typename F>
std::function<std::optional<Error>(std::string_view)> error_of(F decode) {
  return [decode](std::string_view bytes) -> std::optional<Error> {
    auto result = decode(bytes);
    if (result) return std::nullopt;
    return result.error();
  };
}

TEST(RecordCodec, SummaryRoundTripsEveryField) {
  const CaseSummary s = full_summary();
  auto decoded = decode_summary(encode_summary(s));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(*decoded, s);
}

TEST(RecordCodec, SummaryWithAbsentOptionalsRoundTrips) {
  CaseSummary s = full_summary();
  s.fully_funded_at.reset();
  s.closed_at.reset();
  s.close_reason.reset();
  s.has_budget = false;
  auto decoded = decode_summary(encode_summary(s));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(*decoded, s);
  EXPECT_FALSE(decoded->fully_funded_at.has_value());
  EXPECT_FALSE(decoded->closed_at.has_value());
  EXPECT_FALSE(decoded->close_reason.has_value());
}

TEST(RecordCodec, UnopenedSummaryRoundTrips) {
  CaseSummary s;  // a case that only ever had rejected events
  auto decoded = decode_summary(encode_summary(s));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(*decoded, s);
  EXPECT_FALSE(decoded->opened);
}

TEST(RecordCodec, EncodingIsDeterministicAndVersioned) {
  const std::string a = encode_summary(full_summary());
  const std::string b = encode_summary(full_summary());
  EXPECT_EQ(a, b);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(static_cast<uint8_t>(a[0]), kValueVersion);
}

TEST(RecordCodec, RejectionTotalsCheckpointHistoryRoundTrip) {
  auto r = decode_rejection(encode_rejection(full_rejection()));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, full_rejection());

  engine::RejectionRecord malformed;
  malformed.reason = engine::RejectReason::kMalformed;
  malformed.partition = Partition(0);
  malformed.offset = Offset(3);
  malformed.detail = "the buffer does not verify";
  auto m = decode_rejection(encode_rejection(malformed));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(*m, malformed);
  EXPECT_FALSE(m->type.has_value());

  auto t = decode_totals(encode_totals(full_totals()));
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(*t, full_totals());

  auto c = decode_checkpoint(encode_checkpoint(full_checkpoint()));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(*c, full_checkpoint());

  auto v = decode_format_version(encode_format_version(kStoreFormatVersion));
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(*v, kStoreFormatVersion);
}

TEST(RecordCodec, EveryTruncationIsCorruption) {
  expect_every_truncation_rejected(encode_summary(full_summary()), error_of(decode_summary));
  expect_every_truncation_rejected(encode_rejection(full_rejection()), error_of(decode_rejection));
  expect_every_truncation_rejected(encode_totals(full_totals()), error_of(decode_totals));
  expect_every_truncation_rejected(encode_checkpoint(full_checkpoint()),
                                   error_of(decode_checkpoint));
  expect_every_truncation_rejected(encode_format_version(1), error_of(decode_format_version));
}

TEST(RecordCodec, TotalsWhoseReasonsDoNotAddUpAreCorruption) {
  engine::ProjectionTotals totals = full_totals();
  totals.rejected += 1;
  auto decoded = decode_totals(encode_totals(totals));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
  totals = full_totals();
  totals.rejected_by_reason[3] = -3;
  totals.rejected_by_reason[4] += 3 + 3;
  EXPECT_FALSE(decode_totals(encode_totals(totals)).has_value());
}

TEST(RecordCodec, AnUnopenedCaseSummaryWithFiguresIsCorruption) {
  engine::CaseSummary never_opened;
  EXPECT_TRUE(decode_summary(encode_summary(never_opened)).has_value());
  never_opened.pledged = MinorUnits(-5);
  auto decoded = decode_summary(encode_summary(never_opened));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
}

TEST(RecordCodec, UnknownVersionByteIsCorruption) {
  std::string bytes = encode_totals(full_totals());
  bytes[0] = 2;
  auto d = decode_totals(bytes);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kCorruption);
  EXPECT_NE(d.error().message.find("unknown value version 2"), std::string::npos)
      << d.error().message;
}

TEST(RecordCodec, OutOfRangeEnumsAreCorruption) {
  // Layout: version, case_id (4 + 6), event_id (4 + 4), has_type, type, reason.
  std::string rejection = encode_rejection(full_rejection());
  const size_t type_at = 1 + 4 + 6 + 4 + 4 + 1;
  ASSERT_EQ(static_cast<uint8_t>(rejection[type_at]),
            static_cast<uint8_t>(events::EventType::kRefundIssued));
  rejection[type_at] = static_cast<char>(events::kEventTypeCount);
  auto bad_type = decode_rejection(rejection);
  ASSERT_FALSE(bad_type.has_value());
  EXPECT_EQ(bad_type.error().code, ErrorCode::kCorruption);

  rejection = encode_rejection(full_rejection());
  rejection[type_at + 1] = static_cast<char>(engine::kRejectReasonCount);
  auto bad_reason = decode_rejection(rejection);
  ASSERT_FALSE(bad_reason.has_value());
  EXPECT_EQ(bad_reason.error().code, ErrorCode::kCorruption);

  // The close reason byte sits just before the three trailing counters.
  std::string summary = encode_summary(full_summary());
  summary[summary.size() - 25] = static_cast<char>(events::kCloseReasonCount);
  auto bad_close = decode_summary(summary);
  ASSERT_FALSE(bad_close.has_value());
  EXPECT_EQ(bad_close.error().code, ErrorCode::kCorruption);
}

TEST(RecordCodec, SummaryBreakingLedgerInvariantsIsCorruption) {
  // Each of these would trip a HOMEWARD_CHECK in the derived figures; the
  // decoder must report it instead.
  std::vector<std::function<void(CaseSummary&)>> damages = {
      [](CaseSummary& s) { s.refunded = MinorUnits(s.received.value() + 1); },
      [](CaseSummary& s) { s.refunded = MinorUnits(-1); },
      [](CaseSummary& s) { s.disbursed = MinorUnits(s.disbursed.value() + 1); },
      [](CaseSummary& s) { s.goal = MinorUnits(0); },
      [](CaseSummary& s) { s.pledged = MinorUnits(-5); },
      [](CaseSummary& s) { s.donations = -1; },
  };
  for (size_t i = 0; i < damages.size(); ++i) {
    CaseSummary s = full_summary();
    damages[i](s);
    auto decoded = decode_summary(encode_summary(s));
    ASSERT_FALSE(decoded.has_value()) << "damage " << i << " was accepted";
    EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
  }
}

TEST(RecordCodec, UnknownSummaryFlagsAreCorruption) {
  std::string summary = encode_summary(full_summary());
  summary[1] = static_cast<char>(summary[1] | 0x80);
  auto decoded = decode_summary(summary);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
}

TEST(RecordCodec, UnsupportedCurrencyOfOpenedCaseIsCorruption) {
  CaseSummary s = full_summary();
  s.currency = events::Currency{{'X', 'X', 'X'}, 2};
  auto decoded = decode_summary(encode_summary(s));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);

  s.currency = events::Currency{{'U', 'S', 'D'}, 3};  // right code, wrong exponent
  decoded = decode_summary(encode_summary(s));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
}

TEST(RecordCodec, TotalsWrittenWithFewerReasonsDecodeWithZeros) {
  // A store written when the enum had fewer reasons: version, three
  // counters, a count of 2 and two counts.
  std::string bytes(1, static_cast<char>(kValueVersion));
  auto put64 = [&bytes](int64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((uint64_t(v) >> (8 * i)) & 0xff));
  };
  put64(5);
  put64(1);
  put64(3);
  bytes.push_back(2);
  put64(1);
  put64(2);
  auto totals = decode_totals(bytes);
  ASSERT_TRUE(totals.has_value()) << totals.error().message;
  EXPECT_EQ(totals->applied, 5);
  EXPECT_EQ(totals->duplicates, 1);
  EXPECT_EQ(totals->rejected, 3);
  EXPECT_EQ(totals->rejected_by_reason[0], 1);
  EXPECT_EQ(totals->rejected_by_reason[1], 2);
  EXPECT_EQ(totals->rejected_by_reason[2], 0);
}

TEST(RecordKeys, CaseRecordsSortBeforeLongerCaseIds) {
  // "a" and all its records come before "a-b": the '\0' separator is lower
  // than every identifier character.
  EXPECT_LT(history_key("a", 1'000'000, Partition(9), Offset(9)),
            history_key("a-b", 0, Partition(0), Offset(0)));
  EXPECT_EQ(case_records_prefix(kHistoryPrefix, "a"), std::string("ha\0", 3));
  EXPECT_LT(rejection_key("", Partition(9), Offset(9)),
            rejection_key("0", Partition(0), Offset(0)));
}

TEST(RecordKeys, RejectionKeysSortByPartitionThenOffset) {
  EXPECT_LT(rejection_key("c", Partition(0), Offset(255)),
            rejection_key("c", Partition(0), Offset(256)));
  EXPECT_LT(rejection_key("c", Partition(0), Offset(1)),
            rejection_key("c", Partition(1), Offset(0)));
  EXPECT_EQ(rejection_key("c", Partition(1), Offset(2)),
            std::string("rc\0\0\0\0\1\0\0\0\0\0\0\0\2", 15));
}

TEST(RecordKeys, HistoryKeysSortBySequenceAndSplitBack) {
  // The sequence decides the order; the log position only follows it.
  EXPECT_LT(history_key("c", 255, Partition(7), Offset(900)),
            history_key("c", 256, Partition(0), Offset(1)));
  EXPECT_EQ(history_key("c", 2, Partition(1), Offset(3)), std::string("hc\0"
                                                                      "\0\0\0\0\0\0\0\2"
                                                                      "\0\0\0\1"
                                                                      "\0\0\0\0\0\0\0\3",
                                                                      23));
  const std::string key = history_key("case-a", 77, Partition(2), Offset(1'000'000'007));
  auto split = split_history_key(key);
  ASSERT_TRUE(split.has_value()) << split.error().message;
  EXPECT_EQ(split->case_id, "case-a");
  EXPECT_EQ(split->sequence, 77);
  EXPECT_EQ(split->partition, Partition(2));
  EXPECT_EQ(split->offset, Offset(1'000'000'007));
  const std::string good = history_key("c", 2, Partition(0), Offset(0));
  std::string no_separator = good;
  no_separator[2] = '\1';
  std::string negative = good;
  negative[3] = '\x80';  // the sequence's top bit
  for (const std::string& bad :
       {std::string("hc"), no_separator, negative, std::string("x") + good.substr(1)}) {
    auto refused = split_history_key(bad);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kCorruption);
  }
}

TEST(RecordKeys, CheckpointKeyRoundTripsPartition) {
  auto p = checkpoint_partition(checkpoint_key(Partition(258)));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->value(), 258);
  auto bad = checkpoint_partition("m/pos/ab");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kCorruption);
}

TEST(RecordKeys, PrefixUpperBoundIsTheNextPrefix) {
  EXPECT_EQ(prefix_upper_bound("c"), "d");
  EXPECT_EQ(prefix_upper_bound(std::string("da\0", 3)), std::string("da\1", 3));
  EXPECT_EQ(prefix_upper_bound(std::string("a\xff", 2)), "b");
}

}  // namespace
}  // namespace homeward::projections
