// Internal to the CLI: `publish --wait`, the stage-2 answer for each line a
// publish appended (SPEC section 4): `applied`, `duplicate`, or `rejected`
// with the SPEC reason code.
//
// The publish collects where the log put each appended line
// (engine::PublishOptions::on_appended), the projections are then brought up
// to the end of the log, and each line's outcome is read back from the store
// by projections::find_outcomes, the lookup that the HTTP API's
// `POST /v1/events?wait=outcome` uses too, so both say the same for the same
// event. Nothing here decides an outcome: the projector did, with the ledger
// rules. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/log_access.h"
#include "engine/publisher.h"
#include "engine/rules.h"
#include "events/error.h"
#include "projections/read_models/event_outcomes.h"

namespace homeward::connectors::cli {

// The lines a publish appended, in input order, and where the log holds them.
class AppendedLines {
 public:
  // Sets options.on_appended to record into this object (which must outlive
  // the publish).
  void attach(engine::PublishOptions& options);

  [[nodiscard]] size_t size() const { return lines_.size(); }
  [[nodiscard]] int64_t line(size_t i) const { return lines_[i]; }
  [[nodiscard]] const std::vector<projections::ProjectedEvent>& events() const { return events_; }

 private:
  std::vector<int64_t> lines_;                       // input line numbers
  std::vector<projections::ProjectedEvent> events_;  // same index as lines_
};

// How many appended lines came to each outcome (rejections also by reason).
struct OutcomeTotals {
  int64_t applied = 0;
  int64_t duplicate = 0;
  int64_t rejected = 0;
  std::map<std::string, int64_t> rejected_by_reason;  // SPEC reason code -> count
};

struct LineOutcomes {
  // Same index as AppendedLines; every entry set (find_outcomes' nullopt,
  // an appended event the projections do not hold, is an error of
  // wait_for_outcomes instead).
  std::vector<engine::Outcome> outcomes;
  OutcomeTotals totals;
};

// Brings the projections of the data directory up to the end of `log`
// (drawing a progress line on a terminal) and reads the outcome of every
// appended line. An appended line the projections do not hold afterwards is
// a kInternal error naming it: the publisher said the log took it, so the
// projector must have handled it.
[[nodiscard]] Result<LineOutcomes> wait_for_outcomes(LogHandle& log, const AppendedLines& appended,
                                                     const CommandContext& context);

// `line L: applied`, `line L: duplicate`, `line L: rejected: REASON` for
// each appended line, then `applied A, duplicate D, rejected R` (with
// ` (REASON N, ...)` when any was rejected), on stdout.
void print_outcomes(const AppendedLines& appended, const LineOutcomes& outcomes,
                    const CommandContext& context);

// One element of `outcomes` in `publish --wait --json`:
// {"line", "case_id", "position": "P:O", "outcome"[, "rejection_reason"]}
// (the fields and words of POST /v1/events?wait=outcome's results).
[[nodiscard]] nlohmann::ordered_json outcome_json(const AppendedLines& appended, size_t i,
                                                  const engine::Outcome& outcome);

// {"applied", "duplicate", "rejected", "rejected_by_reason": {REASON: N}}.
[[nodiscard]] nlohmann::ordered_json outcome_totals_json(const OutcomeTotals& totals);

}  // namespace homeward::connectors::cli
