#include "connectors/cli/publish_wait.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/core.h>

namespace homeward::connectors::cli {

void AppendedLines::attach(engine::PublishOptions& options) {
  options.on_appended = [this](int64_t line, std::string_view case_id,
                               const engine::LogPosition& position) {
    lines_.push_back(line);
    events_.push_back({std::string(case_id), position.partition, position.offset});
  };
}

namespace {

// How long `publish --wait` waits for another process (serve, project)
// that writes the projections to reach the appended lines.
constexpr std::chrono::seconds kOtherProjectorWait{60};
constexpr std::chrono::milliseconds kOtherProjectorPoll{100};

Result<std::vector<std::optional<engine::Outcome>>> find_in(
    projections::RocksProjectionStore& store, const AppendedLines& appended) {
  auto found = projections::find_outcomes(store, appended.events());
  if (!found) {
    return std::unexpected(Error{
        found.error().code,
        fmt::format("cannot read the outcomes of the appended lines: {}", found.error().message)});
  }
  return found;
}

bool all_found(const std::vector<std::optional<engine::Outcome>>& found) {
  return std::all_of(found.begin(), found.end(), [](const auto& o) { return o.has_value(); });
}

// This process projects the rest itself when no other process writes the
// projections: the appended records are in the log (the publisher returned
// once each batch was durable), so once the catch-up reached the end of the
// log, the store holds every one of them. When another process writes them
// (serve, project), it reads beside that writer until the lines are there.
Result<std::vector<std::optional<engine::Outcome>>> project_and_find(
    LogHandle& log, const AppendedLines& appended, const CommandContext& context) {
  auto store = open_store_writer(log, context);
  if (store) {
    if (auto caught_up = catch_up(log, **store, context); !caught_up) {
      return std::unexpected(caught_up.error());
    }
    return find_in(**store, appended);
  }
  if (store.error().code != ErrorCode::kBusy) return std::unexpected(store.error());
  const auto give_up = std::chrono::steady_clock::now() + kOtherProjectorWait;
  for (;;) {
    auto reader = open_store_reader(log, context);
    if (!reader) return std::unexpected(reader.error());
    if (*reader) {
      auto found = find_in(**reader, appended);
      if (!found || all_found(*found)) return found;
    }
    if (std::chrono::steady_clock::now() >= give_up) {
      return make_error(ErrorCode::kBusy,
                        fmt::format("the appended lines are in the log, but {} did not project "
                                    "them within {} s ({}); their outcomes will be in "
                                    "`homeward rejections` and the case figures once it has",
                                    "the process writing the projections",
                                    kOtherProjectorWait.count(), store.error().message));
    }
    std::this_thread::sleep_for(kOtherProjectorPoll);
  }
}

}  // namespace

Result<LineOutcomes> wait_for_outcomes(LogHandle& log, const AppendedLines& appended,
                                       const CommandContext& context) {
  LineOutcomes result;
  if (appended.size() == 0) return result;
  auto found = project_and_find(log, appended, context);
  if (!found) return std::unexpected(found.error());
  result.outcomes.reserve(found->size());
  for (size_t i = 0; i < found->size(); ++i) {
    const std::optional<engine::Outcome>& outcome = (*found)[i];
    if (!outcome) {
      const projections::ProjectedEvent& event = appended.events()[i];
      return std::unexpected(
          Error{ErrorCode::kInternal,
                fmt::format("line {} was appended at {}:{} (case {}), but the projections of {} do "
                            "not hold it after projecting to the end of the log",
                            appended.line(i), event.partition.value(), event.offset.value(),
                            event.case_id, log.describe())});
    }
    switch (outcome->disposition) {
      case engine::Disposition::kApplied:
        ++result.totals.applied;
        break;
      case engine::Disposition::kDuplicate:
        ++result.totals.duplicate;
        break;
      case engine::Disposition::kRejected:
        ++result.totals.rejected;
        ++result.totals.rejected_by_reason[std::string(engine::to_string(outcome->reason))];
        break;
    }
    result.outcomes.push_back(*outcome);
  }
  return result;
}

void print_outcomes(const AppendedLines& appended, const LineOutcomes& outcomes,
                    const CommandContext& context) {
  for (size_t i = 0; i < outcomes.outcomes.size(); ++i) {
    const engine::Outcome& outcome = outcomes.outcomes[i];
    if (outcome.disposition == engine::Disposition::kRejected) {
      context.out << fmt::format("line {}: rejected: {}\n", appended.line(i),
                                 engine::to_string(outcome.reason));
    } else {
      context.out << fmt::format("line {}: {}\n", appended.line(i),
                                 projections::disposition_name(outcome.disposition));
    }
  }
  const OutcomeTotals& totals = outcomes.totals;
  std::string summary = fmt::format("applied {}, duplicate {}, rejected {}", totals.applied,
                                    totals.duplicate, totals.rejected);
  if (!totals.rejected_by_reason.empty()) {
    std::string reasons;
    for (const auto& [reason, count] : totals.rejected_by_reason) {
      if (!reasons.empty()) reasons += ", ";
      reasons += fmt::format("{} {}", reason, count);
    }
    summary += fmt::format(" ({})", reasons);
  }
  context.out << summary << '\n';
}

nlohmann::ordered_json outcome_json(const AppendedLines& appended, size_t i,
                                    const engine::Outcome& outcome) {
  const projections::ProjectedEvent& event = appended.events()[i];
  nlohmann::ordered_json item = nlohmann::ordered_json::object();
  item["line"] = appended.line(i);
  item["case_id"] = event.case_id;
  item["position"] = fmt::format("{}:{}", event.partition.value(), event.offset.value());
  item["outcome"] = std::string(projections::disposition_name(outcome.disposition));
  if (outcome.disposition == engine::Disposition::kRejected) {
    item["rejection_reason"] = std::string(engine::to_string(outcome.reason));
  }
  return item;
}

nlohmann::ordered_json outcome_totals_json(const OutcomeTotals& totals) {
  nlohmann::ordered_json by_reason = nlohmann::ordered_json::object();
  for (const auto& [reason, count] : totals.rejected_by_reason) by_reason[reason] = count;
  return {{"applied", totals.applied},
          {"duplicate", totals.duplicate},
          {"rejected", totals.rejected},
          {"rejected_by_reason", std::move(by_reason)}};
}

}  // namespace homeward::connectors::cli
