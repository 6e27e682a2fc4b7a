#include "engine/id_table.h"

#include <absl/hash/hash.h>

#include <bit>
#include <limits>

#include <fmt/core.h>

#include "events/check.h"

namespace homeward::engine {
namespace {

constexpr size_t kInitialSlots = 8;
constexpr uint64_t kIndexMask = 0xffff'ffffULL;

// A slot's position comes from its 32-bit tag alone (Fibonacci hashing of
// the tag), so that growing the table moves slots without hashing any id
// again; the full tag still tells two ids apart before their bytes are
// compared, except once in 2^32.
size_t position_of(uint32_t tag, unsigned shift) {
  return static_cast<size_t>((uint64_t{tag} * 0x9E37'79B9'7F4A'7C15ULL) >> shift);
}

uint32_t tag_of(uint64_t hash) {
  return static_cast<uint32_t>(hash >> 32) ^ static_cast<uint32_t>(hash);
}

}  // namespace

IdTable::IdTable(Limits limits) : limits_(limits) {
  HOMEWARD_CHECK(limits.max_ids <= kMaxIds && limits.max_bytes <= kMaxBytes,
                 "IdTable limits beyond its 32-bit format");
}

uint64_t IdTable::hash(std::string_view id) { return absl::HashOf(id); }

std::string_view IdTable::at(uint32_t index) const {
  HOMEWARD_CHECK(index < ends_.size(), "IdTable index out of range");
  const uint32_t begin = index == 0 ? 0 : ends_[index - 1];
  return std::string_view(arena_).substr(begin, ends_[index] - begin);
}

size_t IdTable::probe(std::string_view id, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = tag_of(hash);
  // Linear probing: the table is at most three quarters full, so a run of
  // occupied slots is short, and neighbouring slots share a cache line.
  for (size_t at = position_of(tag, shift_);; at = (at + 1) & mask) {
    const uint64_t slot = slots_[at];
    if (slot == 0) return at;
    if (static_cast<uint32_t>(slot >> 32) == tag) {
      const auto index = static_cast<uint32_t>((slot & kIndexMask) - 1);
      if (this->at(index) == id) return at;
    }
  }
}

void IdTable::prefetch(std::string_view id) const {
  if (slots_.empty()) return;
  __builtin_prefetch(&slots_[position_of(tag_of(hash(id)), shift_)]);
}

std::optional<uint32_t> IdTable::find(std::string_view id) const {
  if (slots_.empty()) return std::nullopt;
  const uint64_t slot = slots_[probe(id, hash(id))];
  if (slot == 0) return std::nullopt;
  return static_cast<uint32_t>((slot & kIndexMask) - 1);
}

Result<IdTable::Insertion> IdTable::insert(std::string_view id) {
  HOMEWARD_CHECK(!id.empty() && id.size() <= 255, "an IdTable id must be 1 to 255 bytes");
  const uint64_t h = hash(id);
  size_t at = 0;
  if (!slots_.empty()) {
    at = probe(id, h);
    if (slots_[at] != 0) {
      return Insertion{static_cast<uint32_t>((slots_[at] & kIndexMask) - 1), false};
    }
  }
  // Numbers fit in 32 bits with one value left for "empty"; the arena's
  // offsets fit in 32 bits too. A case with billions of events needs a wider
  // table, not a silent wrap: the caller learns it cannot go on.
  if (!has_room(id.size())) {
    return make_error(ErrorCode::kResourceExhausted,
                      fmt::format("the id table is full: it holds {} ids in {} bytes, and at most "
                                  "{} ids in {} bytes fit",
                                  ends_.size(), arena_.size(), limits_.max_ids, limits_.max_bytes));
  }
  if ((ends_.size() + 1) * 4 > slots_.size() * 3) {
    grow();
    at = probe(id, h);
  }
  const auto index = static_cast<uint32_t>(ends_.size());
  arena_.append(id);
  ends_.push_back(static_cast<uint32_t>(arena_.size()));
  slots_[at] = (static_cast<uint64_t>(tag_of(h)) << 32) | (uint64_t{index} + 1);
  return Insertion{index, true};
}

void IdTable::grow() {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, 0);
  shift_ = static_cast<unsigned>(64 - std::countr_zero(slots_.size()));
  const size_t mask = slots_.size() - 1;
  for (const uint64_t slot : old) {
    if (slot == 0) continue;
    size_t at = position_of(static_cast<uint32_t>(slot >> 32), shift_);
    while (slots_[at] != 0) at = (at + 1) & mask;
    slots_[at] = slot;
  }
}

size_t IdTable::memory_bytes() const {
  return arena_.capacity() + ends_.capacity() * sizeof(uint32_t) +
         slots_.capacity() * sizeof(uint64_t);
}

}  // namespace homeward::engine
