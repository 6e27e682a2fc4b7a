// The wire form of events: FlatBuffers bytes of schema/homeward_event.fbs.
//
// Every byte string that is read goes through the FlatBuffers verifier and
// then through the same value checks as stage 1 (identifiers, currency, amount
// range, enum ranges, budget sum, free-text length). Bytes that fail either
// are malformed: `decode_event` says why and never trusts them. Encoding is
// deterministic: the same Event always gives the same bytes. Thread-safe (no
// shared state).
#pragma once

#include <cstddef>
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

// Limits of the verifier, fitted to the schema, so that bytes from anyone cost
// a bounded amount of work (docs/design.md, "Limits"):
// - an event record is at most 1 MiB (a valid event encodes to a few KiB; an
//   NDJSON line, its other form, is at most 1 MiB too);
// - tables nest 3 deep (Event, its body, a budget line) and there are at most
//   2 + 8 of them (Event, body, at most one budget line per category): the
//   schema has no recursion, and a budget with more lines than categories
//   repeats one.
inline constexpr size_t kMaxRecordBytes = size_t{1} << 20;
inline constexpr unsigned kVerifierMaxDepth = 3;
inline constexpr unsigned kVerifierMaxTables = 2 + kCategoryCount;

// Appends the encoded bytes of `event` to nothing else: returns a fresh buffer.
[[nodiscard]] std::string encode_event(const Event& event);

// Verifies and decodes. Errors have code kCorruption and a message naming the
// failing field, e.g. "amount: 0 is below the minimum of 1 minor unit".
[[nodiscard]] Result<Event> decode_event(std::string_view bytes);

// Decodes a record of the log: its value as `decode_event` does, and then its
// key, which must be the event's case_id. SPEC principle 2 rests on each
// case living in one partition, and Kafka places a record by its key: a
// record keyed otherwise (or not at all) may sit in another partition than
// its case's other events, where its order among them is lost. A record
// without a key is refused on the embedded log too (one partition, so no
// order is at stake there), so that one rule holds for every log and a log
// copied from one to the other cannot change its figures (docs/design.md).
[[nodiscard]] Result<Event> decode_record(std::string_view key, std::string_view value);

// What could be read of a malformed record, for the rejection list: the ids
// are filled when the buffer verified and they are valid identifiers.
struct PartialIdentity {
  std::optional<std::string> case_id;
  std::optional<std::string> event_id;
  std::optional<EventType> type;
};
[[nodiscard]] PartialIdentity peek_identity(std::string_view bytes);

}  // namespace homeward::events
