// The publisher (see publisher.h): stage-1 checks, encode, append in batches.
//
// publish_ndjson is a pipeline of three steps:
//   1. read: lines are cut from the input in chunks, in input order, by
//      whichever parsing thread holds the input (the only serial part);
//   2. check and encode: each chunk's lines on the thread that read it, since
//      lines are independent of each other;
//   3. append: the caller's thread takes the chunks in input order, gives
//      every line its answer in that order, builds the batches and appends
//      them, one batch in flight while the next is built.
// Step 3 sees exactly the sequence of per-line results a single thread would
// produce, so the report, the batches and the log do not depend on how many
// threads parse or on how they are scheduled.
#include "engine/publisher.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "events/check.h"
#include "events/codec.h"
#include "events/line_reader.h"
#include "events/ndjson.h"

namespace homeward::engine {
namespace {

// A chunk ends after this many lines or once it holds this many bytes: small
// enough that the parsing threads share the work evenly and start early,
// large enough that handing chunks over costs nothing measurable.
constexpr size_t kChunkLines = 1'024;
constexpr size_t kChunkBytes = size_t{256} << 10;
// The parsing threads stop reading ahead when the chunks not yet taken by
// the caller's thread hold this many bytes of input (memory stays bounded
// whatever the line sizes), or once they hold about one batch more than the
// caller is appending.
constexpr size_t kWindowBytesMax = size_t{64} << 20;
// Batches handed to the log and not yet finished: one being made durable
// while the next is handed over.
constexpr size_t kAppendsInFlight = 2;

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos;
}

// The answer to one non-blank input line, before it is appended.
struct LineResult {
  int64_t line = 0;
  bool refused = false;
  AppendRequest request;  // when not refused
  Refusal refusal;        // when refused
};

// Consecutive input lines and, once checked, their results.
struct Chunk {
  int64_t first_line = 0;    // the number of the chunk's first line
  std::string text;          // the lines as read, back to back
  std::vector<size_t> ends;  // where each line ends in `text`
  // The lines (indexes into `ends`) that were longer than the line limit:
  // they are empty in `text` and refused. `no_end` marks the last one when
  // it had no newline within the skip limit (the chunk is then `last`).
  std::vector<size_t> too_long;
  bool no_end = false;
  std::vector<LineResult> results;  // one per non-blank line, in order
  // Set on the chunk after which nothing more is read: the input ended, or
  // reading it failed after line `last_line`.
  bool last = false;
  bool input_failed = false;
  int64_t last_line = 0;
  bool ready = false;            // results are complete (pipeline only)
  std::exception_ptr exception;  // thrown while checking (pipeline only)

