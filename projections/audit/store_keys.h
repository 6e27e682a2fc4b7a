// Reading the projection store's keys back (layout in projections/
// record_codec.h), so that the audit can name a record in an auditor's words:
// "case case-xf: history event 12", "rejection at partition 0 offset 17".
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/strong_int.h"

namespace homeward::projections::audit {

enum class KeyKind {
  kCase,         // c <case_id>
  kGlobalDonor,  // g <donor_ref>
  kRejection,    // r <case_id> \0 <partition> <offset>
  kFormat,       // m/format
  kSource,       // m/source
  kTotals,       // m/totals
  kDonorCount,   // m/donors
  kCheckpoint,   // m/pos/ <partition>
  kChainRecord,  // m/chain/ <partition> <first offset> (a chain index segment)
  kHistory,      // h <case_id> \0 <sequence> (the case history)
  kDonorCase,    // x <donor_ref> \0 <case_id> (read_models: donor index)
  kUnknown,      // anything else: not a key this code writes
};

struct DecodedKey {
  KeyKind kind = KeyKind::kUnknown;
  std::string_view case_id;
  std::string_view id;   // donor_ref
  Partition partition;   // rejections, checkpoints, chain records
  Offset offset;         // rejections, chain records
  int64_t sequence = 0;  // history
};

// Views into `key`. A key of a known prefix whose shape is wrong decodes as
// kUnknown.
[[nodiscard]] DecodedKey decode_key(std::string_view key);

// "case case-xf: history event 12", "the event totals", "rejection of case
// case-xf at partition 0 offset 17"; hex for unknown keys.
[[nodiscard]] std::string describe_key(std::string_view key);

// Lower-case hex of any bytes.
[[nodiscard]] std::string to_hex(std::string_view bytes);

}  // namespace homeward::projections::audit
