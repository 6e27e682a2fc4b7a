#include "projections/audit/store_keys.h"

#include <fmt/format.h>

#include <cstdint>

#include "projections/record_codec.h"

namespace homeward::projections::audit {
namespace {

uint64_t read_be(std::string_view bytes) {
  uint64_t value = 0;
  for (const char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

// Splits `prefix case_id \0 rest`; false when there is no separator.
bool split_case_record(std::string_view key, std::string_view& case_id, std::string_view& rest) {
  const size_t separator = key.find('\0', 1);
  if (separator == std::string_view::npos) return false;
  case_id = key.substr(1, separator - 1);
  rest = key.substr(separator + 1);
  return true;
}

}  // namespace

DecodedKey decode_key(std::string_view key) {
  DecodedKey decoded;
  if (key.empty()) return decoded;
  if (key == kFormatKey) {
    decoded.kind = KeyKind::kFormat;
    return decoded;
  }
  if (key == kSourceKey) {
    decoded.kind = KeyKind::kSource;
    return decoded;
  }
  if (key == kTotalsKey) {
    decoded.kind = KeyKind::kTotals;
    return decoded;
  }
  if (key == kDonorCountKey) {
    decoded.kind = KeyKind::kDonorCount;
    return decoded;
  }
  if (key.starts_with(kCheckpointPrefix)) {
    if (key.size() == kCheckpointPrefix.size() + 4) {
      decoded.kind = KeyKind::kCheckpoint;
      decoded.partition =
          Partition(static_cast<int32_t>(read_be(key.substr(kCheckpointPrefix.size()))));
    }
    return decoded;
  }
  if (key.starts_with(kChainIndexPrefix)) {
    if (key.size() == kChainIndexPrefix.size() + 12) {
      decoded.kind = KeyKind::kChainRecord;
      decoded.partition =
          Partition(static_cast<int32_t>(read_be(key.substr(kChainIndexPrefix.size(), 4))));
      decoded.offset =
          Offset(static_cast<int64_t>(read_be(key.substr(kChainIndexPrefix.size() + 4, 8))));
    }
    return decoded;
  }
  std::string_view case_id;
  std::string_view rest;
  switch (key[0]) {
    case kCasePrefix:
      if (key.size() > 1 && key.find('\0') == std::string_view::npos) {
        decoded.kind = KeyKind::kCase;
        decoded.case_id = key.substr(1);
      }
      return decoded;
    case kGlobalDonorPrefix:
      if (key.size() > 1) {
        decoded.kind = KeyKind::kGlobalDonor;
        decoded.id = key.substr(1);
      }
      return decoded;
    case kRejectionPrefix:
      if (split_case_record(key, case_id, rest) && rest.size() == 12) {
        decoded.kind = KeyKind::kRejection;
        decoded.case_id = case_id;
        decoded.partition = Partition(static_cast<int32_t>(read_be(rest.substr(0, 4))));
        decoded.offset = Offset(static_cast<int64_t>(read_be(rest.substr(4, 8))));
      }
      return decoded;
    case kHistoryPrefix:
      if (auto history = split_history_key(key); history) {
        decoded.kind = KeyKind::kHistory;
        decoded.case_id = history->case_id;
        decoded.sequence = history->sequence;
        decoded.partition = history->partition;
        decoded.offset = history->offset;
      }
      return decoded;
    case kDonorCasePrefix:
      // x <donor_ref> \0 <case_id>: the donor comes first here.
      if (split_case_record(key, case_id, rest) && !case_id.empty() && !rest.empty()) {
        decoded.kind = KeyKind::kDonorCase;
        decoded.id = case_id;
        decoded.case_id = rest;
      }
      return decoded;
    default:
      return decoded;
  }
}

std::string describe_key(std::string_view key) {
  const DecodedKey k = decode_key(key);
  switch (k.kind) {
    case KeyKind::kCase:
      return fmt::format("case {}: summary", k.case_id);
    case KeyKind::kGlobalDonor:
      return fmt::format("donor {} (in the set of all donors)", k.id);
    case KeyKind::kRejection:
      if (k.case_id.empty()) {
        return fmt::format("rejection (no case) at partition {} offset {}", k.partition.value(),
                           k.offset.value());
      }
      return fmt::format("case {}: rejection at partition {} offset {}", k.case_id,
                         k.partition.value(), k.offset.value());
    case KeyKind::kFormat:
      return "the store format record";
    case KeyKind::kSource:
      return "the record of which log the store was built from";
    case KeyKind::kTotals:
      return "the event totals";
    case KeyKind::kDonorCount:
      return "the count of distinct donors";
    case KeyKind::kCheckpoint:
      return fmt::format("the read position of partition {}", k.partition.value());
    case KeyKind::kChainRecord:
      return fmt::format("the chain index segment of partition {} from offset {}",
                         k.partition.value(), k.offset.value());
    case KeyKind::kHistory:
      return fmt::format("case {}: history event {} (partition {} offset {})", k.case_id,
                         k.sequence, k.partition.value(), k.offset.value());
    case KeyKind::kDonorCase:
      return fmt::format("case {}: donor index entry of donor {}", k.case_id, k.id);
    case KeyKind::kUnknown:
      break;
  }
  return fmt::format("an unknown record (key hex {})", to_hex(key));
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 0x0f]);
  }
  return hex;
}

}  // namespace homeward::projections::audit
