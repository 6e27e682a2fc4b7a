#include "projections/read_models/case_history.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <utility>

#include "events/codec.h"
#include "events/identifier.h"
#include "projections/record_codec.h"

namespace homeward::projections {
namespace {

// The ledgers of a fold accumulate `dirty` names that nobody persists;
// clearing them now and then keeps a long history's fold small.
constexpr size_t kDirtyNamesMax = 4096;

Error corrupt_history(std::string_view case_id, std::string_view detail) {
  return Error{ErrorCode::kCorruption,
               fmt::format("the stored history of case {}: {}", case_id, detail)};
}

// Splits `h case_id \0 <12 position bytes>` into the case id and position.
Result<std::pair<std::string_view, LogPositionKey>> split_history_key(std::string_view key) {
  constexpr size_t kPositionBytes = 12;
  if (key.size() < 1 + 1 + 1 + kPositionBytes || key[key.size() - kPositionBytes - 1] != '\0') {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("a stored history key of {} bytes has no case id and log "
                                  "position",
                                  key.size()));
  }
  const std::string_view case_id = key.substr(1, key.size() - kPositionBytes - 2);
  auto position = key_log_position(key, key.size() - kPositionBytes);
  if (!position) return std::unexpected(position.error());
  return std::pair{case_id, *position};
}

}  // namespace

Status fold_histories(const RocksProjectionStore& store, const HistoryFilter& filter,
                      const HistoryFoldVisitor& visitor) {
  std::string range(1, kHistoryPrefix);
  if (!filter.case_id.empty()) {
    // Any text may reach here from a command line; an invalid id names no case.
    if (!events::is_valid_identifier(filter.case_id)) return {};
    range = case_records_prefix(kHistoryPrefix, filter.case_id);
  }

  // A store projected without history (even for one batch) cannot answer
  // from it: refuse rather than fold part of a case.
  {
    std::unique_ptr<RecordCursor> marker = store.open_cursor(kHistoryOffKey);
    if (marker->valid() && marker->key() == kHistoryOffKey) {
      return make_error(ErrorCode::kUnavailable,
                        "these projections were built without the case history "
                        "(ProjectorOptions::keep_history was off), so they cannot answer "
                        "point-in-time or donor queries; rebuild them with `homeward project "
                        "--rebuild`");
    }
    if (auto s = marker->status(); !s) return s;
  }

  std::unique_ptr<engine::CaseLedger> ledger;
  bool took_any = false;  // the current case had an event the filter takes
  auto finish_case = [&]() -> Status {
    if (ledger == nullptr || !took_any) return {};
    if (visitor.on_case) return visitor.on_case(*ledger);
    return {};
  };

  std::unique_ptr<RecordCursor> cursor = store.open_cursor(range);
  for (; cursor->valid(); cursor->next()) {
    auto split = split_history_key(cursor->key());
    if (!split) return std::unexpected(split.error());
    const auto [case_id, position] = *split;
    if (ledger == nullptr || ledger->case_id != case_id) {
      if (auto s = finish_case(); !s) return s;
      ledger = std::make_unique<engine::CaseLedger>();
      ledger->case_id = std::string(case_id);
      took_any = false;
    }

    auto event = events::decode_event(cursor->value());
    if (!event) {
      return std::unexpected(corrupt_history(
          case_id,
          fmt::format("the event at partition {} offset {} does not decode: {}",
                      position.partition.value(), position.offset.value(), event.error().message)));
    }
    if (event->case_id != case_id) {
      return std::unexpected(corrupt_history(
          case_id,
          fmt::format("the event at partition {} offset {} belongs to case {}",
                      position.partition.value(), position.offset.value(), event->case_id)));
    }
    if (filter.as_of && event->occurred_at > *filter.as_of) continue;

    took_any = true;
    const HistoryEvent history_event{position.partition, position.offset, std::move(*event)};
    const engine::Outcome outcome = engine::handle_event(*ledger, history_event.event);
    if (visitor.on_event) visitor.on_event(*ledger, history_event, outcome);
    if (ledger->dirty.handled_events.size() > kDirtyNamesMax) ledger->dirty.clear();
  }
  if (auto s = cursor->status(); !s) return s;
  return finish_case();
}

}  // namespace homeward::projections
