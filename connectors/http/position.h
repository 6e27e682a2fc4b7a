// Positions in the log as the HTTP API writes and reads them: for each
// partition, the offset of the first record not yet included, as
// `PARTITION:OFFSET` pairs joined by commas in partition order ("0:1042" for
// the embedded log, "0:17,1:9,2:30" for a Kafka topic). A position P is
// reached by the projections when, for every partition in P, they have
// projected every record below P's offset. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/event_log.h"
#include "engine/projection_store.h"

namespace homeward::connectors::http {

[[nodiscard]] std::string format_position(const engine::OffsetMap& position);
// nullopt when the text is not a position (empty, bad numbers, a partition twice).
[[nodiscard]] std::optional<engine::OffsetMap> parse_position(std::string_view text);
// Every partition of `wanted` is at or past its offset in `at`.
[[nodiscard]] bool position_reached(const engine::OffsetMap& at, const engine::OffsetMap& wanted);
[[nodiscard]] engine::OffsetMap position_of(const engine::Checkpoints& checkpoints);

}  // namespace homeward::connectors::http
