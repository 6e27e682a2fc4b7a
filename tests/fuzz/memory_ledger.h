// An in-memory event log and projection store for the projector fuzz target
// (tests/fuzz/fuzz_projector.cc): the engine's two ports with no RocksDB, so
// that one input costs microseconds and a fuzzer can try millions.
//
// MemoryStore keeps what the RocksDB store keeps (a summary and the history
// bytes per case, the rejections, totals, positions and chain segments) and
// loads a case the same way: by folding its history again with the ledger
// rules, refusing (as corruption) a history that does not give the stored
// summary. Test-only; not thread-safe beyond what the projector needs (it
// calls the store from its own thread only).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/event_log.h"
#include "engine/impact.h"
#include "engine/projection_store.h"
#include "engine/rules.h"
#include "events/codec.h"
#include "events/error.h"

namespace homeward::fuzzing {

// Records in several partitions, offsets 0, 1, ... per partition. Only the
// first `visible` records of each partition exist for readers, so that a test
// can let the log grow between two catch-ups.
class MemoryLog final : public engine::EventLogReader {
 public:
  // Appends a record to `partition` at the partition's next offset.
  void add(Partition partition, std::string key, std::string value) {
    auto& records = partitions_[partition];
    records.push_back(engine::LogRecord{partition, Offset(static_cast<int64_t>(records.size())),
                                        std::move(key), std::move(value)});
  }
  // Shows only the first `count` records of every partition (SIZE_MAX: all).
  void set_visible(size_t count) { visible_ = count; }

  Status seek(const engine::OffsetMap& next_offsets) override {
    next_.clear();
    for (const auto& [partition, records] : partitions_) {
      const auto it = next_offsets.find(partition);
      next_[partition] = it == next_offsets.end() ? 0 : static_cast<size_t>(it->second.value());
    }
    return {};
  }

  // Round robin over the partitions, a few records of each at a time, so
  // that batches interleave partitions as a Kafka consumer's do.
  Status read(size_t max_records, std::chrono::milliseconds /*wait*/,
              engine::RecordBatch& batch) override {
    batch.records.clear();
    bool progress = true;
    while (batch.records.size() < max_records && progress) {
      progress = false;
      for (auto& [partition, records] : partitions_) {
        size_t& next = next_[partition];
        for (int i = 0; i < 3 && next < limit(records) && batch.records.size() < max_records; ++i) {
          batch.records.push_back(records[next++]);
          progress = true;
        }
      }
    }
    return {};
  }

  Result<engine::OffsetMap> end_offsets() override {
    engine::OffsetMap ends;
    for (const auto& [partition, records] : partitions_) {
      ends[partition] = Offset(static_cast<int64_t>(limit(records)));
    }
    return ends;
  }

 private:
  [[nodiscard]] size_t limit(const std::vector<engine::LogRecord>& records) const {
    return std::min(records.size(), visible_);
  }

  std::map<Partition, std::vector<engine::LogRecord>> partitions_;
  std::map<Partition, size_t> next_;
  size_t visible_ = SIZE_MAX;
};

class MemoryStore final : public engine::ProjectionStore {
 public:
  struct StoredCase {
    engine::CaseSummary summary;
    std::vector<std::string> history;  // the bytes of each event, in the case's order
    bool operator==(const StoredCase&) const = default;
  };

  Result<engine::Checkpoints> load_checkpoints() override { return checkpoints_; }
  Result<engine::ProjectionTotals> load_totals() override { return totals_; }

  Result<std::optional<engine::CaseLedger>> load_case(std::string_view case_id) override {
    ++loads_;
    const auto it = cases_.find(std::string(case_id));
    if (it == cases_.end()) return std::optional<engine::CaseLedger>();
    engine::CaseLedger ledger;
    ledger.case_id = std::string(case_id);
    for (const std::string& bytes : it->second.history) {
      auto event = events::decode_event(bytes);
      if (!event) {
        return make_error(
            ErrorCode::kCorruption,
            "memory store: a history event does not decode: " + event.error().message);
      }
      (void)engine::handle_event(ledger, *event);
    }
    if (!(ledger.summary == it->second.summary)) {
      return make_error(
          ErrorCode::kCorruption,
          "memory store: the fold of the history differs from the stored summary of " +
              ledger.case_id);
    }
    ledger.dirty.clear();
    return std::optional<engine::CaseLedger>(std::move(ledger));
  }

  Result<engine::ChainSegment> load_open_chain_segment(Partition partition,
                                                       Offset next_offset) override {
    engine::ChainSegment none{partition, next_offset, {}};
    if (next_offset.value() % engine::kChainWindowRecords == 0) return none;
    // The last segment of the partition that starts before next_offset.
    auto it = segments_.upper_bound({partition.value(), next_offset.value() - 1});
    if (it == segments_.begin()) return none;
    --it;
    if (it->first.first != partition.value()) return none;
    const engine::ChainSegment& segment = it->second;
    if (segment.first_offset.value() + segment.size() != next_offset.value() ||
        segment.first_offset.value() / engine::kChainWindowRecords !=
            (next_offset.value() - 1) / engine::kChainWindowRecords) {
      return none;
    }
    return segment;
  }

  Status commit(const engine::BatchCommit& batch) override {
    for (engine::CaseLedger* ledger : batch.cases) {
      StoredCase& stored = cases_[ledger->case_id];
      stored.summary = ledger->summary;
      for (engine::HistoryEvent& event : ledger->dirty.history) {
        stored.history.push_back(std::move(event.bytes));
      }
      // The history's numbering has no gap: the store holds every event the
      // case folded (projection_store.h).
      if (static_cast<int64_t>(stored.history.size()) != ledger->history_events) {
        return make_error(ErrorCode::kInternal,
                          "memory store: the history of " + ledger->case_id + " has a gap");
      }
    }
    rejections_.insert(rejections_.end(), batch.rejections.begin(), batch.rejections.end());
    totals_ = batch.totals;
    checkpoints_ = batch.checkpoints;
    for (const engine::ChainSegment& segment : batch.chain_segments) {
      segments_[{segment.partition.value(), segment.first_offset.value()}] = segment;
    }
    ++commits_;
    return {};
  }

  [[nodiscard]] const std::map<std::string, StoredCase>& cases() const { return cases_; }
  [[nodiscard]] const std::vector<engine::RejectionRecord>& rejections() const {
    return rejections_;
  }
  [[nodiscard]] const engine::ProjectionTotals& totals() const { return totals_; }
  [[nodiscard]] const engine::Checkpoints& checkpoints() const { return checkpoints_; }
  [[nodiscard]] const std::map<std::pair<int32_t, int64_t>, engine::ChainSegment>& segments()
      const {
    return segments_;
  }
  [[nodiscard]] int64_t loads() const { return loads_; }

 private:
  std::map<std::string, StoredCase> cases_;
  std::vector<engine::RejectionRecord> rejections_;
  engine::ProjectionTotals totals_;
  engine::Checkpoints checkpoints_;
  std::map<std::pair<int32_t, int64_t>, engine::ChainSegment> segments_;
  int64_t loads_ = 0;
  int64_t commits_ = 0;
};

}  // namespace homeward::fuzzing
