// The publisher (see publisher.h): stage-1 checks, encode, append in batches.
#include "engine/publisher.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "events/check.h"
#include "events/codec.h"
#include "events/ndjson.h"

namespace homeward::engine {
namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos;
}

// Records waiting to be appended, with the input line each came from.
struct PendingBatch {
  std::vector<AppendRequest> requests;
  std::vector<int64_t> lines;

  void add(const events::Event& event, int64_t line) {
    requests.push_back(AppendRequest{event.case_id, events::encode_event(event), event.type()});
    lines.push_back(line);
  }
  [[nodiscard]] size_t size() const { return requests.size(); }
  void clear() {
    requests.clear();
    lines.clear();
  }
};

// Appends `pending` (in order) and gives every record its answer in
// `report`. A failure of the whole call fails each of its records: the
// caller learns the reason per line and the remaining batches are still
// tried, since a log that was briefly unreachable may take them.
void append_batch(EventLogAppender& log, PendingBatch& pending, PublishReport& report) {
  if (pending.size() == 0) return;
  auto results = log.append(pending.requests);
  if (!results) {
    for (const int64_t line : pending.lines) {
      report.failed.push_back(AppendFailure{line, results.error().message});
    }
    pending.clear();
    return;
  }
  HOMEWARD_CHECK(results->size() == pending.size(),
                 "the log answered a different number of records than it was given");
  for (size_t i = 0; i < results->size(); ++i) {
    const Result<LogPosition>& result = (*results)[i];
    if (result) {
      ++report.appended;
    } else {
      report.failed.push_back(AppendFailure{pending.lines[i], result.error().message});
    }
  }
  pending.clear();
}

// The field a codec error names ("amount: 0 is below ..."), or empty when
// the message does not start with a field.
std::string field_of(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view field = message.substr(0, colon);
  if (field.find_first_of(" \t") != std::string_view::npos) return {};
  return std::string(field);
}

}  // namespace

Publisher::Publisher(EventLogAppender& log, PublishOptions options) : log_(log), options_(options) {
  HOMEWARD_CHECK(!options_.batch_events_max || *options_.batch_events_max > 0,
                 "batch_events_max must be positive");
}

size_t Publisher::batch_events_max() const {
  return std::max<size_t>(options_.batch_events_max.value_or(log_.preferred_batch_events()), 1);
}

Result<PublishReport> Publisher::publish_ndjson(std::istream& input,
                                                const PublishProgressCallback& progress) {
  PublishReport report;
  const size_t batch_max = batch_events_max();
  PendingBatch pending;
  pending.requests.reserve(batch_max);
  pending.lines.reserve(batch_max);
  // With all_or_nothing nothing may be appended before the last line is
  // checked, so the good lines wait here (already encoded) until then.
  std::vector<PendingBatch> held;

  auto flush = [&](PendingBatch& batch) {
    append_batch(log_, batch, report);
    if (progress) progress(PublishProgress{report.lines_read, report.appended});
  };

  std::string line;
  int64_t line_number = 0;
  while (std::getline(input, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_blank(line)) continue;
    ++report.lines_read;
    auto event = events::parse_event_json(line);
    if (!event) {
      report.refused.push_back(
          Refusal{line_number, std::move(event.error().field), std::move(event.error().reason)});
      continue;
    }
    pending.add(*event, line_number);
    if (pending.size() >= batch_max) {
      if (options_.all_or_nothing) {
        held.push_back(std::move(pending));
        pending = PendingBatch{};
      } else {
        flush(pending);
      }
    }
  }
  if (input.bad()) {
    return make_error(ErrorCode::kIo,
                      fmt::format("publish: reading the input failed after line {}", line_number));
  }

  if (options_.all_or_nothing) {
    if (!report.refused.empty()) return report;  // nothing appended
    for (PendingBatch& batch : held) flush(batch);
  }
  if (pending.size() > 0) flush(pending);
  return report;
}

Result<PublishReport> Publisher::publish_events(std::span<const events::Event> events) {
  PublishReport report;
  report.lines_read = static_cast<int64_t>(events.size());
  const size_t batch_max = batch_events_max();
  std::vector<PendingBatch> batches(1);
  for (size_t i = 0; i < events.size(); ++i) {
    const auto line = static_cast<int64_t>(i) + 1;
    std::string bytes = events::encode_event(events[i]);
    // An Event built in C++ has not necessarily passed stage 1 (a caller can
    // put any value in its fields); the decoder runs every stage-1 check on
    // exactly the bytes that would be appended.
    if (auto checked = events::decode_event(bytes); !checked) {
      report.refused.push_back(
          Refusal{line, field_of(checked.error().message), checked.error().message});
      continue;
    }
    if (batches.back().size() >= batch_max) batches.emplace_back();
    batches.back().requests.push_back(
        AppendRequest{events[i].case_id, std::move(bytes), events[i].type()});
    batches.back().lines.push_back(line);
  }
  if (options_.all_or_nothing && !report.refused.empty()) return report;
  for (PendingBatch& batch : batches) append_batch(log_, batch, report);
  return report;
}

}  // namespace homeward::engine
