// The wire form of events: FlatBuffers bytes of schema/homeward_event.fbs.
//
// Every byte string that is read goes through the FlatBuffers verifier and
// then through the same value checks as stage 1 (identifiers, currency, amount
// range, enum ranges, budget sum, free-text length). Bytes that fail either
// are malformed: `decode_event` says why and never trusts them. Encoding is
// deterministic: the same Event always gives the same bytes. Thread-safe (no
// shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/error.h"
#include "events/event.h"

namespace homeward::events {

// Bumped when the schema changes in a way readers must know about; written in
// every event and in the Kafka header `homeward.schema_version`.
inline constexpr uint16_t kSchemaVersion = 1;
// The FlatBuffers file identifier of an event buffer.
inline constexpr std::string_view kFileIdentifier = "HWEV";

// Appends the encoded bytes of `event` to nothing else: returns a fresh buffer.
[[nodiscard]] std::string encode_event(const Event& event);

// Verifies and decodes. Errors have code kCorruption and a message naming the
// failing field, e.g. "amount: 0 is below the minimum of 1 minor unit".
[[nodiscard]] Result<Event> decode_event(std::string_view bytes);

// What could be read of a malformed record, for the rejection list: the ids
// are filled when the buffer verified and they are valid identifiers.
struct PartialIdentity {
  std::optional<std::string> case_id;
  std::optional<std::string> event_id;
  std::optional<EventType> type;
};
[[nodiscard]] PartialIdentity peek_identity(std::string_view bytes);

}  // namespace homeward::events
