// The load generator behind `homeward-bench gen`: a deterministic, realistic
// stream of NDJSON events in SPEC format, for the end-to-end benchmarks and
// for load tests.
//
// The stream opens every case first (most with a budget), then mixes about
// 85% donations (amounts skewed: many small, few large; cases picked with a
// Zipf skew, s = 1.1, so a few cases draw most of the money) with pledges that
// are later kept or cancelled, refunds (donor requests and chargebacks),
// disbursements within the funds available, goal changes and a few closes.
// About 0.5% of the lines are exact re-sends of an earlier line (stage 2
// counts them as duplicates) and about 0.5% are events that stage 2 must
// reject (a refund of an unknown donation, a disbursement over the funds
// available). The generator folds its own events as it goes, so every other
// event is one that stage 2 applies.
//
// Determinism: the same options give the same bytes. Randomness comes from
// std::mt19937_64 (fully specified by the standard) through the generator's
// own integer sampling, never through std:: distributions (whose output is
// implementation-defined). Only the Zipf table uses floating point (std::pow),
// and only to pick cases, never for an amount.
//
// Each call is independent and uses no shared state: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "events/error.h"
#include "events/event.h"

namespace homeward::bench {

struct GeneratorOptions {
  int64_t events = 1000;  // lines written, exactly
  int64_t cases = 0;      // cases opened; 0 picks events / 100 (at least 1)
  int64_t donors = 0;     // distinct donor refs to draw from; 0 picks events / 5 (at least 1)
  uint64_t seed = 1;
};

// What was written. `by_type` counts every line, duplicates included;
// `duplicates` and `expected_rejections` are the lines written to be counted
// as duplicates or rejected by stage 2 (a duplicate of a rejected line counts
// as a duplicate only).
struct GeneratorSummary {
  int64_t lines = 0;
  int64_t bytes = 0;       // newlines included
  int64_t wire_bytes = 0;  // sum of the FlatBuffers sizes (events::encode_event) of the lines
  std::array<int64_t, events::kEventTypeCount> by_type{};
  int64_t duplicates = 0;
  int64_t expected_rejections = 0;
  int64_t cases = 0;
  int64_t donors = 0;
  std::map<std::string, int64_t> cases_by_currency;  // ISO code -> cases
};

// Checks the options and resolves the automatic counts (cases, donors).
// kInvalidArgument when events < 1, cases > events, or a count is negative.
[[nodiscard]] Result<GeneratorOptions> resolve_options(const GeneratorOptions& options);

// Writes exactly `options.events` lines, each a canonical NDJSON event
// (events::format_event_json) followed by '\n'. kIo when the stream fails.
[[nodiscard]] Result<GeneratorSummary> generate(const GeneratorOptions& options, std::ostream& out);

}  // namespace homeward::bench
