// The state digest: a SHA-256 over the logical projected state, which anyone
// who folds the same events by SPEC reproduces, whatever log carried them
// (the embedded log, a Kafka topic with any number of partitions) and
// however they were batched. It is NOT a hash of RocksDB bytes.
//
// The digest is over the "canonical state": ASCII lines, each ending in
// '\n', defined exactly in docs/audit.md ("The state digest"). In short:
//   homeward-state v1
//   case <case_id> <fields...>                (opened cases, by case_id)
//   budget <case_id> <category> <planned> <disbursed>
//   donation <case_id> <donation_id> <donor_ref> <amount> <refunded>
//   event <case_id> <event_id> <fingerprint>  (every handled event id)
//   pledge <case_id> <pledge_id> <donor_ref> <amount> <state>
//   rejection <case_id|-> <event_id|-> <type|-> <reason>   (sorted)
//   totals <applied> <duplicates> <rejected> <rejected by reason...>
// Amounts are integers of minor units, timestamps in SPEC's output form; no
// log position appears anywhere. Reads the store through one snapshot;
// thread-compatible.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "events/error.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

inline constexpr std::string_view kStateDigestVersion = "homeward-state v1";

struct StateDigest {
  std::string sha256_hex;  // 64 lower-case hex digits
  int64_t lines = 0;       // lines of the canonical state, the header included
};

// Computes the digest of `store`; also writes the canonical state to
// `canonical` when it is not null (for an auditor who wants to diff two).
[[nodiscard]] Result<StateDigest> compute_state_digest(const RocksProjectionStore& store,
                                                       std::ostream* canonical = nullptr);

}  // namespace homeward::projections::audit
