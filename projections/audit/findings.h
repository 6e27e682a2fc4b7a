// What the audit found, in an auditor's words, and where.
//
// Every check of `homeward audit` reports what broke as a Finding: which
// check, a sentence that names the case, record or position, and the
// position in the log when there is one. An audit passes when it has no
// finding. Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/strong_int.h"

namespace homeward::projections::audit {

// The checks of docs/audit.md, as report.json names them.
enum class Check {
  kLog,            // the log could not be read whole (a missing offset, bad bytes on disk)
  kInvariants,     // a rule that every projected state must satisfy is broken
  kEventTotals,    // the figures summed over the events differ from those over the cases
  kComparison,     // the live projections differ from the independent replay
  kChain,          // the live projections read other bytes than the log now holds
  kVerifyAgainst,  // an earlier audit's chain heads are not reproduced: history changed
  kReplay,         // the replay disagrees with itself (a bug in Homeward, not in the data)
  kChecksums,      // a block of a file of the log or of the live store fails its checksum
};
[[nodiscard]] std::string_view to_string(Check check);

struct Finding {
  Check check = Check::kInvariants;
  std::string message;
  std::string case_id;  // empty when the finding is not about one case
  std::optional<Partition> partition;
  std::optional<Offset> offset;
  // For findings about a store: "replay" or "live".
  std::string store;
};

using Findings = std::vector<Finding>;

[[nodiscard]] nlohmann::ordered_json finding_json(const Finding& finding);
// "partition 0 offset 17: case case-xf: MESSAGE", for people.
[[nodiscard]] std::string describe(const Finding& finding);

}  // namespace homeward::projections::audit
