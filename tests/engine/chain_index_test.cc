// The chain index builder: segments never cross a window or a gap, each take
// hands over every changed segment whole, and the store's final records are
// the same however the records were split into batches or runs.
#include "engine/chain_index.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

namespace homeward::engine {
namespace {

// A head whose 8-byte prefix names the offset, so that a wrong prefix shows.
ChainHead head_for(int64_t offset) {
  ChainHead head{};
  for (size_t i = 0; i < 8; ++i) head[i] = static_cast<uint8_t>(offset >> (8 * i));
  head[31] = 0xee;  // beyond the prefix: never stored
  return head;
}

// What a store holds after writing each take: one record per segment start,
// the last write winning.
using StoredIndex = std::map<std::pair<int32_t, int64_t>, std::string>;

void store(StoredIndex& stored, std::vector<ChainSegment> taken) {
  for (ChainSegment& segment : taken) {
    stored[{segment.partition.value(), segment.first_offset.value()}] =
        std::move(segment.head_prefixes);
  }
}

// Adds `offsets` of partition 0, taking after every `batch` records.
StoredIndex build(const std::vector<int64_t>& offsets, size_t batch) {
  ChainIndexBuilder builder;
  StoredIndex stored;
  for (size_t i = 0; i < offsets.size(); ++i) {
    builder.add(Partition(0), Offset(offsets[i]), head_for(offsets[i]));
    if ((i + 1) % batch == 0) store(stored, builder.take());
  }
  store(stored, builder.take());
  return stored;
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> offsets;
  for (int64_t offset = from; offset < to; ++offset) offsets.push_back(offset);
  return offsets;
}

TEST(ChainIndexBuilder, SegmentsSplitAtWindowsAndHoldEveryPrefix) {
  const StoredIndex stored = build(range(0, 2500), 100'000);
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored.at({0, 0}).size(), 1024u * kChainHeadPrefixBytes);
  EXPECT_EQ(stored.at({0, 1024}).size(), 1024u * kChainHeadPrefixBytes);
  EXPECT_EQ(stored.at({0, 2048}).size(), 452u * kChainHeadPrefixBytes);
  const std::string& last = stored.at({0, 2048});
  const ChainHead expected = head_for(2499);
  EXPECT_EQ(last.substr(451 * kChainHeadPrefixBytes),
            std::string(reinterpret_cast<const char*>(expected.data()), kChainHeadPrefixBytes));
}

TEST(ChainIndexBuilder, BatchSizeDoesNotChangeWhatIsStored) {
  const StoredIndex reference = build(range(0, 3000), 100'000);
  for (const size_t batch : {size_t{1}, size_t{7}, size_t{1023}, size_t{1024}, size_t{1500}}) {
    SCOPED_TRACE(batch);
    EXPECT_EQ(build(range(0, 3000), batch), reference);
  }
}

TEST(ChainIndexBuilder, AGapStartsANewSegment) {
  std::vector<int64_t> offsets = range(0, 10);
  for (int64_t offset : range(20, 30)) offsets.push_back(offset);
  const StoredIndex stored = build(offsets, 4);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored.at({0, 0}).size(), 10u * kChainHeadPrefixBytes);
  EXPECT_EQ(stored.at({0, 20}).size(), 10u * kChainHeadPrefixBytes);
}

TEST(ChainIndexBuilder, OnlyChangedSegmentsAreTaken) {
  ChainIndexBuilder builder;
  for (int64_t offset : range(0, 1030)) builder.add(Partition(0), Offset(offset), head_for(offset));
  builder.add(Partition(1), Offset(0), head_for(0));
  EXPECT_EQ(builder.take().size(), 3u);  // two windows of partition 0, one of partition 1
  builder.add(Partition(0), Offset(1030), head_for(1030));
  const std::vector<ChainSegment> taken = builder.take();
  ASSERT_EQ(taken.size(), 1u);  // partition 1 did not change
  EXPECT_EQ(taken[0].first_offset, Offset(1024));
  EXPECT_EQ(taken[0].size(), 7);
}

TEST(ChainIndexBuilder, AResumedSegmentIsFilledAsIfNeverStopped) {
  const StoredIndex reference = build(range(0, 2100), 100'000);

  // A first run stops after offset 1500; a second resumes from what it stored.
  ChainIndexBuilder first;
  StoredIndex stored;
  for (int64_t offset : range(0, 1501)) first.add(Partition(0), Offset(offset), head_for(offset));
  store(stored, first.take());
  ChainIndexBuilder second;
  second.resume(ChainSegment{Partition(0), Offset(1024), stored.at({0, 1024})});
  for (int64_t offset : range(1501, 2100)) {
    second.add(Partition(0), Offset(offset), head_for(offset));
  }
  store(stored, second.take());
  EXPECT_EQ(stored, reference);
}

}  // namespace
}  // namespace homeward::engine
