// Internal to the CLI: the parts of publishing that `publish` and `demo`
// share (opening the input, running the Publisher with progress, reporting).
// Not thread-safe.
#pragma once

#include <fstream>
#include <functional>
#include <istream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/interruptible_input.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/stop_signals.h"
#include "engine/publisher.h"
#include "events/error.h"

namespace homeward::connectors::cli {

// Standard input for "-", else the named file (opened here, closed on
// destruction).
class PublishInput {
 public:
  explicit PublishInput(std::istream& standard_input) : stream_(&standard_input) {}
  explicit PublishInput(std::unique_ptr<std::ifstream> file)
      : file_(std::move(file)), stream_(file_.get()) {}
  explicit PublishInput(std::unique_ptr<InterruptibleInput> input)
      : interruptible_(std::move(input)), stream_(&interruptible_->stream()) {}
  [[nodiscard]] std::istream& stream() { return *stream_; }
  // Why reading failed, when the system said (empty otherwise).
  [[nodiscard]] std::string read_error() const {
    return interruptible_ ? interruptible_->error() : std::string();
  }

 private:
  std::unique_ptr<std::ifstream> file_;
  std::unique_ptr<InterruptibleInput> interruptible_;
  std::istream* stream_;
};

// kNotFound / kIo with the file name and the system's reason.
[[nodiscard]] Result<PublishInput> open_input(const std::string& file,
                                              std::istream& standard_input);
// The same, for `publish`: a file, or standard input when it is the
// process's own (context.in_fd), read so that a stop requested by a signal
// ends the input (interruptible_input.h), also while it waits for data.
// Standard input given as a stream (tests, embedding) is read as it is.
[[nodiscard]] Result<PublishInput> open_stoppable_input(const std::string& file,
                                                        const CommandContext& context,
                                                        const StopSignals& signals);

// Runs the publisher over `input` with `options`, drawing a progress line.
// With `on_refusal`, each refusal goes there as it happens (the progress
// line erased first) instead of into the report (engine::PublishOptions).
[[nodiscard]] Result<engine::PublishReport> publish_stream(
    LogHandle& log, std::istream& input, engine::PublishOptions options,
    const CommandContext& context,
    const std::function<void(const engine::Refusal&)>& on_refusal = {});

// A refusal on stderr: `line L: FIELD: REASON` (or `line L: REASON`).
void print_refusal(const engine::Refusal& refusal, const CommandContext& context);

// `appended N, refused M[, failed K][, unknown U]` on stdout; each refusal
// the report holds on stderr (print_refusal), each failure as `line L: not
// appended: REASON`, each unknown outcome as `line L: unknown: REASON` and
// then unknown_advice.
void print_publish_report(const engine::PublishReport& report, bool all_or_nothing,
                          const CommandContext& context);

// `publish --json`'s document, written as the publish goes so that no
// refusal is held: `{"refused":[` once the first refusal comes, each one as
// it comes, and at the end the other keys of publish_report_json (so
// "refused" comes first). Nothing is written before the first refusal, so a
// publish that fails before any has printed nothing, as before.
class JsonReportStream {
 public:
  JsonReportStream(std::ostream& out, bool pretty) : out_(out), pretty_(pretty) {}
  void refusal(const engine::Refusal& refusal);
  // The rest of `document` (its "refused", empty, is skipped), then what
  // `more` writes (through member and array_member), then `}`.
  void finish(const nlohmann::ordered_json& document, const std::function<void()>& more = {});
  // Inside finish's `more`: one more member; one more array member whose
  // `count` elements are made one at a time by `element(i)` and written as
  // they come (1M outcomes are never one document in memory).
  void member(std::string_view key, const nlohmann::ordered_json& value);
  void array_member(std::string_view key, size_t count,
                    const std::function<nlohmann::ordered_json(size_t)>& element);
  // After an error: closes a document already begun with {"error": message}.
  void fail(const std::string& message);
  // After an error that came once the publish was done (publish --wait):
  // the whole document, begun or not, with {"error": message} at its end.
  void fail(const std::string& message, const nlohmann::ordered_json& document);

 private:
  void begin();
  [[nodiscard]] std::string dump(const nlohmann::ordered_json& value, int depth) const;

  std::ostream& out_;
  bool pretty_;
  bool begun_ = false;
  bool any_refusal_ = false;
  bool finished_ = false;
};

// {"appended":N,"refused":[{"line","field","reason"}],"failed":[{"line","reason"}]}
[[nodiscard]] nlohmann::ordered_json publish_report_json(const engine::PublishReport& report);

// What to do about lines whose outcome is unknown (PublishReport::unknown):
// publish them again with the same event_id.
[[nodiscard]] std::string unknown_advice(size_t lines);

// When the publish was interrupted: by which signal, the last line appended
// and how to go on (`--from-line N`), on stderr.
void print_interruption(const engine::PublishReport& report, std::string_view signal_name,
                        bool all_or_nothing, const CommandContext& context);

// 6 when any line's outcome is unknown, else 130 when interrupted, else 1
// when any append failed, else 3 when any line was refused, else 0.
[[nodiscard]] int publish_exit_code(const engine::PublishReport& report);

// One JSON document and a newline; invalid UTF-8 inside strings (quoted bad
// input) is replaced rather than thrown on.
void print_json(std::ostream& out, const nlohmann::ordered_json& document, bool pretty);

}  // namespace homeward::connectors::cli
