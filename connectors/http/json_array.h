// A JSON array of events as NDJSON, for POST /v1/events with
// `Content-Type: application/json`: each element becomes one line, its bytes
// as sent (whitespace between tokens made single-line), so that stage 1
// (events/ndjson.h) checks exactly what the caller wrote, with the same
// refusals as `homeward publish`, and the element's 1-based index is its
// line number.
//
// Only the array's own structure is read here (brackets, commas, strings);
// whether each element is a well-formed event is stage 1's question, so an
// element that is not JSON is refused on its own line and the others go on.
// Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/error.h"

namespace homeward::connectors::http {

struct NdjsonBody {
  std::string lines;    // one element per line, each ending in '\n'
  size_t elements = 0;  // the number of lines
};

// kInvalidArgument when the text is not one JSON array (a missing bracket,
// an empty element, a string left open, something after the array), with
// the byte offset where reading stopped.
[[nodiscard]] Result<NdjsonBody> json_array_to_ndjson(std::string_view text);

}  // namespace homeward::connectors::http
