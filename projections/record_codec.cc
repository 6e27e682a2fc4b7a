#include "projections/record_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "events/check.h"
#include "events/money.h"

namespace homeward::projections {
namespace {

// Appends fixed-width little-endian integers and length-prefixed strings, to
// a string of its own (take) or to the caller's.
class Writer {
 public:
  explicit Writer(size_t reserve) : out_(owned_) { owned_.reserve(reserve); }
  Writer(std::string& out, size_t reserve) : out_(out) { out.reserve(out.size() + reserve); }

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { little_endian(v, 4); }
  void u64(uint64_t v) { little_endian(v, 8); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void bytes(const void* data, size_t size) { out_.append(static_cast<const char*>(data), size); }
  void str(std::string_view s) {
    HOMEWARD_CHECK(s.size() <= UINT32_MAX, "string too long for the record codec");
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }

  [[nodiscard]] std::string take() && { return std::move(owned_); }

 private:
  void little_endian(uint64_t v, size_t size) {
    char buffer[8];
    for (size_t i = 0; i < size; ++i) buffer[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(buffer, size);
  }

  std::string owned_;  // unused when writing to the caller's string
  std::string& out_;
};

// Reads what Writer wrote. Every read checks the remaining length first; the
// first failure sticks, so a caller may read a whole record and test `ok()`
// once, and no read after a failure touches the bytes.
class Reader {
 public:
  Reader(std::string_view bytes, std::string_view what) : in_(bytes), what_(what) {}

  uint8_t u8() {
    uint8_t v = 0;
    if (take(1)) v = static_cast<uint8_t>(in_[pos_ - 1]);
    return v;
  }
  uint32_t u32() {
    uint32_t v = 0;
    if (take(4)) {
      for (int i = 0; i < 4; ++i)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_ - 4 + i])) << (8 * i);
    }
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    if (take(8)) {
      for (int i = 0; i < 8; ++i)
        v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ - 8 + i])) << (8 * i);
    }
    return v;
  }
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  void bytes(void* out, size_t size) {
    if (take(size)) std::memcpy(out, in_.data() + pos_ - size, size);
  }
  std::string str() {
    const uint32_t size = u32();
    if (!take(size)) return {};
    return std::string(in_.substr(pos_ - size, size));
  }

  // Checks the leading version byte.
  void version() {
    const uint8_t v = u8();
    if (ok() && v != kValueVersion) fail(fmt::format("unknown value version {}", v));
  }

  void fail(std::string why) {
    if (!error_) error_ = std::move(why);
  }
  [[nodiscard]] bool ok() const { return !error_.has_value(); }

  // The final verdict: every byte consumed and nothing failed.
  [[nodiscard]] Status finish() {
    if (ok() && pos_ != in_.size()) fail(fmt::format("{} trailing bytes", in_.size() - pos_));
    if (!ok()) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("stored {} does not decode: {}", what_, *error_));
    }
    return {};
  }

 private:
  bool take(size_t n) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      fail(fmt::format("truncated at byte {} of {}", pos_, in_.size()));
      return false;
    }
    pos_ += n;
    return true;
  }

  std::string_view in_;
  std::string_view what_;
  size_t pos_ = 0;
  std::optional<std::string> error_;
};

void put_be32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Flags of an encoded CaseSummary.
constexpr uint8_t kFlagOpened = 1 << 0;
constexpr uint8_t kFlagHasBudget = 1 << 1;
constexpr uint8_t kFlagFullyFundedAt = 1 << 2;
constexpr uint8_t kFlagClosedAt = 1 << 3;
constexpr uint8_t kFlagCloseReason = 1 << 4;
constexpr uint8_t kSummaryFlagsKnown =
    kFlagOpened | kFlagHasBudget | kFlagFullyFundedAt | kFlagClosedAt | kFlagCloseReason;

// An optional timestamp is stored as a flag and 8 bytes that are zero when it
// is absent, so that each value has exactly one encoding.
void read_optional_time(Reader& r, bool present, std::optional<TimestampMicros>& out,
                        std::string_view field) {
  const int64_t raw = r.i64();
  if (!r.ok()) return;
  if (present) {
    out = TimestampMicros(raw);
  } else if (raw != 0) {
    r.fail(fmt::format("{} is absent but its bytes are not zero", field));
  }
}