  void clear() {
    // A chunk is reused, and a long line would otherwise keep its buffer
    // for the whole publish in every chunk it passed through: the window's
    // memory bound counts sizes, not capacities.
    if (text.capacity() > 2 * kChunkBytes) std::string().swap(text);
    text.clear();
    ends.clear();
    too_long.clear();
    results.clear();  // keeps the capacity: the chunk is reused
    last = input_failed = ready = no_end = false;
    exception = nullptr;
  }
};

// Reads the next lines of `input` into `chunk`, numbering them from
// `next_line` (which it advances). Lines are std::getline's (a final line
// without a newline counts, a final newline does not start one more), each
// at most the line limit (events/line_reader.h). `chunk` comes cleared: it
// may already stand in the pipeline's window, where its `ready` is read.
void read_chunk(events::LineReader& input, int64_t& next_line, Chunk& chunk) {
  chunk.first_line = next_line;
  while (chunk.ends.size() < kChunkLines && chunk.text.size() < kChunkBytes) {
    // A stream whose exceptions() mask is set throws from here; the
    // exception reaches the caller of publish_ndjson after the lines before
    // it (ChunkPipeline::work), as it did when one thread did everything.
    const events::LineReader::Next next = input.next(chunk.text);
    if (next == events::LineReader::Next::kEnd || next == events::LineReader::Next::kFailed) {
      chunk.last = true;
      chunk.input_failed = next == events::LineReader::Next::kFailed;
      break;
    }
    if (next != events::LineReader::Next::kLine) chunk.too_long.push_back(chunk.ends.size());
    chunk.ends.push_back(chunk.text.size());
    ++next_line;
    if (next == events::LineReader::Next::kNoEnd) {
      chunk.no_end = chunk.last = true;
      break;
    }
  }
  chunk.last_line = next_line - 1;
}

// "1048576 bytes (1 MiB)": the exact limit, and its size for people.
std::string byte_size(size_t bytes) {
  if (bytes >= (size_t{1} << 20) && bytes % (size_t{1} << 20) == 0) {
    return fmt::format("{} bytes ({} MiB)", bytes, bytes >> 20);
  }
  return fmt::format("{} bytes", bytes);
}

// The refusal of a line longer than the limit.
std::string too_long_reason(const events::LineReader& input, bool no_end) {
  std::string reason = fmt::format("is longer than {}, the most one line may hold; not read",
                                   byte_size(input.max_line_bytes()));
  if (no_end) {
    reason += fmt::format(
        ", and no newline came in the {} after it: the input is not NDJSON, so nothing after "
        "this line was read",
        byte_size(input.max_skip_bytes()));
  }
  return reason;
}

// Stage 1 and encoding for every line of `chunk`.
void check_chunk(const events::LineReader& input, Chunk& chunk) {
  size_t begin = 0;
  size_t next_too_long = 0;
  for (size_t i = 0; i < chunk.ends.size(); ++i) {
    std::string_view text(chunk.text.data() + begin, chunk.ends[i] - begin);
    begin = chunk.ends[i];
    if (next_too_long < chunk.too_long.size() && chunk.too_long[next_too_long] == i) {
      ++next_too_long;
      LineResult& result = chunk.results.emplace_back();
      result.line = chunk.first_line + static_cast<int64_t>(i);
      result.refused = true;
      const bool no_end = chunk.no_end && i + 1 == chunk.ends.size();
      result.refusal = Refusal{result.line, "", too_long_reason(input, no_end)};
      continue;
    }
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (is_blank(text)) continue;
    LineResult& result = chunk.results.emplace_back();
    result.line = chunk.first_line + static_cast<int64_t>(i);
    auto event = events::parse_event_json(text);
    if (!event) {
      result.refused = true;
      result.refusal =
          Refusal{result.line, std::move(event.error().field), std::move(event.error().reason)};
      continue;
    }
    result.request.value = events::encode_event(*event);
    result.request.type = event->type();
    result.request.key = std::move(event->case_id);
  }
}

// Parsing threads that read and check chunks ahead of the caller's thread,
// which takes them in input order with `next` and gives each back with
// `release`. Invariants (under mutex_): window_ holds the chunks read and not
// yet released, in input order, and while reading_ also the one being read
// (its last); window_bytes_ is the sum of the text sizes of those read; once
// a chunk marked `last` is in the window, nothing more is read.
class ChunkPipeline {
 public:
  // Lines are numbered from `first_line`: `input` is positioned there. It
  // must outlive the pipeline.
  ChunkPipeline(events::LineReader& input, int64_t first_line, size_t threads, size_t window_chunks)
      : input_(input), window_chunks_(window_chunks), next_line_(first_line) {
    // Reserved first: growing the vector after a thread started could
    // throw and leave a joinable thread behind.
    threads_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
      try {
        threads_.emplace_back([this] { work(); });
      } catch (const std::system_error&) {
        break;  // fewer threads than asked for; with none, next() reads itself
      }
    }
  }
  ~ChunkPipeline() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    room_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  // The next chunk in input order with its results, or nullptr after the
  // last one. Rethrows what checking it threw.
  Chunk* next() {
    std::unique_lock lock(mutex_);
    if (threads_.empty()) {
      // No parsing thread could be started: this thread does their work.
      if (input_done_) return nullptr;
      std::unique_ptr<Chunk> chunk = take_spare();
      read_chunk(input_, next_line_, *chunk);
      input_done_ = chunk->last;
      check_chunk(input_, *chunk);
      window_bytes_ += chunk->text.size();
      window_.push_back(std::move(chunk));
      return window_.front().get();
    }
    ready_.wait(lock, [&] { return (!window_.empty() && window_.front()->ready) || done(); });
    if (window_.empty()) return nullptr;
    if (window_.front()->exception) std::rethrow_exception(window_.front()->exception);
    return window_.front().get();
  }

  // Gives back the chunk that `next` returned; its results were taken.
  void release() {
    {
      std::lock_guard lock(mutex_);
      HOMEWARD_CHECK(!window_.empty(), "release without a chunk taken");
      window_bytes_ -= window_.front()->text.size();
      spare_.push_back(std::move(window_.front()));
      window_.pop_front();
    }
    room_.notify_all();
  }

