// The per-record chain index that the projector commits with each batch, so
// that the audit can name the first record whose bytes changed (see
// ChainSegment in projection_store.h and docs/audit.md).
//
// ChainIndexBuilder collects, per partition, the 8-byte prefix of the chain
// head after each projected record, split into runs of consecutive offsets
// that never cross a multiple of kChainWindowRecords. It is on the projector's
// hot path: per record it costs one comparison and an 8-byte append, and a
// new segment at most once per kChainWindowRecords records of a partition.
// Header-only, plain value, not thread-safe (one projector owns one).
#pragma once

#include <cstring>
#include <utility>
#include <vector>

#include "engine/projection_store.h"

namespace homeward::engine {

class ChainIndexBuilder {
 public:
  // Records that the chain head after the record at (partition, offset) is
  // `head`. Offsets of one partition must grow.
  void add(Partition partition, Offset offset, const ChainHead& head) {
    ChainSegment* segment = open_segment(partition, offset);
    segment->head_prefixes.append(reinterpret_cast<const char*>(head.data()),
                                  kChainHeadPrefixBytes);
  }

  // The segments collected since the last take, in order of creation.
  [[nodiscard]] std::vector<ChainSegment> take() {
    last_ = kNone;
    return std::exchange(segments_, {});
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // The segment that the record at (partition, offset) extends, or a new one
  // when the record is not the next offset of the partition's latest segment
  // or starts a window.
  ChainSegment* open_segment(Partition partition, Offset offset) {
    if (last_ == kNone || segments_[last_].partition != partition) {
      // Another partition: find its latest segment (few partitions, so a
      // backwards scan is short, and it only runs on a partition switch).
      last_ = kNone;
      for (size_t i = segments_.size(); i-- > 0;) {
        if (segments_[i].partition == partition) {
          last_ = i;
          break;
        }
      }
    }
    if (last_ != kNone) {
      const ChainSegment& latest = segments_[last_];
      const int64_t next = latest.first_offset.value() + latest.size();
      if (offset.value() == next && offset.value() % kChainWindowRecords != 0) {
        return &segments_[last_];
      }
    }
    ChainSegment& created = segments_.emplace_back();
    created.partition = partition;
    created.first_offset = offset;
    created.head_prefixes.reserve(
        kChainHeadPrefixBytes *
        static_cast<size_t>(kChainWindowRecords - offset.value() % kChainWindowRecords));
    last_ = segments_.size() - 1;
    return &created;
  }

  std::vector<ChainSegment> segments_;
  size_t last_ = kNone;  // index of the segment that the previous add extended
};

}  // namespace homeward::engine