// The invariants of an opened CaseSummary (case_ledger.h), which the derived
// figures assert: a damaged record must be reported as corruption by the
// decoder, not abort a query later.
void check_summary_invariants(const engine::CaseSummary& s, Reader& r) {
  if (s.goal.value() <= 0) return r.fail("goal is not positive");
  if (s.received.value() < 0) return r.fail("received is negative");
  if (s.refunded.value() < 0 || s.refunded > s.received)
    return r.fail("refunded is outside [0, received]");
  if (s.pledged.value() < 0) return r.fail("pledged is negative");
  __int128 disbursed_sum = 0;
  for (size_t i = 0; i < events::kCategoryCount; ++i) {
    if (s.planned[i].value() < 0) return r.fail("a planned amount is negative");
    if (s.disbursed_by_category[i].value() < 0) return r.fail("a disbursed amount is negative");
    disbursed_sum += s.disbursed_by_category[i].value();
  }
  if (disbursed_sum != s.disbursed.value())
    return r.fail("disbursed is not the sum of the disbursements by category");
  if (s.donations < 0 || s.donors < 0 || s.refunds < 0 || s.events_applied < 0 ||
      s.duplicates < 0 || s.events_rejected < 0)
    return r.fail("a counter is negative");
  if (s.close_reason.has_value() != s.closed_at.has_value())
    return r.fail("closed_at and the close reason are not present together");
}

// A case that never opened has seen only rejected events, which count in no
// figure of the case (SPEC section 5, counters): everything is zero. Found by
// tests/fuzz/fuzz_record_codec.cc: a damaged summary of such a case decoded
// with negative figures.
void check_unopened_summary(const engine::CaseSummary& s, Reader& r) {
  const engine::CaseSummary never_opened;
  if (!(s == never_opened)) r.fail("a case that never opened has figures, dates or a currency");
}

}  // namespace

std::string case_key(std::string_view case_id) {
  std::string key;
  key.reserve(1 + case_id.size());
  key.push_back(kCasePrefix);
  key.append(case_id);
  return key;
}

std::string case_records_prefix(char prefix, std::string_view case_id) {
  std::string key;
  key.reserve(2 + case_id.size());
  key.push_back(prefix);
  key.append(case_id);
  key.push_back('\0');
  return key;
}

std::string case_record_key(char prefix, std::string_view case_id, std::string_view id) {
  std::string key;
  key.reserve(2 + case_id.size() + id.size());
  key.push_back(prefix);
  key.append(case_id);
  key.push_back('\0');
  key.append(id);
  return key;
}

std::string global_donor_key(std::string_view donor_ref) {
  std::string key;
  key.reserve(1 + donor_ref.size());
  key.push_back(kGlobalDonorPrefix);
  key.append(donor_ref);
  return key;
}

std::string rejection_key(std::string_view case_id, Partition partition, Offset offset) {
  std::string key = case_records_prefix(kRejectionPrefix, case_id);
  put_be32(key, static_cast<uint32_t>(partition.value()));
  put_be64(key, static_cast<uint64_t>(offset.value()));
  return key;
}

std::array<char, kHistoryKeySuffixBytes> history_key_suffix(int64_t sequence, Partition partition,
                                                            Offset offset) {
  HOMEWARD_CHECK(sequence >= 0 && partition.value() >= 0 && offset.value() >= 0,
                 "a history key's numbers are never negative");
  std::array<char, kHistoryKeySuffixBytes> bytes{};
  auto put = [&bytes](size_t at, size_t size, uint64_t v) {
    for (size_t i = 0; i < size; ++i) {
      bytes[at + size - 1 - i] = static_cast<char>(v & 0xff);
      v >>= 8;
    }
  };
  put(0, 8, static_cast<uint64_t>(sequence));
  put(8, 4, static_cast<uint64_t>(partition.value()));
  put(12, 8, static_cast<uint64_t>(offset.value()));
  return bytes;
}

std::string history_key(std::string_view case_id, int64_t sequence, Partition partition,
                        Offset offset) {
  std::string key = case_records_prefix(kHistoryPrefix, case_id);
  const auto suffix = history_key_suffix(sequence, partition, offset);
  key.append(suffix.data(), suffix.size());
  return key;
}

