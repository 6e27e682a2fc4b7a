// The publisher: stage-1 checks, then append (SPEC section 4).
//
// It turns NDJSON lines (or Event values from the C++ API) into FlatBuffers
// records keyed by case_id and appends them through the EventLogAppender in
// batches. Every input line gets exactly one answer: appended, refused (line,
// field, reason), failed to append (the log's reason; not in the log), or
// unknown (sent, and the log could not say whether it took it).
//
// `publish_ndjson` reads, checks and encodes lines on `parse_threads` threads
// of its own, a bounded window of chunks ahead of the caller's thread, which
// takes the results in input order, appends them (pipelined: the next batch
// is handed to the log before the previous one is durable) and calls the
// progress callback. The report, the records and their order in the log are
// exactly those of one thread doing it all, whatever the thread count. A
// Publisher is used by one thread at a time; the input stream belongs to it
// until publish_ndjson returns.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event_log.h"
#include "events/error.h"
#include "events/event.h"
#include "events/line_reader.h"

namespace homeward::engine {

struct Refusal;  // below: its line, field and reason

struct PublishOptions {
  // Records per append; unset: the log's preferred_batch_events().
  std::optional<size_t> batch_events_max = std::nullopt;
  // An append also ends once its records hold this many bytes, so that large
  // events keep a batch's memory bounded.
  size_t batch_bytes_max = size_t{64} << 20;
  // Refuse the whole input when any line is refused (nothing is appended).
  bool all_or_nothing = false;
  // Threads that read, check and encode lines for publish_ndjson; 0: one per
  // core, at most kMaxParseThreads. 1 parses on the caller's thread.
  size_t parse_threads = 0;
  static constexpr size_t kMaxParseThreads = 4;
  // The most bytes one input line may hold (events/line_reader.h): a longer
  // line is refused with its number and read past without being held; input
  // with no newline within a further events::kMaxLineSkipBytes is not NDJSON,
  // and reading stops there (that line's refusal says so).
  size_t max_line_bytes = events::kMaxLineBytes;
  // Called with every refusal, in input order, on the caller's thread, as
  // soon as the line's turn comes (about a chunk of 1,024 lines after it was
  // read), so that a caller can pass it on while the publish goes on. When
  // set, refusals are counted in PublishReport::refused_count but not kept
  // in PublishReport::refused: memory then stays bounded however many lines
  // are refused (1M refused lines held took 162 MB). An exception from it
  // reaches the caller of publish_ndjson / publish_events after the batches
  // already started are finished.
  std::function<void(const Refusal&)> on_refusal = {};
  // Called with every line the log took, its case (the record's key) and
  // where the log holds it, in input order, on the caller's thread, once its
  // batch is durable. Callers that
  // answer per line (the HTTP API's POST /v1/events) or wait for the stage-2
  // outcome (publish --wait) take the positions here; the report counts them
  // in `appended` either way.
  std::function<void(int64_t line, std::string_view case_id, const LogPosition& position)>
      on_appended = {};
  // publish_ndjson: the lines before this one (1-based) are skipped unread
  // as events, so that an interrupted publish goes on where it stopped
  // (PublishReport::next_line). Line numbers in the report stay those of the
  // whole input.
  int64_t first_line = 1;
  // publish_ndjson: asked on the caller's thread before each chunk of lines
  // is handled; once it returns true, no further line is handled, the batch
  // being built and those in flight are appended and finished, and the
  // report says where to go on (interrupted, next_line). Unset: never stops.
  // The predicate must stay true once it was (a stop is not taken back).
  std::function<bool()> stop_requested = {};
};

struct Refusal {
  int64_t line = 0;   // 1-based line number in the input
  std::string field;  // empty when the line as a whole is at fault
  std::string reason;
};

struct AppendFailure {
  int64_t line = 0;
  std::string reason;  // from the log (broker error, I/O error)
  // The log's error code: kNoSpace when the disk is full, which the CLI
  // says in words and with where to go on from.
  ErrorCode code = ErrorCode::kIo;
};

struct PublishReport {
  int64_t lines_read = 0;  // non-blank lines
  int64_t appended = 0;
  int64_t refused_count = 0;          // every refused line
  std::vector<Refusal> refused;       // each one, in input order, unless on_refusal took them
  std::vector<AppendFailure> failed;  // not in the log: publishing the line again is safe
  // Sent, with no answer (a Kafka delivery that timed out): the record may be
  // in the log or not. Publish the line again with the same event_id: stage
  // 2 counts an event once, a copy is a `duplicate` (SPEC section 4). Never
  // reported as failed, since a caller that believes a failure might resend
  // under a new event_id and count the money twice.
  std::vector<AppendFailure> unknown;
  // The line number of the last appended record; 0 when none was.
  int64_t last_appended_line = 0;
  // True when stop_requested ended the publish before the end of the input.
  bool interrupted = false;
  // The first line that got no answer (publish_ndjson): every line before it
  // and from first_line on was appended, refused, failed or unknown, none
  // after it was. Publishing the same input again with first_line =
  // next_line gives the log exactly what one uninterrupted publish would
  // have (lines unknown before it are published again on their own, as
  // always). After a complete publish: one past the input's last line. With
  // all_or_nothing, an interrupted publish appends nothing, so next_line is
  // first_line.
  int64_t next_line = 0;
};

struct PublishProgress {
  int64_t lines_read = 0;
  int64_t appended = 0;
};
using PublishProgressCallback = std::function<void(const PublishProgress&)>;

class Publisher {
 public:
  explicit Publisher(EventLogAppender& log, PublishOptions options = {});

  // Reads NDJSON from `input` to its end. Blank lines are skipped (they are
  // not events); a trailing '\r' is ignored; a line longer than
  // `max_line_bytes` is refused. The outer error is for a failure
  // to read the input; per-line results are in the report.
  [[nodiscard]] Result<PublishReport> publish_ndjson(std::istream& input,
                                                     const PublishProgressCallback& progress = {});

  // The library API: events that are already checked values. Line numbers in
  // the report are 1-based indexes into `events`.
  [[nodiscard]] Result<PublishReport> publish_events(std::span<const events::Event> events);

 private:
  [[nodiscard]] size_t batch_events_max() const;
  // Counts `refusal` and hands it to on_refusal, or keeps it in the report.
  void refuse(Refusal refusal, PublishReport& report) const;

  EventLogAppender& log_;
  PublishOptions options_;
};

}  // namespace homeward::engine
