// Opaque page cursors: the fields a next page needs (the filter it keeps and
// the key it continues after), packed and base64url-encoded so that callers
// treat them as tokens. Not secret and not signed: a hand-made cursor can
// only name another place in the same list. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace homeward::connectors::http {

// Any bytes in the fields: each is length-prefixed.
[[nodiscard]] std::string encode_cursor(const std::vector<std::string>& fields);
[[nodiscard]] std::optional<std::vector<std::string>> decode_cursor(std::string_view cursor);

[[nodiscard]] std::string base64url(std::string_view bytes);
[[nodiscard]] std::optional<std::string> unbase64url(std::string_view text);

}  // namespace homeward::connectors::http
