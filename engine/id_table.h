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
//
// Numbers and arena offsets are 32-bit: a table holds at most kMaxIds ids
// and kMaxBytes bytes of them (4 GiB). Inserting past either is an error the
// caller gets (kResourceExhausted), never a wrapped number.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/error.h"

namespace homeward::engine {

class IdTable {
 public:
  struct Insertion {
    uint32_t index;  // the id's number
    bool inserted;   // false: it was already there
  };

  // One number is left for "empty slot"; offsets into the arena are 32-bit.
  static constexpr uint32_t kMaxIds = std::numeric_limits<uint32_t>::max() - 1;
  static constexpr uint32_t kMaxBytes = std::numeric_limits<uint32_t>::max();
  struct Limits {
    uint32_t max_ids = kMaxIds;
    uint32_t max_bytes = kMaxBytes;
  };

  IdTable() = default;
  // Smaller limits than the format's, so that tests can fill a table.
  explicit IdTable(Limits limits);

  // Adds `id` (1 to 255 bytes; SPEC identifiers have at most 128) unless it
  // is there already. kResourceExhausted when a new id would pass a limit;
  // the table is then unchanged.
  [[nodiscard]] Result<Insertion> insert(std::string_view id);
  // Whether a new id of `bytes` bytes fits (an id already there always
  // does): lets a caller check before it changes anything else.
  [[nodiscard]] bool has_room(size_t bytes) const {
    return ends_.size() < limits_.max_ids && arena_.size() + bytes <= limits_.max_bytes;
  }
  [[nodiscard]] const Limits& limits() const { return limits_; }
  [[nodiscard]] std::optional<uint32_t> find(std::string_view id) const;
  // Asks the CPU to bring the slot where `id` would be looked up into its
  // cache, so that a lookup a few events later does not wait for memory
  // (the projector's fold spent most of its time on these cache misses).
  void prefetch(std::string_view id) const;
  // The id numbered `index` (< size()); the view lives until the next insert.
  [[nodiscard]] std::string_view at(uint32_t index) const;
  [[nodiscard]] uint32_t size() const { return static_cast<uint32_t>(ends_.size()); }
  [[nodiscard]] bool empty() const { return ends_.empty(); }
  // The bytes of all ids together (what kMaxBytes bounds).
  [[nodiscard]] size_t id_bytes() const { return arena_.size(); }
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
  Limits limits_;
};

}  // namespace homeward::engine
