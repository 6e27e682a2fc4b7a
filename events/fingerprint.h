// A 128-bit fingerprint of an event's full content, used by the duplicate
// rule of SPEC section 4: two events with the same id are "identical" when
// their fingerprints match. It is computed over a canonical serialization of
// every field of the Event value (not over the bytes as received), so two
// producers that encode the same event differently still match. XXH3-128: the
// chance that two different events collide is about 2^-128.
#pragma once

#include <array>
#include <cstdint>

#include "events/event.h"

namespace homeward::events {

using Fingerprint = std::array<uint8_t, 16>;

[[nodiscard]] Fingerprint fingerprint(const Event& event);

}  // namespace homeward::events
