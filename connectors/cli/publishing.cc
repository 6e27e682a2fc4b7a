#include "connectors/cli/publishing.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <system_error>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "connectors/cli/progress.h"

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

Result<engine::PublishReport> publish_stream(LogHandle& log, std::istream& input,
                                             bool all_or_nothing, const CommandContext& context) {
  engine::PublishOptions options;
  options.all_or_nothing = all_or_nothing;
  engine::Publisher publisher(log.appender(), options);
  ProgressLine progress(context.err, context.show_progress(), "publishing");
  auto report = publisher.publish_ndjson(
      input, [&progress](const engine::PublishProgress& p) { progress.update(p.lines_read); });
  progress.finish();
  if (!report) {
    return std::unexpected(
        Error{report.error().code,
              fmt::format("publishing to {} failed: {}", log.describe(), report.error().message)});
  }
  spdlog::info("read {} lines: appended {}, refused {}, failed {} ({})", report->lines_read,
               report->appended, report->refused.size(), report->failed.size(), log.describe());
  return std::move(*report);
}

void print_publish_report(const engine::PublishReport& report, bool all_or_nothing,
                          const CommandContext& context) {
  for (const auto& r : report.refused) {
    if (r.field.empty()) {
      context.err << fmt::format("line {}: {}\n", r.line, r.reason);
    } else {
      context.err << fmt::format("line {}: {}: {}\n", r.line, r.field, r.reason);
    }
  }
  for (const auto& f : report.failed) {
    context.err << fmt::format("line {}: not appended: {}\n", f.line, f.reason);
  }
  if (all_or_nothing && !report.refused.empty() && report.appended == 0) {
    context.err << "homeward: nothing appended (--all-or-nothing)\n";
  }
  std::string summary =
      fmt::format("appended {}, refused {}", report.appended, report.refused.size());
  if (!report.failed.empty()) summary += fmt::format(", failed {}", report.failed.size());
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
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  document["appended"] = report.appended;
  document["refused"] = std::move(refused);
  document["failed"] = std::move(failed);
  return document;
}

int publish_exit_code(const engine::PublishReport& report) {
  if (!report.failed.empty()) return kExitError;
  if (!report.refused.empty()) return kExitPartial;
  return kExitOk;
}

void print_json(std::ostream& out, const nlohmann::ordered_json& document, bool pretty) {
  out << document.dump(pretty ? 2 : -1, ' ', false,
                       nlohmann::ordered_json::error_handler_t::replace)
      << '\n';
}

}  // namespace homeward::connectors::cli
