// IdTable: a set of identifiers, each numbered 0, 1, 2, ... in the order it
// was first inserted, in compact memory.
//
// A case's ledger remembers every event id it handled and every donor it saw
// (case_ledger.h): a replay of 10M events holds about 10M ids at once, and a
// hash map of std::string keys costs 60-100 bytes per entry before the value
// (bench/README.md). Here the bytes of all ids lie back to back in one arena,
// and the index is an open-addressing table of 8-byte slots, each a 32-bit
// hash tag and the id's number: about the id's own bytes plus 16 per entry.
//
// Numbers are dense and stable (an id keeps its number for the table's
// life), so other tables of a ledger refer to an id by number. Nothing is
// ever removed. The hash is Abseil's, which may differ between processes:
// only lookups depend on it, never the numbering or any output. A plain
// value; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace homeward::engine {

class IdTable {
 public:
  struct Insertion {
    uint32_t index;  // the id's number
    bool inserted;   // false: it was already there
  };

  // Adds `id` (1 to 255 bytes; SPEC identifiers have at most 128) unless it
  // is there already.
  Insertion insert(std::string_view id);
  [[nodiscard]] std::optional<uint32_t> find(std::string_view id) const;
  // Asks the CPU to bring the slot where `id` would be looked up into its
  // cache, so that a lookup a few events later does not wait for memory
  // (the projector's fold spent most of its time on these cache misses).
  void prefetch(std::string_view id) const;
  // The id numbered `index` (< size()); the view lives until the next insert.
  [[nodiscard]] std::string_view at(uint32_t index) const;
  [[nodiscard]] uint32_t size() const { return static_cast<uint32_t>(ends_.size()); }
  [[nodiscard]] bool empty() const { return ends_.empty(); }
  // Heap bytes held (arena, ends, slots), for memory accounting.
  [[nodiscard]] size_t memory_bytes() const;

  // The same ids with the same numbers.
  bool operator==(const IdTable& other) const {
    return ends_ == other.ends_ && arena_ == other.arena_;
  }

 private:
  [[nodiscard]] static uint64_t hash(std::string_view id);
  // The slot holding `id`, or the empty slot where it would go.
  [[nodiscard]] size_t probe(std::string_view id, uint64_t hash) const;
  void grow();

  std::string arena_;
  // ends_[i]: where id i ends in arena_; it starts where id i - 1 ends.
  std::vector<uint32_t> ends_;
  // 0: empty; else (hash tag << 32) | (index + 1). The size is a power of two,
  // at most three quarters full.
  std::vector<uint64_t> slots_;
  unsigned shift_ = 64;  // 64 - log2(slots_.size()), for position_of
};

}  // namespace homeward::engine
