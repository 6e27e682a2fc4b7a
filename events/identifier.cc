#include "events/identifier.h"

#include <cstdint>
#include <optional>

#include "events/validation.h"

namespace homeward::events {

bool is_valid_identifier(std::string_view text) {
  if (text.empty() || text.size() > kIdentifierMaxLength) return false;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<size_t> utf8_code_points(std::string_view text) {
  // Strict UTF-8 (RFC 3629): shortest form only, no surrogates, nothing above
  // U+10FFFF.
  size_t code_points = 0;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    size_t length = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (b0 < 0x80) {
      length = 1;
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      cp = b0 & 0x1F;
      min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      cp = b0 & 0x0F;
      min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return std::nullopt;  // a continuation byte or 0xF8..0xFF cannot start a character
    }
    if (n - i < length) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      if ((b & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min) return std::nullopt;                      // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;  // surrogate
    if (cp > 0x10FFFF) return std::nullopt;
    i += length;
    ++code_points;
  }
  return code_points;
}

bool is_valid_free_text(std::string_view text) {
  // Code points, not bytes, are what "280 characters" means to the portal
  // developer who typed them.
  const auto count = utf8_code_points(text);
  return count.has_value() && *count <= kFreeTextMaxCharacters;
}

}  // namespace homeward::events