Result<HistoryKey> split_history_key(std::string_view key) {
  // `h`, at least one byte of case id, `\0`, the suffix.
  if (key.size() < 1 + 1 + 1 + kHistoryKeySuffixBytes || key[0] != kHistoryPrefix ||
      key[key.size() - kHistoryKeySuffixBytes - 1] != '\0') {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("a stored history key of {} bytes has no case id, sequence "
                                  "number and log position",
                                  key.size()));
  }
  const std::string_view suffix = key.substr(key.size() - kHistoryKeySuffixBytes);
  auto read = [suffix](size_t at, size_t size) {
    uint64_t v = 0;
    for (size_t i = at; i < at + size; ++i) v = (v << 8) | static_cast<uint8_t>(suffix[i]);
    return v;
  };
  const uint64_t sequence = read(0, 8);
  const uint64_t partition = read(8, 4);
  const uint64_t offset = read(12, 8);
  if (sequence > static_cast<uint64_t>(INT64_MAX) || partition > static_cast<uint64_t>(INT32_MAX) ||
      offset > static_cast<uint64_t>(INT64_MAX)) {
    return make_error(ErrorCode::kCorruption, "a stored history key's numbers are out of range");
  }
  return HistoryKey{key.substr(1, key.size() - kHistoryKeySuffixBytes - 2),
                    static_cast<int64_t>(sequence), Partition(static_cast<int32_t>(partition)),
                    Offset(static_cast<int64_t>(offset))};
}

Result<LogPositionKey> key_log_position(std::string_view key, size_t prefix_size) {
  if (key.size() != prefix_size + 12) {
    return make_error(
        ErrorCode::kCorruption,
        fmt::format("stored key of {} bytes does not end in a log position", key.size()));
  }
  uint32_t partition = 0;
  uint64_t offset = 0;
  for (size_t i = 0; i < 4; ++i)
    partition = (partition << 8) | static_cast<uint8_t>(key[prefix_size + i]);
  for (size_t i = 4; i < 12; ++i)
    offset = (offset << 8) | static_cast<uint8_t>(key[prefix_size + i]);
  if (partition > static_cast<uint32_t>(INT32_MAX) || offset > static_cast<uint64_t>(INT64_MAX)) {
    return make_error(ErrorCode::kCorruption, "stored key has a log position out of range");
  }
  return LogPositionKey{Partition(static_cast<int32_t>(partition)),
                        Offset(static_cast<int64_t>(offset))};
}

std::string donor_case_key(std::string_view donor_ref, std::string_view case_id) {
  return case_record_key(kDonorCasePrefix, donor_ref, case_id);
}

std::string checkpoint_key(Partition partition) {
  std::string key(kCheckpointPrefix);
  put_be32(key, static_cast<uint32_t>(partition.value()));
  return key;
}

Result<Partition> checkpoint_partition(std::string_view key) {
  if (key.size() != kCheckpointPrefix.size() + 4 || !key.starts_with(kCheckpointPrefix)) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("stored checkpoint key has {} bytes, not {}", key.size(),
                                  kCheckpointPrefix.size() + 4));
  }
  uint32_t v = 0;
  for (size_t i = kCheckpointPrefix.size(); i < key.size(); ++i)
    v = (v << 8) | static_cast<uint8_t>(key[i]);
  return Partition(static_cast<int32_t>(v));
}

std::string chain_record_key(Partition partition, Offset first_offset) {
  std::string key(kChainIndexPrefix);
  put_be32(key, static_cast<uint32_t>(partition.value()));
  put_be64(key, static_cast<uint64_t>(first_offset.value()));
  return key;
}

Result<Offset> chain_record_offset(std::string_view key) {
  if (!key.starts_with(kChainIndexPrefix) || key.size() != kChainIndexPrefix.size() + 12) {
    return make_error(ErrorCode::kCorruption, "a chain index key of the wrong shape");
  }
  uint64_t v = 0;
  for (size_t i = kChainIndexPrefix.size() + 4; i < key.size(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(key[i]);
  }
  return Offset(static_cast<int64_t>(v));
}

std::string prefix_upper_bound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty() && static_cast<uint8_t>(bound.back()) == 0xff) bound.pop_back();
  HOMEWARD_CHECK(!bound.empty(), "a prefix of only 0xff bytes has no upper bound");
  bound.back() = static_cast<char>(static_cast<uint8_t>(bound.back()) + 1);
  return bound;
}

std::string encode_format_version(uint32_t version) {
  Writer w(4);
  w.u32(version);
  return std::move(w).take();
}

Result<uint32_t> decode_format_version(std::string_view bytes) {
  Reader r(bytes, "format version");
  const uint32_t version = r.u32();
  if (auto status = r.finish(); !status) return std::unexpected(status.error());
  return version;
}

std::string encode_summary(const engine::CaseSummary& s) {
  std::string out;
  append_summary(s, out);
  return out;
}

