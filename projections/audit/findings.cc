#include "projections/audit/findings.h"

#include <fmt/format.h>

#include "events/check.h"

namespace homeward::projections::audit {

std::string_view to_string(Check check) {
  switch (check) {
    case Check::kLog:
      return "log";
    case Check::kInvariants:
      return "invariants";
    case Check::kEventTotals:
      return "event_totals";
    case Check::kComparison:
      return "comparison";
    case Check::kChain:
      return "chain";
    case Check::kVerifyAgainst:
      return "verify_against";
    case Check::kReplay:
      return "replay";
    case Check::kChecksums:
      return "checksums";
  }
  HOMEWARD_CHECK(false, "Check out of range");
  return {};
}

nlohmann::ordered_json finding_json(const Finding& finding) {
  nlohmann::ordered_json json;
  json["check"] = to_string(finding.check);
  json["message"] = finding.message;
  json["store"] =
      finding.store.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(finding.store);
  json["case_id"] =
      finding.case_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(finding.case_id);
  json["partition"] =
      finding.partition ? nlohmann::ordered_json(finding.partition->value()) : nullptr;
  json["offset"] = finding.offset ? nlohmann::ordered_json(finding.offset->value()) : nullptr;
  return json;
}

std::string describe(const Finding& finding) {
  std::string where;
  if (finding.partition) where += fmt::format("partition {} ", finding.partition->value());
  if (finding.offset) where += fmt::format("offset {} ", finding.offset->value());
  if (!where.empty()) where.back() = ':';
  if (!where.empty()) where += ' ';
  std::string store = finding.store.empty() ? "" : fmt::format("{} store: ", finding.store);
  return fmt::format("[{}] {}{}{}", to_string(finding.check), where, store, finding.message);
}

}  // namespace homeward::projections::audit