 private:
  // True when every chunk has been read and released.
  [[nodiscard]] bool done() const { return input_done_ && window_.empty(); }

  // A cleared chunk (not ready), under mutex_: a released one keeps its
  // `ready` until cleared, and the caller's thread must never take it for
  // the next chunk while it is being read.
  std::unique_ptr<Chunk> take_spare() {
    if (spare_.empty()) return std::make_unique<Chunk>();
    std::unique_ptr<Chunk> chunk = std::move(spare_.back());
    spare_.pop_back();
    chunk->clear();
    return chunk;
  }

  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      // A window that is empty always has room, so the caller's thread
      // never waits for a chunk that no thread may read.
      room_.wait(lock, [&] {
        return stopping_ || input_done_ ||
               (!reading_ &&
                ((window_.size() < window_chunks_ && window_bytes_ < kWindowBytesMax) ||
                 window_.empty()));
      });
      if (stopping_ || input_done_) return;
      // The chunk takes its place in the window, in input order, before it
      // is read; the read happens without the lock (one reader at a time),
      // so that an input that makes the reader wait (a pipe, a portal that
      // keeps it open) never keeps the caller's thread from the chunks
      // already read: their answers, refusals included, go out meanwhile.
      reading_ = true;
      window_.push_back(take_spare());
      Chunk* chunk = window_.back().get();
      lock.unlock();
      bool read = true;
      try {
        read_chunk(input_, next_line_, *chunk);
      } catch (...) {
        // Out of memory, say: the caller's thread rethrows it, in order.
        chunk->exception = std::current_exception();
        chunk->last = true;
        read = false;
      }
      lock.lock();
      reading_ = false;
      input_done_ = chunk->last;
      window_bytes_ += chunk->text.size();
      room_.notify_all();  // the next chunk may be read now
      if (read) {
        lock.unlock();
        try {
          check_chunk(input_, *chunk);
        } catch (...) {
          chunk->exception = std::current_exception();
        }
        lock.lock();
      }
      chunk->ready = true;
      // The caller's thread waits for the window's front only; any chunk
      // may be that one.
      ready_.notify_all();
    }
  }

  // Read by one thread at a time (the one that set reading_), without mutex_.
  events::LineReader& input_;
  const size_t window_chunks_;
  std::mutex mutex_;
  std::condition_variable room_;   // workers wait for room in the window
  std::condition_variable ready_;  // the caller waits for the front chunk
  std::deque<std::unique_ptr<Chunk>> window_;
  std::vector<std::unique_ptr<Chunk>> spare_;  // released chunks, for reuse
  size_t window_bytes_ = 0;
  int64_t next_line_;
  bool input_done_ = false;
  bool reading_ = false;  // a worker is reading the input
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started after everything above
};

// Records waiting to be appended, with the input line each came from.
struct PendingBatch {
  std::vector<AppendRequest> requests;
  std::vector<int64_t> lines;
  size_t bytes = 0;
  int64_t lines_read = 0;  // non-blank lines read when the batch was complete

  void add(AppendRequest request, int64_t line) {
    bytes += request.key.size() + request.value.size();
    requests.push_back(std::move(request));
    lines.push_back(line);
  }
  [[nodiscard]] size_t size() const { return requests.size(); }
};

// Gives every record of `batch` its answer in `report`. A failure of the
// whole call fails each of its records: the caller learns the reason per
// line and the remaining batches are still tried, since a log that was
// briefly unreachable may take them.
void record_answers(const PendingBatch& batch, Result<std::vector<Result<LogPosition>>> results,
                    PublishReport& report, const PublishOptions& options) {
  // A log that could not say whether it took a record reports it unknown,
  // never failed (PublishReport::unknown).
  auto answer_of = [&report](const Error& error) -> std::vector<AppendFailure>& {
    return error.code == ErrorCode::kUnknownOutcome ? report.unknown : report.failed;
  };
  if (!results) {
    std::vector<AppendFailure>& answers = answer_of(results.error());
    for (const int64_t line : batch.lines) {
      answers.push_back(AppendFailure{line, results.error().message, results.error().code});
    }
    return;
  }
  HOMEWARD_CHECK(results->size() == batch.size(),
                 "the log answered a different number of records than it was given");
  for (size_t i = 0; i < results->size(); ++i) {
    const Result<LogPosition>& result = (*results)[i];
    if (result) {
      ++report.appended;
      report.last_appended_line = batch.lines[i];
      if (options.on_appended) options.on_appended(batch.lines[i], batch.requests[i].key, *result);
    } else {
      answer_of(result.error())
          .push_back(AppendFailure{batch.lines[i], result.error().message, result.error().code});
    }
  }
}