void append_summary(const engine::CaseSummary& s, std::string& out) {
  Writer w(out, 256);
  w.u8(kValueVersion);
  uint8_t flags = 0;
  if (s.opened) flags |= kFlagOpened;
  if (s.has_budget) flags |= kFlagHasBudget;
  if (s.fully_funded_at) flags |= kFlagFullyFundedAt;
  if (s.closed_at) flags |= kFlagClosedAt;
  if (s.close_reason) flags |= kFlagCloseReason;
  w.u8(flags);
  w.bytes(s.currency.code.data(), s.currency.code.size());
  w.u8(s.currency.exponent);
  w.i64(s.goal.value());
  for (const MinorUnits& m : s.planned) w.i64(m.value());
  for (const MinorUnits& m : s.disbursed_by_category) w.i64(m.value());
  w.i64(s.received.value());
  w.i64(s.refunded.value());
  w.i64(s.pledged.value());
  w.i64(s.disbursed.value());
  w.i64(s.donations);
  w.i64(s.donors);
  w.i64(s.refunds);
  w.i64(s.opened_at.value());
  w.i64(s.fully_funded_at ? s.fully_funded_at->value() : 0);
  w.i64(s.closed_at ? s.closed_at->value() : 0);
  w.u8(s.close_reason ? static_cast<uint8_t>(*s.close_reason) : 0);
  w.i64(s.events_applied);
  w.i64(s.duplicates);
  w.i64(s.events_rejected);
}

Result<engine::CaseSummary> decode_summary(std::string_view bytes) {
  Reader r(bytes, "case summary");
  engine::CaseSummary s;
  r.version();
  const uint8_t flags = r.u8();
  if (r.ok() && (flags & ~kSummaryFlagsKnown) != 0)
    r.fail(fmt::format("unknown flags 0x{:02x}", flags));
  s.opened = (flags & kFlagOpened) != 0;
  s.has_budget = (flags & kFlagHasBudget) != 0;
  r.bytes(s.currency.code.data(), s.currency.code.size());
  s.currency.exponent = r.u8();
  if (r.ok() && s.opened) {
    // An opened case's currency came from a checked event; anything else is
    // damage, and would later print amounts with the wrong exponent.
    const std::optional<events::Currency> known = events::find_currency(s.currency.code_view());
    if (!known || known->exponent != s.currency.exponent) {
      r.fail(fmt::format("currency \"{}\" with exponent {} is not supported",
                         std::string(s.currency.code_view()), s.currency.exponent));
    }
  }
  s.goal = MinorUnits(r.i64());
  for (MinorUnits& m : s.planned) m = MinorUnits(r.i64());
  for (MinorUnits& m : s.disbursed_by_category) m = MinorUnits(r.i64());
  s.received = MinorUnits(r.i64());
  s.refunded = MinorUnits(r.i64());
  s.pledged = MinorUnits(r.i64());
  s.disbursed = MinorUnits(r.i64());
  s.donations = r.i64();
  s.donors = r.i64();
  s.refunds = r.i64();
  s.opened_at = TimestampMicros(r.i64());
  read_optional_time(r, (flags & kFlagFullyFundedAt) != 0, s.fully_funded_at, "fully_funded_at");
  read_optional_time(r, (flags & kFlagClosedAt) != 0, s.closed_at, "closed_at");
  const uint8_t close_reason = r.u8();
  if (r.ok()) {
    if ((flags & kFlagCloseReason) != 0) {
      if (close_reason >= events::kCloseReasonCount) {
        r.fail(fmt::format("close reason {} is out of range", close_reason));
      } else {
        s.close_reason = static_cast<events::CloseReason>(close_reason);
      }
    } else if (close_reason != 0) {
      r.fail("close reason is absent but its byte is not zero");
    }
  }
  s.events_applied = r.i64();
  s.duplicates = r.i64();
  s.events_rejected = r.i64();
  if (r.ok()) {
    if (s.opened) {
      check_summary_invariants(s, r);
    } else {
      check_unopened_summary(s, r);
    }
  }
  if (auto status = r.finish(); !status) return std::unexpected(status.error());
  return s;
}

std::string encode_donor_count(int64_t count) {
  HOMEWARD_CHECK(count >= 0, "a donor count is never negative");
  Writer w(9);
  w.u8(kValueVersion);
  w.i64(count);
  return std::move(w).take();
}

Result<int64_t> decode_donor_count(std::string_view bytes) {
  Reader r(bytes, "donor count");
  r.version();
  const int64_t count = r.i64();
  if (r.ok() && count < 0) r.fail("the count is negative");
  if (auto status = r.finish(); !status) return std::unexpected(status.error());
  return count;
}

