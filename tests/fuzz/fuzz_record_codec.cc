// Fuzz target: the projection store's record decoder (projections/record_codec.h,
// issue 14 item 2). A damaged store must give kCorruption, never a crash or a
// wrong figure.
//
// The first byte picks the decoder (a value kind or a key kind), the rest is
// the bytes. A value that decodes must re-encode to exactly the same bytes
// (record_codec.h: one value, one byte string), and a decoded summary must
// satisfy the invariants its decoder promises (0 <= refunded <= received,
// pledged >= 0, disbursed is the sum of its categories, a close reason
// exactly when closed), so that no figure computed from it can be wrong or
// overflow. A key that splits must rebuild to the same key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/case_ledger.h"
#include "projections/record_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace homeward;
using namespace homeward::projections;

template <typename Decoded, typename Encode>
void round_trip(const Result<Decoded>& decoded, std::string_view bytes, Encode encode,
                const char* what) {
  if (!decoded) {
    FUZZ_CHECK(decoded.error().code == ErrorCode::kCorruption && !decoded.error().message.empty(),
               "%s: a refusal must be kCorruption with a message", what);
    return;
  }
  FUZZ_CHECK(encode(*decoded) == bytes, "%s: decoded bytes re-encode differently", what);
}

void check_summary(const engine::CaseSummary& s) {
  FUZZ_CHECK(s.received.value() >= 0 && s.refunded.value() >= 0 &&
                 s.refunded.value() <= s.received.value(),
             "a decoded summary has refunded outside [0, received]");
  FUZZ_CHECK(s.pledged.value() >= 0 && s.disbursed.value() >= 0 && s.goal.value() >= 0,
             "a decoded summary has a negative pledged, disbursed or goal");
  __int128 sum = 0;
  for (const MinorUnits part : s.disbursed_by_category) {
    FUZZ_CHECK(part.value() >= 0, "a decoded summary has a negative category");
    sum += part.value();
  }
  FUZZ_CHECK(sum == s.disbursed.value(), "a decoded summary's categories do not sum");
  FUZZ_CHECK(s.closed() == s.closed_at.has_value(), "close reason and closed_at disagree");
  // The figures the queries derive must not overflow or trip an assertion.
  (void)s.net();
  (void)s.available();
  (void)s.remaining();
  (void)s.surplus();
  (void)s.status();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 10) {
    case 0: {
      auto summary = decode_summary(bytes);
      round_trip(
          summary, bytes, [](const auto& v) { return encode_summary(v); }, "summary");
      if (summary) check_summary(*summary);
      break;
    }
    case 1:
      round_trip(
          decode_rejection(bytes), bytes, [](const auto& v) { return encode_rejection(v); },
          "rejection");
      break;
    case 2: {
      auto totals = decode_totals(bytes);
      // A store may hold fewer reasons than are known (older writers): only the
      // value, not the bytes, must survive a round trip.
      if (totals) {
        auto again = decode_totals(encode_totals(*totals));
        FUZZ_CHECK(again.has_value() && *again == *totals, "totals do not survive a round trip");
      } else {
        round_trip(
            totals, bytes, [](const auto& v) { return encode_totals(v); }, "totals");
      }
      break;
    }
    case 3:
      round_trip(
          decode_checkpoint(bytes), bytes, [](const auto& v) { return encode_checkpoint(v); },
          "checkpoint");
      break;
    case 4:
      round_trip(
          decode_format_version(bytes), bytes,
          [](const auto& v) { return encode_format_version(v); }, "format version");
      break;
    case 5:
      round_trip(
          decode_donor_count(bytes), bytes, [](const auto& v) { return encode_donor_count(v); },
          "donor count");
      break;
    case 6: {
      auto key = split_history_key(bytes);
      if (key) {
        FUZZ_CHECK(history_key(key->case_id, key->sequence, key->partition, key->offset) == bytes,
                   "a history key splits into parts that build another key");
      }
      break;
    }
    case 7:
      if (auto partition = checkpoint_partition(bytes)) {
        FUZZ_CHECK(checkpoint_key(*partition) == bytes, "a checkpoint key does not rebuild");
      }
      break;
    case 8:
      // Only the bounds: AddressSanitizer fails the run on an out-of-bounds read.
      (void)chain_record_offset(bytes);
      break;
    default:
      // The second byte is the prefix size, the rest the key.
      if (!bytes.empty()) {
        const auto prefix = static_cast<uint8_t>(bytes[0]);
        (void)key_log_position(bytes.substr(1), prefix);
      }
      break;
  }
  return 0;
}
