// "Did you mean ...?": the known word nearest to a misspelt one, for
// messages (an unknown NDJSON field, and any other closed set of names).
// Pure; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace homeward::events {

// The candidate nearest to `word`, or nothing when none is near enough to be
// a likely typo. Letters are compared without case, and the distance is the
// optimal string alignment distance (an insertion, deletion, substitution
// or swap of two neighbouring characters costs 1): a candidate is near when
// it is at most 1 away for words of up to 4 characters, 2 up to 8, else 3;
// or when one is a prefix of the other and the shorter has 3 characters or
// more (`donor` -> `donor_ref`). Ties go to the earlier candidate. Words
// longer than 64 bytes get no suggestion (no name is that long).
[[nodiscard]] std::optional<std::string_view> nearest_word(
    std::string_view word, std::span<const std::string_view> candidates);

}  // namespace homeward::events
