// `homeward export [FILE|-]`: the whole log back to canonical NDJSON.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/progress.h"
#include "events/codec.h"
#include "events/ndjson.h"

namespace homeward::connectors::cli {
namespace {

constexpr size_t kExportBatchRecords = 10'000;
constexpr std::chrono::milliseconds kReadWait{100};
// A log that reports records up to an end offset but then returns none for
// this many reads in a row is broken (or its records were deleted).
constexpr int kEmptyReadsMax = 50;

struct ExportCounts {
  int64_t exported = 0;
  int64_t malformed = 0;
};

// Every partition is finished when the next offset to read reaches its end.
bool reached_end(const engine::OffsetMap& next, const engine::OffsetMap& end) {
  for (const auto& [partition, end_offset] : end) {
    const auto it = next.find(partition);
    const Offset at = it == next.end() ? Offset(0) : it->second;
    if (at < end_offset) return false;
  }
  return true;
}

Result<ExportCounts> export_log(LogHandle& log, std::ostream& output,
                                const CommandContext& context) {
  engine::EventLogReader& reader = log.reader();
  auto end = reader.end_offsets();
  if (!end) return std::unexpected(end.error());
  auto sought = reader.seek({});
  if (!sought) return std::unexpected(sought.error());

  ExportCounts counts;
  engine::OffsetMap next;
  engine::RecordBatch batch;
  ProgressLine progress(context.err, context.show_progress(), "exporting");
  int empty_reads = 0;
  while (!reached_end(next, *end)) {
    auto read = reader.read(kExportBatchRecords, kReadWait, batch);
    if (!read) return std::unexpected(read.error());
    // Past offsets that hold no record (Kafka transaction markers).
    for (const auto& [partition, next_offset] : batch.skipped_to) {
      Offset& at = next[partition];
      at = std::max(at, next_offset);
    }
    if (batch.records.empty() && batch.skipped_to.empty()) {
      if (++empty_reads >= kEmptyReadsMax) {
        return make_error(
            ErrorCode::kCorruption,
            fmt::format("{} ended before the end offsets it reported", log.describe()));
      }
      continue;
    }
    empty_reads = 0;
    for (const engine::LogRecord& record : batch.records) {
      Offset& at = next[record.partition];
      at = std::max(at, Offset(record.offset.value() + 1));
      // Records appended after the export started are not part of it.
      const auto end_it = end->find(record.partition);
      if (end_it == end->end() || record.offset >= end_it->second) continue;
      auto event = events::decode_record(record.key, record.value);
      if (!event) {
        context.err << fmt::format("offset {}: malformed: {}\n", record.offset.value(),
                                   event.error().message);
        ++counts.malformed;
        continue;
      }
      output << events::format_event_json(*event) << '\n';
      ++counts.exported;
    }
    progress.update(counts.exported + counts.malformed);
    if (!output) {
      return make_error(ErrorCode::kIo, "writing the export failed");
    }
  }
  progress.finish();
  output.flush();
  if (!output) return make_error(ErrorCode::kIo, "writing the export failed");
  return counts;
}

Result<int> run_export(const std::string& file, const CommandContext& context) {
  auto log = open_log(context, LogAccess::kRead);
  if (!log) return std::unexpected(log.error());
  ExportCounts counts;
  if (file == "-") {
    auto exported = export_log(**log, context.out, context);
    if (!exported) return std::unexpected(exported.error());
    counts = *exported;
  } else {
    std::ofstream output(file, std::ios::binary | std::ios::trunc);
    if (!output.is_open()) {
      return make_error(ErrorCode::kIo,
                        fmt::format("cannot write {}: {}", file, std::strerror(errno)));
    }
    auto exported = export_log(**log, output, context);
    if (!exported) {
      return std::unexpected(
          Error{exported.error().code, fmt::format("{}: {}", file, exported.error().message)});
    }
    counts = *exported;
    output.close();
    if (!output) return make_error(ErrorCode::kIo, fmt::format("cannot write {}", file));
    // Standard output carries the events when FILE is "-"; only a file gets a summary.
    context.out << fmt::format("exported {} events to {}", counts.exported, file);
    if (counts.malformed > 0) {
      context.out << fmt::format(", skipped {} malformed", counts.malformed);
    }
    context.out << '\n';
  }
  if (counts.malformed > 0) {
    context.err << fmt::format("homeward: skipped {} malformed records\n", counts.malformed);
    return kExitPartial;
  }
  return kExitOk;
}

}  // namespace

void add_export_commands(CLI::App& app, std::vector<Command>& commands) {
  auto file = std::make_shared<std::string>("-");
  CLI::App* exporter = app.add_subcommand(
      "export",
      "Write every event of the log as canonical NDJSON. Records that do not decode are "
      "reported on stderr and skipped (exit 3).");
  exporter->add_option("FILE", *file, "Output file, or - for standard output")
      ->capture_default_str();
  add_examples(exporter, {"homeward export > log.ndjson",
                          "homeward --data /srv/ledger export backup.ndjson"});
  commands.push_back(
      {exporter, [file](const CommandContext& context) { return run_export(*file, context); }});
}

}  // namespace homeward::connectors::cli