// The batches handed to the log and not yet finished, oldest first. Every
// started batch is finished, also when publishing stops early.
class Appending {
 public:
  Appending(EventLogAppender& log, PublishReport& report, const PublishOptions& options,
            const PublishProgressCallback& progress)
      : log_(log), report_(report), options_(options), progress_(progress) {}
  ~Appending() {
    // Only while an exception unwinds (every other return finishes all
    // batches first): the log's answers still have to be taken, though
    // nobody will read them. The exception being unwound is what the caller
    // learns; a second one from finishing could only end the process.
    while (!in_flight_.empty()) {
      try {
        [[maybe_unused]] auto ignored = log_.finish_append();
      } catch (...) {  // see above
      }
      in_flight_.pop_front();
    }
  }
  Appending(const Appending&) = delete;
  Appending& operator=(const Appending&) = delete;

  void start(PendingBatch batch) {
    in_flight_.push_back(std::move(batch));
    // A deque keeps its elements in place: the span stays valid until the
    // batch is finished.
    try {
      log_.start_append(in_flight_.back().requests);
    } catch (...) {
      in_flight_.pop_back();  // never started: nothing to finish
      throw;
    }
    if (in_flight_.size() >= kAppendsInFlight) finish_oldest();
  }

  void finish_all() {
    while (!in_flight_.empty()) finish_oldest();
  }

 private:
  void finish_oldest() {
    // Out of the queue before the log or the callback is called: once
    // finish_append is called the log counts the batch as finished, whether
    // it returns or throws. Moving the batch keeps its requests' buffer, so
    // the span the log holds stays valid until `batch` goes.
    PendingBatch batch = std::move(in_flight_.front());
    in_flight_.pop_front();
    record_answers(batch, log_.finish_append(), report_, options_);
    if (progress_) progress_(PublishProgress{batch.lines_read, report_.appended});
  }

  EventLogAppender& log_;
  PublishReport& report_;
  const PublishOptions& options_;
  const PublishProgressCallback& progress_;
  std::deque<PendingBatch> in_flight_;
};

// The field a codec error names ("amount: 0 is below ..."), or empty when
// the message does not start with a field.
std::string field_of(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  const std::string_view field = message.substr(0, colon);
  if (field.find_first_of(" \t") != std::string_view::npos) return {};
  return std::string(field);
}

// Reads past the lines before `first_line` without looking at them, with
// the reader that then reads the rest, so that lines are counted exactly as
// read_chunk counts them (an over-long line is one line, a byte order mark
// is skipped only at the very start). kInvalidArgument when the input ends
// before `first_line - 1` lines: a line number past the end is a mistake,
// not an empty publish.
Status skip_lines_before(events::LineReader& input, int64_t first_line) {
  std::string scratch;
  for (int64_t line = 1; line < first_line; ++line) {
    scratch.clear();
    const events::LineReader::Next next = input.next(scratch);
    if (next == events::LineReader::Next::kFailed) {
      return make_error(ErrorCode::kIo,
                        fmt::format("publish: reading the input failed at line {}", line));
    }
    if (next == events::LineReader::Next::kEnd) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("publish: the input has {} lines, so there is no line {} to "
                                    "start from",
                                    line - 1, first_line));
    }
  }
  return {};
}

size_t parse_thread_count(size_t asked) {
  if (asked > 0) return std::min(asked, PublishOptions::kMaxParseThreads);
  const size_t cores = std::max<size_t>(std::thread::hardware_concurrency(), 1);
  return std::min(cores, PublishOptions::kMaxParseThreads);
}

}  // namespace

Publisher::Publisher(EventLogAppender& log, PublishOptions options) : log_(log), options_(options) {
  HOMEWARD_CHECK(!options_.batch_events_max || *options_.batch_events_max > 0,
                 "batch_events_max must be positive");
  HOMEWARD_CHECK(options_.batch_bytes_max > 0, "batch_bytes_max must be positive");
  HOMEWARD_CHECK(options_.first_line >= 1, "first_line must be positive");
}

