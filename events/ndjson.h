// NDJSON, the import/export form of events (SPEC sections 3 and 4, stage 1).
//
// `parse_event_json` applies every stateless check of stage 1 to one line and
// returns either a checked Event or a refusal naming the field and the reason.
// Unknown fields, duplicate fields, amounts that are not JSON strings and
// budgets whose sum differs from the goal are all refused.
// `format_event_json` writes the canonical line that parses back to the same
// Event. Thread-safe: each call uses its own parser state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/error.h"
#include "events/event.h"

namespace homeward::events {

// Why one line was refused. `field` is the JSON field ("amount",
// "budget[1].category"), or empty when the line as a whole is at fault (not
// JSON, not an object).
struct FieldError {
  std::string field;
  std::string reason;
};

[[nodiscard]] std::expected<Event, FieldError> parse_event_json(std::string_view line);

// One JSON object, no trailing newline. Amounts are strings with exactly the
// currency's exponent digits, timestamps in canonical UTC form, a budget with
// `goal` beside it.
[[nodiscard]] std::string format_event_json(const Event& event);

}  // namespace homeward::events