std::string encode_rejection(const engine::RejectionRecord& record) {
  Writer w(64 + record.case_id.size() + record.event_id.size() + record.detail.size());
  w.u8(kValueVersion);
  w.str(record.case_id);
  w.str(record.event_id);
  w.u8(record.type ? 1 : 0);
  w.u8(record.type ? static_cast<uint8_t>(*record.type) : 0);
  w.u8(static_cast<uint8_t>(record.reason));
  w.i32(record.partition.value());
  w.i64(record.offset.value());
  w.str(record.detail);
  return std::move(w).take();
}

Result<engine::RejectionRecord> decode_rejection(std::string_view bytes) {
  Reader r(bytes, "rejection");
  engine::RejectionRecord record;
  r.version();
  record.case_id = r.str();
  record.event_id = r.str();
  const uint8_t has_type = r.u8();
  const uint8_t type = r.u8();
  if (r.ok()) {
    if (has_type > 1) {
      r.fail(fmt::format("type flag {} is not 0 or 1", has_type));
    } else if (has_type == 1) {
      if (type >= events::kEventTypeCount) {
        r.fail(fmt::format("event type {} is out of range", type));
      } else {
        record.type = static_cast<events::EventType>(type);
      }
    } else if (type != 0) {
      r.fail("event type is absent but its byte is not zero");
    }
  }
  const uint8_t reason = r.u8();
  if (r.ok() && reason >= engine::kRejectReasonCount)
    r.fail(fmt::format("reject reason {} is out of range", reason));
  record.reason = static_cast<engine::RejectReason>(reason);
  record.partition = Partition(r.i32());
  record.offset = Offset(r.i64());
  record.detail = r.str();
  if (auto status = r.finish(); !status) return std::unexpected(status.error());
  return record;
}

std::string encode_totals(const engine::ProjectionTotals& totals) {
  Writer w(1 + 24 + 1 + 8 * engine::kRejectReasonCount);
  w.u8(kValueVersion);
  w.i64(totals.applied);
  w.i64(totals.duplicates);
  w.i64(totals.rejected);
  // The reasons are counted explicitly: the enum is append-only, so a store
  // written before a reason existed still decodes (the new reason is zero).
  w.u8(static_cast<uint8_t>(engine::kRejectReasonCount));
  for (int64_t n : totals.rejected_by_reason) w.i64(n);
  return std::move(w).take();
}

Result<engine::ProjectionTotals> decode_totals(std::string_view bytes) {
  Reader r(bytes, "totals");
  engine::ProjectionTotals totals;
  r.version();
  totals.applied = r.i64();
  totals.duplicates = r.i64();
  totals.rejected = r.i64();
  const uint8_t reasons = r.u8();
  if (r.ok() && reasons > engine::kRejectReasonCount)
    r.fail(fmt::format("{} reject reasons, more than the {} known", reasons,
                       engine::kRejectReasonCount));
  for (size_t i = 0; r.ok() && i < reasons; ++i) totals.rejected_by_reason[i] = r.i64();
  // The impact report prints these and adds them up (SPEC section 6: applied,
  // duplicates and rejected add up to the events read): damage that breaks
  // that is corruption, not a figure (found by tests/fuzz/fuzz_record_codec.cc).
  if (r.ok()) {
    __int128 by_reason = 0;
    bool negative = totals.applied < 0 || totals.duplicates < 0 || totals.rejected < 0;
    for (const int64_t count : totals.rejected_by_reason) {
      negative = negative || count < 0;
      by_reason += count;
    }
    if (negative) {
      r.fail("a count is negative");
    } else if (by_reason != totals.rejected) {
      r.fail("the rejections by reason do not add up to the rejections");
    }
  }
  if (auto status = r.finish(); !status) return std::unexpected(status.error());
  return totals;
}

std::string encode_checkpoint(const engine::PartitionCheckpoint& checkpoint) {
  Writer w(1 + 8 + checkpoint.chain_head.size());
  w.u8(kValueVersion);
  w.i64(checkpoint.next_offset.value());
  w.bytes(checkpoint.chain_head.data(), checkpoint.chain_head.size());
  return std::move(w).take();
}

Result<engine::PartitionCheckpoint> decode_checkpoint(std::string_view bytes) {
  Reader r(bytes, "checkpoint");
  engine::PartitionCheckpoint checkpoint;
  r.version();
  checkpoint.next_offset = Offset(r.i64());
  r.bytes(checkpoint.chain_head.data(), checkpoint.chain_head.size());
  if (auto status = r.finish(); !status) return std::unexpected(status.error());
  return checkpoint;
}

}  // namespace homeward::projections
