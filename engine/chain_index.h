// The chain index that the projector commits with each batch, so that the
// audit can name the first record whose bytes changed (see ChainSegment in
// projection_store.h and docs/audit.md).
//
// ChainIndexBuilder collects, per partition, the 8-byte prefix of the chain
// head after each projected record, in segments of consecutive offsets that
// never cross a multiple of kChainWindowRecords. It keeps each partition's
// latest segment across batches, and take() hands over every segment that
// changed, whole, so that the store can write each segment under one key. It
// is on the projector's hot path: per record it costs a comparison and an
// 8-byte append. Header-only, plain value, not thread-safe (one projector owns
// one).
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "engine/projection_store.h"

namespace homeward::engine {

class ChainIndexBuilder {
 public:
  // Continues a segment an earlier run committed (a restart mid-window:
  // ProjectionStore::load_open_chain_segment). An empty one changes nothing.
  void resume(ChainSegment segment) {
    if (segment.size() == 0) return;
    Latest& latest = latest_for(segment.partition);
    latest.segment = std::move(segment);
    latest.changed = false;
  }

  // Records that the chain head after the record at (partition, offset) is
  // `head`. Offsets of one partition must grow.
  void add(Partition partition, Offset offset, const ChainHead& head) {
    Latest& latest = latest_for(partition);
    ChainSegment& segment = latest.segment;
    const int64_t next = segment.first_offset.value() + segment.size();
    if (segment.size() == 0 || offset.value() != next ||
        offset.value() % kChainWindowRecords == 0) {
      if (latest.changed) finished_.push_back(std::move(segment));
      segment = ChainSegment{partition, offset, {}};
      segment.head_prefixes.reserve(
          kChainHeadPrefixBytes *
          static_cast<size_t>(kChainWindowRecords - offset.value() % kChainWindowRecords));
    }
    segment.head_prefixes.append(reinterpret_cast<const char*>(head.data()), kChainHeadPrefixBytes);
    latest.changed = true;
  }

  // The segments changed since the last take, whole: those finished, then
  // each partition's latest one (copied, as later records extend it).
  [[nodiscard]] std::vector<ChainSegment> take() {
    std::vector<ChainSegment> taken = std::exchange(finished_, {});
    for (auto& [partition, latest] : latest_) {
      if (!latest.changed) continue;
      taken.push_back(latest.segment);
      latest.changed = false;
    }
    return taken;
  }

 private:
  struct Latest {
    ChainSegment segment;
    bool changed = false;  // extended since the last take
  };

  // The previous record's partition is looked up without the map: records
  // of one partition mostly come in runs.
  Latest& latest_for(Partition partition) {
    if (last_ == nullptr || last_partition_ != partition) {
      last_ = &latest_[partition];  // std::map: references stay valid
      last_partition_ = partition;
    }
    return *last_;
  }

  std::map<Partition, Latest> latest_;
  std::vector<ChainSegment> finished_;
  Latest* last_ = nullptr;
  Partition last_partition_;
};

}  // namespace homeward::engine
