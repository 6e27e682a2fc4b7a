// A 128-bit fingerprint of an event's full content, used by the duplicate
// rule of SPEC section 4: two events with the same id are "identical" when
// their fingerprints match. It is computed over a canonical serialization of
// every field of the Event value (not over the bytes as received), so two
// producers that encode the same event differently still match.
//
// The first 16 bytes of a SHA-256, a cryptographic hash: anyone who can
// write to a Kafka topic could otherwise craft an event whose fingerprint
// equals a genuine one's, and turn the visible conflicting_duplicate it would
// be into a silent duplicate. Finding an event that matches a given one
// takes about 2^128 tries. Thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "events/event.h"

namespace homeward::events {

using Fingerprint = std::array<uint8_t, 16>;

[[nodiscard]] Fingerprint fingerprint(const Event& event);

}  // namespace homeward::events
