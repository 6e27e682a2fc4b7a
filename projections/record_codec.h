// The key layout and value encoding of the projection store (private to
// projections/).
//
// Keys are ordered bytewise, and every prefix is one byte, so that each kind
// of record is one contiguous range and a case's records are one contiguous
// sub-range:
//
//   c <case_id>                          -> CaseSummary (also for never-opened cases)
//   g <donor_ref>                        -> empty (a donor of some applied donation)
//   h <case_id> \0 <sequence u64 BE> <partition u32 BE> <offset u64 BE>
//                                        -> the bytes of the case's sequence-th event, as
//                                           the log held them at that position (case
//                                           history; the case's donations, pledges and
//                                           handled ids are the fold of its history)
//   m/chain/ <partition u32 BE> <offset u64 BE> -> 8 bytes per record: the prefixes of the
//                                           chain heads after the consecutive records from
//                                           that offset, within one window of 1,024 offsets
//   m/donors                             -> u64 the number of g keys
//   m/format                             -> u32 store format version
//   m/source                             -> the identity of the log it was built from
//   m/pos/ <partition u32 BE>            -> PartitionCheckpoint
//   m/totals                             -> ProjectionTotals
//   r <case_id> \0 <partition u32 BE> <offset u64 BE> -> RejectionRecord
//   x <donor_ref> \0 <case_id>           -> empty (donor index: a case this donor gave or
//                                           pledged to)
//
// Identifiers never contain '\0' (SPEC section 2), so the separator keeps
// "a" and everything of "a" before "a-b". Big-endian positions make
// rejections sort in log order within a case.
//
// Values: version byte 1 first, then fixed-width little-endian integers
// (int64 as two's complement in 8 bytes), strings as a u32 length and the
// bytes, optional values as a presence flag. The encoding is deterministic
// (one value, one byte string). Decoding checks the version, every length and
// every enum range, and returns kCorruption on any bad byte; it never reads
// out of bounds. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "events/error.h"
#include "events/fingerprint.h"

namespace homeward::projections {

// Bumped when the key layout or a value encoding changes incompatibly; the
// store refuses to open another version (rebuild it from the log).
// Format 2 added the chain index (m/chain/); format 3 the case history (h)
// and the donor index (x) of projections/read_models/; format 4 dropped the
// per-case donor records (o), which the donation records already imply, and
// keeps the chain index in segments of up to 1,024 records (one key each);
// format 5 dropped the donation, pledge and handled-event records (d, p, e),
// which the case history already holds, and numbers history events by their
// place in the case instead of their log position.
inline constexpr uint32_t kStoreFormatVersion = 5;
// The version byte at the start of every encoded value.
inline constexpr uint8_t kValueVersion = 1;

inline constexpr char kCasePrefix = 'c';
inline constexpr char kGlobalDonorPrefix = 'g';
inline constexpr char kRejectionPrefix = 'r';
inline constexpr char kHistoryPrefix = 'h';
inline constexpr char kDonorCasePrefix = 'x';
inline constexpr std::string_view kFormatKey = "m/format";
inline constexpr std::string_view kTotalsKey = "m/totals";
// The number of `g` keys (distinct donors of applied donations), kept with
// every commit so that the impact report need not count them.
inline constexpr std::string_view kDonorCountKey = "m/donors";
// The identity of the log the store was built from (RocksProjectionStore::
// bind_to_log), raw bytes.
inline constexpr std::string_view kSourceKey = "m/source";
inline constexpr std::string_view kCheckpointPrefix = "m/pos/";
inline constexpr std::string_view kChainIndexPrefix = "m/chain/";

// Keys.
[[nodiscard]] std::string case_key(std::string_view case_id);
// `prefix` + case_id + '\0': the range of one case's records of one kind.
[[nodiscard]] std::string case_records_prefix(char prefix, std::string_view case_id);
[[nodiscard]] std::string case_record_key(char prefix, std::string_view case_id,
                                          std::string_view id);
[[nodiscard]] std::string global_donor_key(std::string_view donor_ref);
[[nodiscard]] std::string rejection_key(std::string_view case_id, Partition partition,
                                        Offset offset);
// One event of a case's history: `h` case_id \0 sequence partition offset,
// so that a case's history is one range in the order the case folded it. The
// event's place in the log is in the key, so that the value is exactly the
// event's bytes.
[[nodiscard]] std::string history_key(std::string_view case_id, int64_t sequence,
                                      Partition partition, Offset offset);
// The last 20 bytes of a history key (sequence, partition, offset), for
// building one in place (EncodedBatch::put_owned).
inline constexpr size_t kHistoryKeySuffixBytes = 8 + 4 + 8;
[[nodiscard]] std::array<char, kHistoryKeySuffixBytes> history_key_suffix(int64_t sequence,
                                                                          Partition partition,
                                                                          Offset offset);
struct HistoryKey {
  std::string_view case_id;  // views the key
  int64_t sequence;
  Partition partition;
  Offset offset;
};
[[nodiscard]] Result<HistoryKey> split_history_key(std::string_view key);
// The (partition, offset) that end a rejection key whose `prefix case_id \0`
// part is `prefix_size` bytes long.
struct LogPositionKey {
  Partition partition;
  Offset offset;
};
[[nodiscard]] Result<LogPositionKey> key_log_position(std::string_view key, size_t prefix_size);
// The donor index: `x` donor_ref \0 case_id.
[[nodiscard]] std::string donor_case_key(std::string_view donor_ref, std::string_view case_id);
[[nodiscard]] std::string checkpoint_key(Partition partition);
[[nodiscard]] Result<Partition> checkpoint_partition(std::string_view key);
// The chain index segment of a partition that starts at `first_offset` (see
// ChainSegment); big endian, so that one partition's segments sort in offset
// order.
[[nodiscard]] std::string chain_record_key(Partition partition, Offset first_offset);
// The first offset in a chain_record_key; kCorruption for another key.
[[nodiscard]] Result<Offset> chain_record_offset(std::string_view key);
// The smallest key greater than every key that starts with `prefix`, for
// iterate_upper_bound. `prefix` must not be all 0xff bytes.
[[nodiscard]] std::string prefix_upper_bound(std::string_view prefix);

// Values.
[[nodiscard]] std::string encode_format_version(uint32_t version);
[[nodiscard]] Result<uint32_t> decode_format_version(std::string_view bytes);

[[nodiscard]] std::string encode_summary(const engine::CaseSummary& summary);
// The same bytes, appended to `out` (a commit's buffer: no string of its own).
void append_summary(const engine::CaseSummary& summary, std::string& out);
[[nodiscard]] Result<engine::CaseSummary> decode_summary(std::string_view bytes);

[[nodiscard]] std::string encode_donor_count(int64_t count);
[[nodiscard]] Result<int64_t> decode_donor_count(std::string_view bytes);

[[nodiscard]] std::string encode_rejection(const engine::RejectionRecord& record);
[[nodiscard]] Result<engine::RejectionRecord> decode_rejection(std::string_view bytes);

[[nodiscard]] std::string encode_totals(const engine::ProjectionTotals& totals);
[[nodiscard]] Result<engine::ProjectionTotals> decode_totals(std::string_view bytes);

[[nodiscard]] std::string encode_checkpoint(const engine::PartitionCheckpoint& checkpoint);
[[nodiscard]] Result<engine::PartitionCheckpoint> decode_checkpoint(std::string_view bytes);

}  // namespace homeward::projections
