#include "projections/case_history.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <utility>

#include "events/codec.h"
#include "events/identifier.h"
#include "projections/record_codec.h"

namespace homeward::projections {
namespace {

// The ledgers of a fold accumulate `dirty` donor numbers that nobody
// persists; clearing them now and then keeps a long history's fold small.
constexpr size_t kDirtyNamesMax = 4096;

Error corrupt_history(std::string_view case_id, std::string_view detail) {
  return Error{ErrorCode::kCorruption,
               fmt::format("the stored history of case {}: {}", case_id, detail)};
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
  // The first key after every history key of `after_case_id`: its records
  // end in '\0' and a sequence, and no identifier holds a byte below '\1'.
  std::string start;
  if (filter.case_id.empty() && !filter.after_case_id.empty()) {
    start = range;
    start += filter.after_case_id;
    start += '\1';
  }

  std::unique_ptr<engine::CaseLedger> ledger;
  bool took_any = false;  // the current case had an event the filter takes
  int64_t next_sequence = 0;
  bool stopped = false;  // visitor.done said so
  auto finish_case = [&]() -> Status {
    if (ledger == nullptr || !took_any) return {};
    if (visitor.on_case) {
      if (auto s = visitor.on_case(*ledger); !s) return s;
    }
    if (visitor.done && visitor.done()) stopped = true;
    return {};
  };

  std::unique_ptr<RecordCursor> cursor = store.open_cursor(range, start);
  for (; cursor->valid(); cursor->next()) {
    auto key = split_history_key(cursor->key());
    if (!key) return std::unexpected(key.error());
    const std::string_view case_id = key->case_id;
    if (ledger == nullptr || ledger->case_id != case_id) {
      if (auto s = finish_case(); !s) return s;
      if (stopped) return {};
      ledger = std::make_unique<engine::CaseLedger>();
      ledger->case_id = std::string(case_id);
      took_any = false;
      next_sequence = 0;
    }
    // Every event of a case is there, numbered from 0: a gap would fold the
    // case without one of its events.
    if (key->sequence != next_sequence) {
      return std::unexpected(corrupt_history(
          case_id, fmt::format("event number {} is missing (the next stored one is {})",
                               next_sequence, key->sequence)));
    }
    ++next_sequence;
    auto event = events::decode_event(cursor->value());
    if (!event) {
      return std::unexpected(corrupt_history(
          case_id,
          fmt::format("the event at partition {} offset {} does not decode: {}",
                      key->partition.value(), key->offset.value(), event.error().message)));
    }
    if (event->case_id != case_id) {
      return std::unexpected(corrupt_history(
          case_id, fmt::format("the event at partition {} offset {} belongs to case {}",
                               key->partition.value(), key->offset.value(), event->case_id)));
    }
    if (filter.as_of && event->occurred_at > *filter.as_of) continue;

    took_any = true;
    const HistoryEvent history_event{key->partition, key->offset, std::move(*event)};
    auto handled = engine::handle_event(*ledger, history_event.event);
    if (!handled) return std::unexpected(std::move(handled.error()));
    const engine::Outcome outcome = *handled;
    if (visitor.on_event) visitor.on_event(*ledger, history_event, outcome);
    if (ledger->dirty.new_donors.size() > kDirtyNamesMax) ledger->dirty.clear();
  }
  if (auto s = cursor->status(); !s) return s;
  return finish_case();
}

}  // namespace homeward::projections
