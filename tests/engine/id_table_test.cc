// IdTable: dense numbering in insertion order, lookups across growth, and
// equality of content.
#include "engine/id_table.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

namespace homeward::engine {
namespace {

// "id-17" from 17; built with append (GCC bug 105329, see rules_test.cc).
std::string numbered(int n) {
  std::string id("id-");
  id += std::to_string(n);
  return id;
}

TEST(IdTableTest, NumbersIdsInTheOrderTheyWereFirstInserted) {
  IdTable table;
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.insert("b")->index, 0u);
  EXPECT_EQ(table.insert("a")->index, 1u);
  const IdTable::Insertion again = table.insert("b").value();
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(again.index, 0u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.at(0), "b");
  EXPECT_EQ(table.at(1), "a");
  EXPECT_EQ(table.find("a"), 1u);
  EXPECT_FALSE(table.find("c").has_value());
}

TEST(IdTableTest, FindsEveryIdAfterManyGrowths) {
  IdTable table;
  constexpr int kIds = 100'000;
  for (int i = 0; i < kIds; ++i) {
    const IdTable::Insertion added = table.insert(numbered(i)).value();
    ASSERT_TRUE(added.inserted) << i;
    ASSERT_EQ(added.index, static_cast<uint32_t>(i));
  }
  for (int i = 0; i < kIds; ++i) {
    ASSERT_EQ(table.find(numbered(i)), static_cast<uint32_t>(i)) << i;
    ASSERT_EQ(table.at(static_cast<uint32_t>(i)), numbered(i));
  }
  EXPECT_FALSE(table.find(numbered(kIds)).has_value());
  EXPECT_FALSE(table.find("id-").has_value());  // a prefix of every id is none of them
  // Compact: the ids' bytes plus a few words each, far from a std::string map.
  EXPECT_LT(table.memory_bytes(), size_t{kIds} * 48);
}

TEST(IdTableTest, KeepsIdsThatDifferOnlyInTheirLastByteOrLength) {
  IdTable table;
  const std::string ids[] = {"a", "aa", "a.", "a-", "a:b", "a_b", std::string(255, 'z')};
  for (const std::string& id : ids) ASSERT_TRUE(table.insert(id)->inserted) << id;
  for (size_t i = 0; i < std::size(ids); ++i) EXPECT_EQ(table.find(ids[i]), i);
}

TEST(IdTableTest, EqualWhenTheSameIdsHaveTheSameNumbers) {
  IdTable a;
  IdTable b;
  ASSERT_TRUE(a.insert("x").has_value());
  ASSERT_TRUE(a.insert("y").has_value());
  ASSERT_TRUE(b.insert("x").has_value());
  ASSERT_TRUE(b.insert("y").has_value());
  EXPECT_EQ(a, b);
  IdTable reversed;
  ASSERT_TRUE(reversed.insert("y").has_value());
  ASSERT_TRUE(reversed.insert("x").has_value());
  EXPECT_FALSE(a == reversed);
}

TEST(IdTableTest, AnEmptyOrOverlongIdIsAProgrammerError) {
  IdTable table;
  EXPECT_DEATH((void)table.insert(""), "1 to 255 bytes");
  EXPECT_DEATH((void)table.insert(std::string(256, 'x')), "1 to 255 bytes");
}

// A full table is an error the caller gets, not the end of the process
// (it was `IdTable is full` and an abort at 4 GiB): with small limits, the
// id that would pass one is refused and the table is unchanged.
TEST(IdTableTest, AFullTableRefusesANewIdWithAClearErrorAndStaysUsable) {
  IdTable by_count(IdTable::Limits{.max_ids = 3});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(by_count.insert(numbered(i)).has_value());
  auto refused = by_count.insert("one-more");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(refused.error().message,
            "the id table is full: it holds 3 ids in 12 bytes, and at most 3 ids in 4294967295 "
            "bytes fit");
  EXPECT_EQ(by_count.size(), 3u);
  EXPECT_FALSE(by_count.find("one-more").has_value());
  // An id already there is found as before.
  auto again = by_count.insert(numbered(1));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->inserted);
  EXPECT_EQ(again->index, 1u);

  IdTable by_bytes(IdTable::Limits{.max_bytes = 10});
  ASSERT_TRUE(by_bytes.insert("0123456789").has_value());
  auto over = by_bytes.insert("x");
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(by_bytes.id_bytes(), 10u);
  EXPECT_TRUE(IdTable(IdTable::Limits{.max_bytes = 10}).has_room(10));
  EXPECT_FALSE(by_bytes.has_room(1));
}

// The format's limits are those of its 32-bit numbers and offsets.
TEST(IdTableTest, TheDefaultLimitsAreThoseOfTheFormat) {
  const IdTable table;
  EXPECT_EQ(table.limits().max_ids, 4'294'967'294u);
  EXPECT_EQ(table.limits().max_bytes, 4'294'967'295u);
}

}  // namespace
}  // namespace homeward::engine
