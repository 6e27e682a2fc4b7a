#include "projections/read_models/event_outcomes.h"

#include <absl/container/flat_hash_map.h>

#include <map>
#include <utility>

#include "events/identifier.h"
#include "projections/case_history.h"

namespace homeward::projections {

Result<std::vector<std::optional<engine::Outcome>>> find_outcomes(
    const RocksProjectionStore& store, std::span<const ProjectedEvent> events) {
  std::vector<std::optional<engine::Outcome>> outcomes(events.size());
  // case_id -> (partition, offset) -> the indexes asking for it (a request
  // may name the same position twice).
  std::map<std::string, std::map<std::pair<int32_t, int64_t>, std::vector<size_t>>> wanted;
  for (size_t i = 0; i < events.size(); ++i) {
    // An id that is not an identifier names no case (and would not be a
    // history key).
    if (!events::is_valid_identifier(events[i].case_id)) continue;
    wanted[events[i].case_id][{events[i].partition.value(), events[i].offset.value()}].push_back(i);
  }
  for (const auto& [case_id, positions] : wanted) {
    HistoryFilter filter;
    filter.case_id = case_id;
    HistoryFoldVisitor visitor;
    visitor.on_event = [&](const engine::CaseLedger&, const HistoryEvent& event,
                           const engine::Outcome& outcome) {
      const auto it = positions.find({event.partition.value(), event.offset.value()});
      if (it == positions.end()) return;
      for (const size_t index : it->second) outcomes[index] = outcome;
    };
    if (auto folded = fold_histories(store, filter, visitor); !folded) {
      return std::unexpected(std::move(folded.error()));
    }
  }
  return outcomes;
}

std::string_view disposition_name(engine::Disposition disposition) {
  switch (disposition) {
    case engine::Disposition::kApplied:
      return "applied";
    case engine::Disposition::kDuplicate:
      return "duplicate";
    case engine::Disposition::kRejected:
      return "rejected";
  }
  return "unknown";
}

}  // namespace homeward::projections
