// Fuzz target: the FlatBuffers decode path of a log record (issue 14 item 2):
// `events::decode_event` (the verifier, then stage 1's value checks) and
// `events::peek_identity`, on bytes anyone who can write to the topic could
// send (DESIGN decision 4).
//
// Any bytes either are refused (kCorruption, with a message) or give an Event
// that re-encodes to bytes decoding to the same Event, and whose NDJSON form
// passes NDJSON stage 1 as the same Event: the wire never accepts what
// publishing would refuse. peek_identity only reports valid identifiers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/codec.h"
#include "events/identifier.h"
#include "events/ndjson.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace homeward;
  using namespace homeward::events;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const PartialIdentity identity = peek_identity(bytes);
  FUZZ_CHECK(!identity.case_id || is_valid_identifier(*identity.case_id),
             "peek_identity reported an invalid case_id");
  FUZZ_CHECK(!identity.event_id || is_valid_identifier(*identity.event_id),
             "peek_identity reported an invalid event_id");
  auto decoded = decode_event(bytes);
  if (!decoded) {
    FUZZ_CHECK(decoded.error().code == ErrorCode::kCorruption && !decoded.error().message.empty(),
               "a refusal must be kCorruption with a message");
    return 0;
  }
  FUZZ_CHECK(identity.case_id == decoded->case_id && identity.event_id == decoded->event_id &&
                 identity.type == decoded->type(),
             "peek_identity disagrees with decode_event");
  const std::string again = encode_event(*decoded);
  auto redecoded = decode_event(again);
  FUZZ_CHECK(redecoded.has_value() && *redecoded == *decoded,
             "re-encoding a decoded event changes it");
  const std::string line = format_event_json(*decoded);
  auto parsed = parse_event_json(line);
  FUZZ_CHECK(parsed.has_value(), "the wire accepted what NDJSON stage 1 refuses: %s: %s\n  %s",
             parsed ? "" : parsed.error().field.c_str(),
             parsed ? "" : parsed.error().reason.c_str(), line.c_str());
  FUZZ_CHECK(*parsed == *decoded, "the NDJSON form of a decoded event parses to another event");
  return 0;
}
