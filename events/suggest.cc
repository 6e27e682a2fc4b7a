#include "events/suggest.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <string>

namespace homeward::events {
namespace {

constexpr size_t kLongestWord = 64;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

// Optimal string alignment distance; both at most kLongestWord long, so the
// three rows fit on the stack.
size_t distance(std::string_view a, std::string_view b) {
  std::array<size_t, kLongestWord + 1> before{};    // row i - 2
  std::array<size_t, kLongestWord + 1> previous{};  // row i - 1
  std::array<size_t, kLongestWord + 1> current{};
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    before = previous;
    previous = current;
  }
  return previous[b.size()];
}

size_t allowed_distance(size_t length) {
  if (length <= 4) return 1;
  if (length <= 8) return 2;
  return 3;
}

}  // namespace

std::optional<std::string_view> nearest_word(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  if (word.empty() || word.size() > kLongestWord) return std::nullopt;
  const std::string w = lowered(word);
  std::optional<std::string_view> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string_view candidate : candidates) {
    if (candidate.size() > kLongestWord) continue;
    const std::string c = lowered(candidate);
    const size_t d = distance(w, c);
    const std::string_view shorter = w.size() <= c.size() ? std::string_view(w) : c;
    const std::string_view longer = w.size() <= c.size() ? std::string_view(c) : w;
    const bool prefix = shorter.size() >= 3 && longer.substr(0, shorter.size()) == shorter;
    const bool near = d <= allowed_distance(std::min(w.size(), c.size())) || prefix;
    if (near && d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace homeward::events
