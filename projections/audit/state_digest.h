// The state digest: a SHA-256 over the logical projected state, which anyone
// who folds the same events by SPEC reproduces, whatever log carried them
// (the embedded log, a Kafka topic with any number of partitions) and
// however they were batched. It is NOT a hash of RocksDB bytes.
//
// The digest is over the "canonical state": ASCII lines, each ending in
// '\n', defined exactly in docs/audit.md ("The state digest"). In short:
//   homeward-state v2
//   then for each case, by case_id:
//     case <case_id> <fields...>              (when opened)
//     budget <case_id> <category> <planned> <disbursed>
//     donation <case_id> <donation_id> <donor_ref> <amount> <refunded>  (by id)
//     event <case_id> <event_id> <fingerprint>  (every handled event id, by id)
//     pledge <case_id> <pledge_id> <donor_ref> <amount> <state>  (by id)
//   rejection <case_id|-> <event_id|-> <type|-> <reason>   (sorted)
//   totals <applied> <duplicates> <rejected> <rejected by reason...>
// Amounts are integers of minor units, timestamps in SPEC's output form; no
// log position appears anywhere. Thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "events/error.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

// v2 groups each case's donation, event and pledge lines after its case line
// (v1 had one section of each over all cases): a case's records come from
// folding its history, one case at a time.
inline constexpr std::string_view kStateDigestVersion = "homeward-state v2";

struct StateDigest {
  std::string sha256_hex;  // 64 lower-case hex digits
  int64_t lines = 0;       // lines of the canonical state, the header included
};

// Computes the digest of `store`; also writes the canonical state to
// `canonical` when it is not null (for an auditor who wants to diff two).
[[nodiscard]] Result<StateDigest> compute_state_digest(const RocksProjectionStore& store,
                                                       std::ostream* canonical = nullptr);

}  // namespace homeward::projections::audit
