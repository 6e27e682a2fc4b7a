#include "connectors/http/cursor.h"

#include <charconv>

namespace homeward::connectors::http {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c) {
  const size_t at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::string base64url(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = sextet(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string encode_cursor(const std::vector<std::string>& fields) {
  std::string packed = "1";  // the cursor format's version
  for (const std::string& field : fields) {
    packed += std::to_string(field.size());
    packed.push_back(':');
    packed += field;
  }
  return base64url(packed);
}

std::optional<std::vector<std::string>> decode_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > 4096) return std::nullopt;
  auto packed = unbase64url(cursor);
  if (!packed || packed->empty() || (*packed)[0] != '1') return std::nullopt;
  std::string_view rest = std::string_view(*packed).substr(1);
  std::vector<std::string> fields;
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 6) return std::nullopt;
    size_t size = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + colon, size);
    if (ec != std::errc() || end != rest.data() + colon || size > rest.size() - colon - 1) {
      return std::nullopt;
    }
    fields.emplace_back(rest.substr(colon + 1, size));
    rest.remove_prefix(colon + 1 + size);
  }
  return fields;
}

}  // namespace homeward::connectors::http
