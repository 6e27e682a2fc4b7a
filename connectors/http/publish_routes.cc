// POST /v1/events (ledger_routes.h): publishing over HTTP, exactly as
// `homeward publish` does it (the same engine::Publisher, so the same stage-1
// checks and refusal words), with one result per event in input order.
//
// The answer is sent only after the publisher returned, and the publisher
// returns only once every batch it appended is durable (the embedded log's
// synced write, every Kafka delivery report): an `appended` answer is never
// lost. With wait=outcome the answer waits further, bounded by wait_ms, until
// the projector has committed each appended event, and carries its stage-2
// outcome: a portal that retries a request it never got an answer to is told
// `duplicate` for what was already recorded, and nothing is counted twice.
#include <algorithm>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <spanstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "connectors/http/json_array.h"
#include "connectors/http/ledger_routes.h"
#include "connectors/http/metrics.h"
#include "connectors/http/position.h"
#include "connectors/http/problem.h"
#include "connectors/http/route_params.h"
#include "engine/publisher.h"
#include "events/check.h"
#include "projections/read_models/event_outcomes.h"

namespace homeward::connectors::http {
namespace {

using nlohmann::ordered_json;

// What happened to one input event.
struct EventResult {
  enum class Kind { kAppended, kRefused, kFailed, kUnknown, kNotAppended };
  int64_t line = 0;
  Kind kind = Kind::kNotAppended;
  std::string case_id;                     // kAppended
  engine::LogPosition position{};          // kAppended
  std::string field;                       // kRefused
  std::string reason;                      // kRefused, kFailed, kUnknown
  std::optional<engine::Outcome> outcome;  // kAppended with wait=outcome, once known
};

std::string_view kind_name(EventResult::Kind kind) {
  switch (kind) {
    case EventResult::Kind::kAppended:
      return "appended";
    case EventResult::Kind::kRefused:
      return "refused";
    case EventResult::Kind::kFailed:
      return "failed";
    case EventResult::Kind::kUnknown:
      return "unknown";
    case EventResult::Kind::kNotAppended:
      return "not_appended";
  }
  return "unknown";
}

// The same rule as the publisher's: a line of only whitespace is not an event.
bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos;
}

// The 1-based numbers of the non-blank lines: the events the body carries.
// A leading byte order mark is not part of the first line (the publisher
// skips it too).
std::vector<int64_t> event_lines(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  std::vector<int64_t> lines;
  int64_t number = 0;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    ++number;
    if (!is_blank(body.substr(start, end - start))) lines.push_back(number);
    start = end + 1;
  }
  return lines;
}

// The media type without its parameters, in lower case.
std::string media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

struct PublishRun {
  std::vector<EventResult> results;  // in input order
  int64_t appended = 0;
  int64_t refused = 0;
  int64_t failed = 0;
  int64_t unknown = 0;
  bool atomic = false;
};

