#include "connectors/cli/publishing.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <ranges>
#include <system_error>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "connectors/cli/progress.h"
#include "projections/json_output.h"

namespace homeward::connectors::cli {

Result<PublishInput> open_input(const std::string& file, std::istream& standard_input) {
  if (file == "-") return PublishInput(standard_input);
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("cannot read {}: {}", file, ec ? ec.message() : std::string("no such file")));
  }
  if (std::filesystem::is_directory(status)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("cannot read {}: it is a directory", file));
  }
  auto stream = std::make_unique<std::ifstream>(file, std::ios::binary);
  if (!stream->is_open()) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  }
  return PublishInput(std::move(stream));
}

Result<PublishInput> open_stoppable_input(const std::string& file, const CommandContext& context,
                                          const StopSignals& signals) {
  auto stop_requested = [&signals] { return signals.stop_requested(); };
  if (file == "-") {
    if (context.in_fd < 0) return PublishInput(context.in);
    return PublishInput(
        std::make_unique<InterruptibleInput>(context.in_fd, false, std::move(stop_requested)));
  }
  auto input = InterruptibleInput::open(file, std::move(stop_requested));
  if (!input) return std::unexpected(input.error());
  return PublishInput(std::move(*input));
}

Result<engine::PublishReport> publish_stream(
    LogHandle& log, std::istream& input, engine::PublishOptions options,
    const CommandContext& context, const std::function<void(const engine::Refusal&)>& on_refusal) {
  ProgressLine progress(context.err, context.show_progress(), "publishing");
  if (on_refusal) {
    options.on_refusal = [&progress, &on_refusal](const engine::Refusal& refusal) {
      progress.finish();  // redrawn at the next update
      on_refusal(refusal);
    };
  }
  engine::Publisher publisher(log.appender(), options);
  auto report = publisher.publish_ndjson(
      input, [&progress](const engine::PublishProgress& p) { progress.update(p.lines_read); });
  progress.finish();
  if (!report) {
    return std::unexpected(
        Error{report.error().code,
              fmt::format("publishing to {} failed: {}", log.describe(), report.error().message)});
  }
  spdlog::info("read {} lines: appended {}, refused {}, failed {}, unknown {} ({})",
               report->lines_read, report->appended, report->refused_count, report->failed.size(),
               report->unknown.size(), log.describe());
  return std::move(*report);
}

void print_refusal(const engine::Refusal& r, const CommandContext& context) {
  if (r.field.empty()) {
    context.err << fmt::format("line {}: {}\n", r.line, r.reason);
  } else {
    context.err << fmt::format("line {}: {}: {}\n", r.line, r.field, r.reason);
  }
}

void print_publish_report(const engine::PublishReport& report, bool all_or_nothing,
                          const CommandContext& context) {
  for (const auto& r : report.refused) print_refusal(r, context);
  for (const auto& f : report.failed) {
    context.err << fmt::format("line {}: not appended: {}\n", f.line, f.reason);
  }
  for (const auto& u : report.unknown) {
    context.err << fmt::format("line {}: unknown: {}\n", u.line, u.reason);
  }
  if (!report.unknown.empty()) context.err << unknown_advice(report.unknown.size()) << '\n';
  if (all_or_nothing && report.refused_count > 0 && report.appended == 0) {
    context.err << "homeward: nothing appended (--all-or-nothing)\n";
  }
  std::string summary =
      fmt::format("appended {}, refused {}", report.appended, report.refused_count);
  if (!report.failed.empty()) summary += fmt::format(", failed {}", report.failed.size());
  if (!report.unknown.empty()) summary += fmt::format(", unknown {}", report.unknown.size());
  context.out << summary << '\n';
}

nlohmann::ordered_json publish_report_json(const engine::PublishReport& report) {
  nlohmann::ordered_json refused = nlohmann::ordered_json::array();
  for (const auto& r : report.refused) {
    refused.push_back({{"line", r.line}, {"field", r.field}, {"reason", r.reason}});
  }
  nlohmann::ordered_json failed = nlohmann::ordered_json::array();
  for (const auto& f : report.failed) {
    failed.push_back({{"line", f.line}, {"reason", f.reason}});
  }
  nlohmann::ordered_json unknown = nlohmann::ordered_json::array();
  for (const auto& u : report.unknown) {
    unknown.push_back({{"line", u.line}, {"reason", u.reason}});
  }
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  document["appended"] = report.appended;
  document["refused"] = std::move(refused);
  document["failed"] = std::move(failed);
  document["unknown"] = std::move(unknown);
  if (report.interrupted) {
    // Only when interrupted, so that the document of a complete publish is
    // unchanged.
    document["interrupted"] = true;
    document["last_appended_line"] = report.last_appended_line == 0
                                         ? nlohmann::ordered_json(nullptr)
                                         : nlohmann::ordered_json(report.last_appended_line);
    document["next_line"] = report.next_line;
  }
  return document;
}

std::string unknown_advice(size_t lines) {
  return fmt::format(
      "homeward: {} {} an unknown outcome: Kafka gave no answer, so each may be in the log or "
      "not. Publish {} again unchanged, with the same event_id: an event already there is then "
      "counted once (a duplicate), never twice. Never give {} a new event_id.",
      lines, lines == 1 ? "line has" : "lines have", lines == 1 ? "it" : "them",
      lines == 1 ? "it" : "them");
}

