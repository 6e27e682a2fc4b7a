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
  EXPECT_EQ(table.insert("b").index, 0u);
  EXPECT_EQ(table.insert("a").index, 1u);
  const IdTable::Insertion again = table.insert("b");
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
    const IdTable::Insertion added = table.insert(numbered(i));
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
  for (const std::string& id : ids) ASSERT_TRUE(table.insert(id).inserted) << id;
  for (size_t i = 0; i < std::size(ids); ++i) EXPECT_EQ(table.find(ids[i]), i);
}

TEST(IdTableTest, EqualWhenTheSameIdsHaveTheSameNumbers) {
  IdTable a;
  IdTable b;
  a.insert("x");
  a.insert("y");
  b.insert("x");
  b.insert("y");
  EXPECT_EQ(a, b);
  IdTable reversed;
  reversed.insert("y");
  reversed.insert("x");
  EXPECT_FALSE(a == reversed);
}

TEST(IdTableTest, AnEmptyOrOverlongIdIsAProgrammerError) {
  IdTable table;
  EXPECT_DEATH(table.insert(""), "1 to 255 bytes");
  EXPECT_DEATH(table.insert(std::string(256, 'x')), "1 to 255 bytes");
}

}  // namespace
}  // namespace homeward::engine