// A JSON string, escaped as the serializer of every other body escapes it
// (invalid UTF-8 replaced, json_body's handler).
void append_json_string(std::string& out, std::string_view text) {
  out +=
      ordered_json(std::string(text)).dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

// The results array as text, exactly what dumping one ordered_json object per
// result would give: written directly because building and dumping 1,000 such
// objects took about a millisecond of each request of 1,000 events
// (bench/README.md, "POST /v1/events").
void append_results(std::string& out, const PublishRun& run, bool with_outcomes) {
  out.reserve(out.size() + run.results.size() * 64);
  out += '[';
  bool first = true;
  for (const EventResult& r : run.results) {
    if (!first) out += ',';
    first = false;
    fmt::format_to(std::back_inserter(out), R"({{"line":{},"result":"{}")", r.line,
                   kind_name(r.kind));
    switch (r.kind) {
      case EventResult::Kind::kAppended:
        fmt::format_to(std::back_inserter(out), R"(,"position":"{}:{}")",
                       r.position.partition.value(), r.position.offset.value());
        if (with_outcomes) {
          if (r.outcome) {
            fmt::format_to(std::back_inserter(out), R"(,"outcome":"{}")",
                           projections::disposition_name(r.outcome->disposition));
            if (r.outcome->disposition == engine::Disposition::kRejected) {
              fmt::format_to(std::back_inserter(out), R"(,"rejection_reason":"{}")",
                             engine::to_string(r.outcome->reason));
            }
          } else {
            out += R"(,"outcome":"pending")";
          }
        }
        break;
      case EventResult::Kind::kRefused:
        // As `publish --json` writes it: empty when the line as a whole is
        // at fault.
        out += R"(,"field":)";
        append_json_string(out, r.field);
        out += R"(,"reason":)";
        append_json_string(out, r.reason);
        break;
      case EventResult::Kind::kFailed:
      case EventResult::Kind::kUnknown:
        out += R"(,"reason":)";
        append_json_string(out, r.reason);
        break;
      case EventResult::Kind::kNotAppended:
        break;
    }
    out += '}';
  }
  out += ']';
}

// The counts and the results, as the body's text (json_body's format: one
// line, a newline at the end).
std::string summary_text(const PublishRun& run, bool with_outcomes,
                         int64_t* pending_out = nullptr) {
  ordered_json summary = ordered_json::object();
  summary["appended"] = run.appended;
  summary["refused"] = run.refused;
  if (run.failed > 0) summary["failed"] = run.failed;
  if (run.unknown > 0) summary["unknown"] = run.unknown;
  int64_t pending = 0;
  if (with_outcomes) {
    for (const EventResult& r : run.results) {
      pending += r.kind == EventResult::Kind::kAppended && !r.outcome ? 1 : 0;
    }
    summary["pending"] = pending;
  }
  if (pending_out != nullptr) *pending_out = pending;
  // What to pass as min_position= to read these events' effects (the
  // position after the last appended record of each partition).
  engine::OffsetMap after;
  for (const EventResult& r : run.results) {
    if (r.kind != EventResult::Kind::kAppended) continue;
    Offset& next = after[r.position.partition];
    next = std::max(next, Offset(r.position.offset.value() + 1));
  }
  summary["min_position"] =
      after.empty() ? ordered_json(nullptr) : ordered_json(format_position(after));
  // The small head dumped as usual, then "results" in its place as the last
  // member.
  std::string text = summary.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  HOMEWARD_CHECK(text.size() >= 2 && text.back() == '}', "a JSON object ends with }");
  text.pop_back();
  text += R"(,"results":)";
  append_results(text, run, with_outcomes);
  text += "}\n";
  return text;
}

// The same as a document, for the problem answers that carry it (rare: read
// back from the text, so that there is one way of writing a result).
ordered_json summary_json(const PublishRun& run, bool with_outcomes) {
  return ordered_json::parse(summary_text(run, with_outcomes));
}

// The answer once the results (and outcomes, when asked) are known.
Response publish_answer(const PublishRun& run, bool with_outcomes) {
  if (run.unknown > 0) {
    // Sent, no answer from the log: publishing those events again with the
    // same event_id is safe (stage 2 counts a copy as a duplicate).
    return problem(504, "append-outcome-unknown", "The log did not say whether it took some events",
                   fmt::format("{} event(s) were sent to the log and not answered; publish them "
                               "again with the same event_id (a copy is counted once, as a "
                               "duplicate)",
                               run.unknown),
                   summary_json(run, with_outcomes));
  }
  if (run.failed > 0) {
    return problem(503, "log-unavailable", "The log did not take some events",
                   fmt::format("{} event(s) were not appended (the log's reason is in each "
                               "result); publishing them again is safe",
                               run.failed),
                   summary_json(run, with_outcomes));
  }
  if (run.refused > 0 && (run.atomic || run.appended == 0)) {
    return problem(422, "events-refused", "Events were refused",
                   run.atomic ? fmt::format("{} event(s) were refused; with atomic=true nothing "
                                            "was appended",
                                            run.refused)
                              : fmt::format("every event ({}) was refused", run.refused),
                   summary_json(run, with_outcomes));
  }
  Response response;
  int64_t pending = 0;
  response.body = summary_text(run, with_outcomes, &pending);
  if (with_outcomes && pending > 0) {
    // Durable, but not yet projected within wait_ms.
    response.status = 202;
  }
  return response;
}

// Keeps the outcome interest of a waiting publish until its answer is made
// (or the wait is dropped: the client went away, the server stops).
class OutcomeWait {
 public:
  OutcomeWait(LiveProjection& live, std::vector<engine::LogPosition> positions)
      : live_(live), positions_(std::move(positions)) {}
  ~OutcomeWait() { live_.forget(positions_); }
  OutcomeWait(const OutcomeWait&) = delete;
  OutcomeWait& operator=(const OutcomeWait&) = delete;

 private:
  LiveProjection& live_;
  std::vector<engine::LogPosition> positions_;
};

// Fills in the outcome of every appended result that the projections have
// committed: from the live projection's record of the round, or, for events
// folded before the interest was registered, from the store.
Status fill_outcomes(LedgerApi& api, PublishRun& run) {
  std::vector<projections::ProjectedEvent> from_store;
  std::vector<size_t> store_index;
  for (size_t i = 0; i < run.results.size(); ++i) {
    EventResult& r = run.results[i];
    if (r.kind != EventResult::Kind::kAppended || r.outcome) continue;
    r.outcome = api.live->outcome(r.position);
    if (r.outcome) continue;
    engine::OffsetMap at;
    at.emplace(r.position.partition, Offset(r.position.offset.value() + 1));
    if (!api.live->reached(at)) continue;  // still pending
    from_store.push_back({r.case_id, r.position.partition, r.position.offset});
    store_index.push_back(i);
  }
  if (from_store.empty()) return {};
  auto found = projections::find_outcomes(*api.store, from_store);
  if (!found) return std::unexpected(std::move(found.error()));
  for (size_t j = 0; j < store_index.size(); ++j) {
    run.results[store_index[j]].outcome = (*found)[j];
  }
  return {};
}

Reply publish(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {"atomic", "wait", "wait_ms"})) return *bad;
  std::optional<Response> error;
  const bool atomic = parse_bool(request, "atomic", false, error);
  if (error) return *error;
  bool with_outcomes = false;
  if (const auto wait = request.query_value("wait")) {
    if (*wait != "outcome" && *wait != "none") {
      return bad_parameter("wait", fmt::format("wait={}: must be outcome or none", *wait));
    }
    with_outcomes = *wait == "outcome";
  }
  const auto wait_ms = parse_wait_ms(request, api.default_wait, api.max_wait, error);
  if (error) return *error;

  // The body as NDJSON: as sent, or a JSON array's elements one per line.
  const std::string type = media_type(request.header("content-type"));
  std::string converted;
  std::string_view ndjson;
  if (type == "application/x-ndjson") {
    ndjson = request.body;
  } else if (type == "application/json") {
    auto lines = json_array_to_ndjson(request.body);
    if (!lines)
      return problem(400, "bad-body", "The body is not a JSON array", lines.error().message);
    converted = std::move(lines->lines);
    ndjson = converted;
  } else {
    return problem(415, "unsupported-media-type", "Unsupported media type",
                   fmt::format("POST /v1/events takes application/x-ndjson (one event per line) "
                               "or application/json (an array of events), not {}",
                               type.empty() ? std::string("a body without Content-Type") : type));
  }
  const std::vector<int64_t> lines = event_lines(ndjson);
  if (lines.empty()) {
    return problem(400, "no-events", "The body holds no event",
                   "send one event per line (application/x-ndjson) or an array of events "
                   "(application/json)");
  }
  if (lines.size() > api.max_events_per_request) {
    return problem(413, "too-many-events", "Too many events in one request",
                   fmt::format("the body holds {} events; one request takes at most {} (send "
                               "several requests)",
                               lines.size(), api.max_events_per_request),
                   {{"max_events", api.max_events_per_request}});
  }

  PublishRun run;
  run.atomic = atomic;
  run.results.resize(lines.size());
  // Line number -> index in results (lines is sorted).
  auto slot = [&](int64_t line) -> EventResult& {
    const auto it = std::lower_bound(lines.begin(), lines.end(), line);
    HOMEWARD_CHECK(it != lines.end() && *it == line, "the publisher answered a line not counted");
    return run.results[static_cast<size_t>(it - lines.begin())];
  };
  for (size_t i = 0; i < lines.size(); ++i) run.results[i].line = lines[i];

  engine::PublishOptions options;
  options.all_or_nothing = atomic;
  // One thread: the request is already on a worker, and requests are small
  // next to a CLI publish.
  options.parse_threads = 1;
  options.max_line_bytes = api.max_line_bytes;
  options.on_appended = [&](int64_t line, std::string_view case_id,
                            const engine::LogPosition& position) {
    EventResult& r = slot(line);
    r.kind = EventResult::Kind::kAppended;
    r.case_id = std::string(case_id);
    r.position = position;
  };
  Result<engine::PublishReport> report;
  {
    // Read in place: the body is not copied (twice, into a string and a stringbuf).
    std::ispanstream input{std::span<const char>(ndjson.data(), ndjson.size())};
    // One publish at a time: the appender is used by one thread.
    std::lock_guard lock(api.publish_mutex);
    engine::Publisher publisher(*api.appender, options);
    report = publisher.publish_ndjson(input);
  }
  if (!report) {
    return problem(500, "internal", "Publishing failed", report.error().message);
  }
  for (const engine::Refusal& refusal : report->refused) {
    EventResult& r = slot(refusal.line);
    r.kind = EventResult::Kind::kRefused;
    r.field = refusal.field;
    r.reason = refusal.reason;
  }
  for (const engine::AppendFailure& failure : report->failed) {
    EventResult& r = slot(failure.line);
    r.kind = EventResult::Kind::kFailed;
    r.reason = failure.reason;
  }
  for (const engine::AppendFailure& failure : report->unknown) {
    EventResult& r = slot(failure.line);
    r.kind = EventResult::Kind::kUnknown;
    r.reason = failure.reason;
  }
  run.appended = report->appended;
  run.refused = report->refused_count;
  run.failed = static_cast<int64_t>(report->failed.size());
  run.unknown = static_cast<int64_t>(report->unknown.size());
  HOMEWARD_CHECK(
      run.appended + run.refused + run.failed + run.unknown <= static_cast<int64_t>(lines.size()),
      "the publisher answered more lines than the body holds");
  if (api.metrics != nullptr) api.metrics->published(run.appended, run.refused);
  // The follow loop projects the new records now rather than at its next poll.
  if (run.appended > 0) api.live->wake_follower();
  if (!with_outcomes || run.appended == 0) return publish_answer(run, with_outcomes);

  // wait=outcome: register interest, then wait until the projections reach
  // every appended record.
  std::vector<engine::LogPosition> positions;
  engine::OffsetMap target;
  for (const EventResult& r : run.results) {
    if (r.kind != EventResult::Kind::kAppended) continue;
    positions.push_back(r.position);
    Offset& next = target[r.position.partition];
    next = std::max(next, Offset(r.position.offset.value() + 1));
  }
  // Records already folded before this call are read from the store later
  // (fill_outcomes); the rest are recorded by the follow loop as it folds.
  [[maybe_unused]] const auto already = api.live->expect(positions);
  auto wait = std::make_shared<OutcomeWait>(*api.live, positions);
  auto shared_run = std::make_shared<PublishRun>(std::move(run));
  api.live->wake_follower();
  return DeferredReply{
      [&api, target] { return api.live->reached(target); }, Clock::now() + *wait_ms,
      [&api, wait, shared_run](bool) -> Reply {
        if (auto filled = fill_outcomes(api, *shared_run); !filled) {
          // The events are appended and durable: the
          // answer says so beside the server's failure.
          return problem(500, "store-failure", "The projections could not be read",
                         fmt::format("the events were appended (see results); their "
                                     "outcomes could not be read: {}",
                                     filled.error().message),
                         summary_json(*shared_run, true));
        }
        return publish_answer(*shared_run, true);
      }};
}

}  // namespace

void add_publish_routes(Router& router, LedgerApi& api) {
  router.add({"POST", "/v1/events", Access::kPublish, Execution::kWorker,
              [&api](Request& r) -> Reply { return publish(api, r); }});
}

}  // namespace homeward::connectors::http