namespace {

// A publish whose appends failed for want of space: says so once, with what
// was appended and where to go on, as an interrupted publish does (issue 14
// items 7 and 9). Each failed line was already listed with RocksDB's reason.
void print_disk_full(const engine::PublishReport& report, const CommandContext& context) {
  const auto full = std::ranges::find_if(
      report.failed, [](const engine::AppendFailure& f) { return f.code == ErrorCode::kNoSpace; });
  if (full == report.failed.end()) return;
  const int64_t first_failed = std::ranges::min(
      report.failed | std::views::transform([](const engine::AppendFailure& f) { return f.line; }));
  const std::string last =
      report.last_appended_line == 0
          ? std::string("no line appended")
          : fmt::format("the last line appended: {}", report.last_appended_line);
  // --from-line is only right when nothing after the first failed line went
  // in (a later batch may have found space that an earlier one lacked).
  const std::string advice =
      first_failed > report.last_appended_line
          ? fmt::format("after freeing space, run the same command again with --from-line {}",
                        first_failed)
          : std::string(
                "after freeing space, publish again the lines listed as not appended (or the "
                "same input: the lines already in the log are then duplicates, counted once)");
  context.err << fmt::format(
      "homeward: the disk is full: {} {} appended and in the log, {} {} not appended ({}); {}\n",
      report.appended, report.appended == 1 ? "line is" : "lines are", report.failed.size(),
      report.failed.size() == 1 ? "line was" : "lines were", last, advice);
}

}  // namespace

void print_interruption(const engine::PublishReport& report, std::string_view signal_name,
                        bool all_or_nothing, const CommandContext& context) {
  print_disk_full(report, context);
  if (!report.interrupted) return;
  if (all_or_nothing) {
    context.err << fmt::format(
        "homeward: interrupted by {} before every line was checked: nothing appended "
        "(--all-or-nothing); run the same command again to publish the input\n",
        signal_name);
    return;
  }
  const std::string last =
      report.last_appended_line == 0
          ? std::string("no line appended")
          : fmt::format("the last line appended: {}", report.last_appended_line);
  context.err << fmt::format(
      "homeward: interrupted by {} before line {} ({}); to go on, run the same command again "
      "with --from-line {}\n",
      signal_name, report.next_line, last, report.next_line);
}

int publish_exit_code(const engine::PublishReport& report) {
  // Before "failed": a caller must learn that some lines may be in the log.
  if (!report.unknown.empty()) return kExitUnknownOutcome;
  // Before "failed": the lines from next_line on are still to publish.
  if (report.interrupted) return kExitInterrupted;
  if (!report.failed.empty()) return kExitError;
  if (report.refused_count > 0) return kExitPartial;
  return kExitOk;
}

namespace {

nlohmann::ordered_json refusal_json(const engine::Refusal& r) {
  return {{"line", r.line}, {"field", r.field}, {"reason", r.reason}};
}

}  // namespace

std::string JsonReportStream::dump(const nlohmann::ordered_json& value, int depth) const {
  std::string text =
      value.dump(pretty_ ? 2 : -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (!pretty_) return text;
  // Indented as nlohmann would indent it `depth` levels down.
  const std::string indent(static_cast<size_t>(2 * depth), ' ');
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    out.push_back(c);
    if (c == '\n') out += indent;
  }
  return out;
}

void JsonReportStream::begin() {
  if (begun_) return;
  begun_ = true;
  out_ << (pretty_ ? "{\n  \"refused\": [" : "{\"refused\":[");
}

void JsonReportStream::refusal(const engine::Refusal& refusal) {
  begin();
  if (any_refusal_) out_ << ',';
  if (pretty_) out_ << "\n    ";
  out_ << dump(refusal_json(refusal), 2);
  any_refusal_ = true;
}

void JsonReportStream::member(std::string_view key, const nlohmann::ordered_json& value) {
  out_ << (pretty_ ? ",\n  " : ",") << nlohmann::ordered_json(key).dump() << (pretty_ ? ": " : ":")
       << dump(value, 1);
}

void JsonReportStream::array_member(std::string_view key, size_t count,
                                    const std::function<nlohmann::ordered_json(size_t)>& element) {
  out_ << (pretty_ ? ",\n  " : ",") << nlohmann::ordered_json(key).dump()
       << (pretty_ ? ": [" : ":[");
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out_ << ',';
    if (pretty_) out_ << "\n    ";
    out_ << dump(element(i), 2);
  }
  if (pretty_ && count > 0) out_ << "\n  ";
  out_ << ']';
}

void JsonReportStream::finish(const nlohmann::ordered_json& document,
                              const std::function<void()>& more) {
  begin();
  if (pretty_ && any_refusal_) out_ << "\n  ";
  out_ << ']';
  for (const auto& [key, value] : document.items()) {
    if (key != "refused") member(key, value);
  }
  if (more) more();
  out_ << (pretty_ ? "\n}\n" : "}\n");
  finished_ = true;
}

void JsonReportStream::fail(const std::string& message, const nlohmann::ordered_json& document) {
  if (finished_) return;
  finish(document, [&] { member("error", message); });
}

void JsonReportStream::fail(const std::string& message) {
  if (!begun_ || finished_) return;
  if (pretty_ && any_refusal_) out_ << "\n  ";
  out_ << ']';
  member("error", message);
  out_ << (pretty_ ? "\n}\n" : "}\n");
  finished_ = true;
}

void print_json(std::ostream& out, const nlohmann::ordered_json& document, bool pretty) {
  out << projections::json_text(document, pretty);
}

}  // namespace homeward::connectors::cli
