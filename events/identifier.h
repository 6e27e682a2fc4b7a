// Identifiers (SPEC section 2): event ids, case ids, donor refs, references.
#pragma once

#include <cstddef>
#include <string_view>

namespace homeward::events {

inline constexpr size_t kIdentifierMaxLength = 128;
inline constexpr size_t kFreeTextMaxCharacters = 280;

// 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
[[nodiscard]] bool is_valid_identifier(std::string_view text);

// Valid UTF-8 of at most kFreeTextMaxCharacters code points.
[[nodiscard]] bool is_valid_free_text(std::string_view text);

}  // namespace homeward::events