void Publisher::refuse(Refusal refusal, PublishReport& report) const {
  ++report.refused_count;
  if (options_.on_refusal) {
    options_.on_refusal(refusal);
  } else {
    report.refused.push_back(std::move(refusal));
  }
}

size_t Publisher::batch_events_max() const {
  const size_t events = options_.batch_events_max.value_or(log_.preferred_batch_events());
  return std::max<size_t>(events, 1);
}

Result<PublishReport> Publisher::publish_ndjson(std::istream& input,
                                                const PublishProgressCallback& progress) {
  PublishReport report;
  report.next_line = options_.first_line;
  events::LineReader lines(input, options_.max_line_bytes);
  if (auto skipped = skip_lines_before(lines, options_.first_line); !skipped) {
    return std::unexpected(skipped.error());
  }
  const size_t batch_max = batch_events_max();
  const size_t threads = parse_thread_count(options_.parse_threads);
  // About one batch of chunks ahead of the one being appended.
  const size_t window_chunks = std::max<size_t>(batch_max / kChunkLines + 2 * threads, 4);
  ChunkPipeline chunks(lines, options_.first_line, threads == 1 ? 0 : threads, window_chunks);
  Appending appending(log_, report, options_, progress);

  auto new_batch = [batch_max] {
    PendingBatch batch;
    // Reserved up to a typical batch only: a batch ends at batch_bytes_max too.
    batch.requests.reserve(std::min<size_t>(batch_max, 100'000));
    batch.lines.reserve(std::min<size_t>(batch_max, 100'000));
    return batch;
  };
  PendingBatch pending = new_batch();
  // With all_or_nothing nothing may be appended before the last line is
  // checked, so the good lines wait here (already encoded) until then.
  std::vector<PendingBatch> held;

  while (Chunk* chunk = chunks.next()) {
    // Asked at a chunk boundary, so that every line before next_line has
    // its answer and none after it has one. The chunk may be one that the
    // input cut short because of the same stop (the CLI's input ends when a
    // signal comes); it is not handled, since the predicate stays true.
    if (options_.stop_requested && options_.stop_requested()) {
      report.interrupted = true;
      report.next_line = chunk->first_line;
      break;
    }
    for (LineResult& result : chunk->results) {
      ++report.lines_read;
      if (result.refused) {
        refuse(std::move(result.refusal), report);
        continue;
      }
      pending.add(std::move(result.request), result.line);
      if (pending.size() >= batch_max || pending.bytes >= options_.batch_bytes_max) {
        pending.lines_read = report.lines_read;
        if (options_.all_or_nothing) {
          held.push_back(std::move(pending));
        } else {
          appending.start(std::move(pending));
        }
        pending = new_batch();
      }
    }
    const bool input_failed = chunk->input_failed;
    const int64_t last_line = chunk->last_line;
    report.next_line = last_line + 1;
    chunks.release();
    if (input_failed) {
      // What was started is finished (the log must answer it); the lines of
      // the batch being built are not appended.
      appending.finish_all();
      return make_error(ErrorCode::kIo,
                        fmt::format("publish: reading the input failed after line {}", last_line));
    }
  }

  if (options_.all_or_nothing) {
    if (report.interrupted) {
      // Not every line was checked, so none may be appended: the whole
      // input is still to publish.
      report.next_line = options_.first_line;
      return report;
    }
    if (report.refused_count > 0) return report;  // nothing appended
    for (PendingBatch& batch : held) {
      batch.lines_read = report.lines_read;
      appending.start(std::move(batch));
    }
  }
  if (pending.size() > 0) {
    pending.lines_read = report.lines_read;
    appending.start(std::move(pending));
  }
  appending.finish_all();
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
      refuse(Refusal{line, field_of(checked.error().message), checked.error().message}, report);
      continue;
    }
    if (batches.back().size() >= batch_max || batches.back().bytes >= options_.batch_bytes_max) {
      batches.emplace_back();
    }
    batches.back().add(AppendRequest{events[i].case_id, std::move(bytes), events[i].type()}, line);
  }
  if (options_.all_or_nothing && report.refused_count > 0) return report;
  for (PendingBatch& batch : batches) {
    if (batch.size() > 0) record_answers(batch, log_.append(batch.requests), report, options_);
  }
  return report;
}

}  // namespace homeward::engine
