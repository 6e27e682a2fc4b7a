// Internal to the CLI: the parts of publishing that `publish` and `demo`
// share (opening the input, running the Publisher with progress, reporting).
// Not thread-safe.
#pragma once

#include <fstream>
#include <istream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/log_access.h"
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
  [[nodiscard]] std::istream& stream() { return *stream_; }

 private:
  std::unique_ptr<std::ifstream> file_;
  std::istream* stream_;
};

// kNotFound / kIo with the file name and the system's reason.
[[nodiscard]] Result<PublishInput> open_input(const std::string& file,
                                              std::istream& standard_input);

[[nodiscard]] Result<engine::PublishReport> publish_stream(LogHandle& log, std::istream& input,
                                                           bool all_or_nothing,
                                                           const CommandContext& context);

// `appended N, refused M[, failed K]` on stdout; each refusal on stderr as
// `line L: FIELD: REASON` (or `line L: REASON`), each failure as
// `line L: not appended: REASON`.
void print_publish_report(const engine::PublishReport& report, bool all_or_nothing,
                          const CommandContext& context);

// {"appended":N,"refused":[{"line","field","reason"}],"failed":[{"line","reason"}]}
[[nodiscard]] nlohmann::ordered_json publish_report_json(const engine::PublishReport& report);

// 1 when any append failed, else 3 when any line was refused, else 0.
[[nodiscard]] int publish_exit_code(const engine::PublishReport& report);

// One JSON document and a newline; invalid UTF-8 inside strings (quoted bad
// input) is replaced rather than thrown on.
void print_json(std::ostream& out, const nlohmann::ordered_json& document, bool pretty);

}  // namespace homeward::connectors::cli
