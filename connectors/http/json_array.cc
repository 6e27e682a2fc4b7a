#include "connectors/http/json_array.h"

#include <fmt/core.h>

namespace homeward::connectors::http {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Error not_an_array(size_t offset, std::string_view what) {
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("the body is not a JSON array of events: {} at byte {}", what, offset)};
}

}  // namespace

Result<NdjsonBody> json_array_to_ndjson(std::string_view text) {
  NdjsonBody body;
  body.lines.reserve(text.size() + 16);
  size_t i = 0;
  // A byte order mark is skipped, as `homeward publish` skips it.
  if (text.starts_with("\xEF\xBB\xBF")) i = 3;
  while (i < text.size() && is_json_space(text[i])) ++i;
  if (i >= text.size() || text[i] != '[') return std::unexpected(not_an_array(i, "no '['"));
  ++i;
  bool first = true;
  for (;;) {
    while (i < text.size() && is_json_space(text[i])) ++i;
    if (i >= text.size()) return std::unexpected(not_an_array(i, "the array does not end"));
    if (first && text[i] == ']') {
      ++i;
      break;
    }
    first = false;
    // One element: up to the ',' or ']' at depth 0, outside strings.
    const size_t start = body.lines.size();
    const size_t element_offset = i;
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        // A raw line break inside a string is not JSON; as a line break it
        // would also split the element in two. A raw tab is just as invalid,
        // so stage 1 still refuses the element (with its own words) while it
        // stays one line.
        body.lines += (c == '\n' || c == '\r') ? '\t' : c;
        continue;
      }
      if (depth == 0 && (c == ',' || c == ']')) break;
      if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        --depth;
      }
      // Whitespace between tokens: a pretty-printed element becomes one line.
      body.lines += is_json_space(c) ? ' ' : c;
    }
    if (i >= text.size()) {
      return std::unexpected(not_an_array(
          i, in_string ? "a string does not end" : "the array (or an element) does not end"));
    }
    while (body.lines.size() > start && body.lines.back() == ' ') body.lines.pop_back();
    if (body.lines.size() == start)
      return std::unexpected(not_an_array(element_offset, "an empty element"));
    body.lines += '\n';
    ++body.elements;
    if (text[i] == ']') {
      ++i;
      break;
    }
    ++i;  // the ','
  }
  while (i < text.size() && is_json_space(text[i])) ++i;
  if (i != text.size()) return std::unexpected(not_an_array(i, "something after the array"));
  return body;
}

}  // namespace homeward::connectors::http
