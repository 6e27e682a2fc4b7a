// homeward-bench: tools for the end-to-end benchmarks (see bench/README.md).
//
//   homeward-bench gen --events N [--cases C] [--donors D] [--seed S] [--out FILE|-]
//
// writes N NDJSON events (bench/generator.h) to FILE or standard output and a
// summary to standard error.
//
//   homeward-bench kcat-input --in NDJSON --out FILE
//
// writes, for `kcat -P -l`, the records that `homeward publish` would send to
// Kafka for those lines (made by the same engine::Publisher, which hands them
// to a log that only keeps them): key (the case_id), a key delimiter, the
// FlatBuffers bytes of the event, a message delimiter. FlatBuffers bytes may hold any
// byte, so the delimiters are 8-byte strings, and the tool checks that
// splitting its output as kcat does (at the first delimiter found, with
// memmem) gives back exactly the records. It prints kcat's -K and -D
// arguments on standard output, one per line, then Homeward's producer
// settings as `key=value` lines for kcat's -X, so that kcat does the same
// Kafka work (idempotence, acks=all, the same batching and compression).
// Lines that stage 1 refuses are left out (homeward would not send them
// either).
//
// Exit codes: 0 done, 1 error (bad option value, unreadable input, output
// not writable, a delimiter found inside a record), 2 command-line syntax
// (from CLI11).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/generator.h"
#include "connectors/kafka/kafka_log.h"
#include "engine/event_log.h"
#include "engine/publisher.h"
#include "events/error.h"

namespace {

using homeward::bench::GeneratorOptions;
using homeward::bench::GeneratorSummary;

void print_summary(const GeneratorSummary& summary, const GeneratorOptions& options,
                   double seconds) {
  fmt::print(stderr, "homeward-bench gen: {} lines, {} bytes ({:.1f} bytes/line) in {:.2f} s\n",
             summary.lines, summary.bytes,
             summary.lines > 0 ? static_cast<double>(summary.bytes) / summary.lines : 0.0, seconds);
  fmt::print(stderr, "  mean wire size: {:.1f} bytes/event (FlatBuffers, as the log stores it)\n",
             summary.lines > 0 ? static_cast<double>(summary.wire_bytes) / summary.lines : 0.0);
  fmt::print(stderr, "  seed {}, {} cases, {} donor refs\n", options.seed, summary.cases,
             summary.donors);
  for (size_t i = 0; i < homeward::events::kEventTypeCount; ++i) {
    const int64_t count = summary.by_type[i];
    fmt::print(stderr, "  {:<17} {:>10} ({:.2f}%)\n",
               homeward::events::to_string(static_cast<homeward::events::EventType>(i)), count,
               summary.lines > 0 ? 100.0 * static_cast<double>(count) / summary.lines : 0.0);
  }
  fmt::print(stderr, "  re-sent lines (duplicates)        {:>10}\n", summary.duplicates);
  fmt::print(stderr, "  lines written to be rejected      {:>10}\n", summary.expected_rejections);
  std::string currencies;
  for (const auto& [code, count] : summary.cases_by_currency) {
    currencies += fmt::format("{}{} {}", currencies.empty() ? "" : ", ", code, count);
  }
  fmt::print(stderr, "  cases by currency: {}\n", currencies);
}

int run_gen(const GeneratorOptions& requested, const std::string& out_path) {
  auto options = homeward::bench::resolve_options(requested);
  if (!options) {
    fmt::print(stderr, "homeward-bench gen: {}\n", options.error().message);
    return 1;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) {
      fmt::print(stderr, "homeward-bench gen: cannot open {} for writing\n", out_path);
      return 1;
    }
    out = &file;
  } else {
    std::ios::sync_with_stdio(false);
  }
  const auto start = std::chrono::steady_clock::now();
  auto summary = homeward::bench::generate(*options, *out);
  if (summary) {
    out->flush();
    if (!*out) summary = homeward::make_error(homeward::ErrorCode::kIo, "flushing failed");
  }
  if (file.is_open()) {
    file.close();
    if (!file && summary) {
      summary = homeward::make_error(homeward::ErrorCode::kIo, "closing the output failed");
    }
  }
  if (!summary) {
    fmt::print(stderr, "homeward-bench gen: {} ({})\n", summary.error().message, out_path);
    return 1;
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  print_summary(*summary, *options, elapsed.count());
  return 0;
}

// Two byte strings that no NUL-terminated argument parser truncates and that
// FlatBuffers of Homeward events are unlikely to hold (checked anyway).
constexpr std::string_view kKeyDelimiter = "\x1e\xfe\x1f\xfd\x1c\xfc\x1d\xfb";
constexpr std::string_view kMessageDelimiter = "\x1f\xfb\x1e\xfc\x1d\xfd\x1c\xfe";

// kcat's spelling of a delimiter: \xNN for every byte.
std::string kcat_spelling(std::string_view delimiter) {
  std::string out;
  for (const char c : delimiter) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  return out;
}

// The records a publish hands to its log, kept instead of sent: the
// publisher itself decides which lines become which records, so that
// kcat-input cannot drift from `homeward publish`.
class RecordingLog final : public homeward::engine::EventLogAppender {
 public:
  homeward::Result<std::vector<homeward::Result<homeward::engine::LogPosition>>> append(
      std::span<const homeward::engine::AppendRequest> requests) override {
    std::vector<homeward::Result<homeward::engine::LogPosition>> positions;
    for (const homeward::engine::AppendRequest& request : requests) {
      positions.emplace_back(homeward::engine::LogPosition{
          homeward::Partition{0}, homeward::Offset{static_cast<int64_t>(records.size())}});
      records.emplace_back(request.key, request.value);
    }
    return positions;
  }

  std::vector<std::pair<std::string, std::string>> records;  // key, value
};

int run_kcat_input(const std::string& in_path, const std::string& out_path) {
  std::ifstream in(in_path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "homeward-bench kcat-input: cannot read {}\n", in_path);
    return 1;
  }
  RecordingLog log;
  homeward::engine::Publisher publisher(log);
  auto report = publisher.publish_ndjson(in);
  if (!report) {
    fmt::print(stderr, "homeward-bench kcat-input: {}: {}\n", in_path, report.error().message);
    return 1;
  }
  const std::vector<std::pair<std::string, std::string>>& records = log.records;
  const size_t refused = report->refused.size();
  std::string out;
  for (const auto& [key, value] : records) {
    out += key;
    out += kKeyDelimiter;
    out += value;
    out += kMessageDelimiter;
  }
  // Split as kcat does: each message ends at the first message delimiter,
  // its key at the first key delimiter inside it.
  size_t at = 0;
  for (const auto& [key, value] : records) {
    const size_t end = out.find(kMessageDelimiter, at);
    const std::string_view message(out.data() + at, end == std::string::npos ? 0 : end - at);
    const size_t split = message.find(kKeyDelimiter);
    if (end == std::string::npos || split == std::string_view::npos ||
        message.substr(0, split) != key || message.substr(split + kKeyDelimiter.size()) != value) {
      fmt::print(stderr, "homeward-bench kcat-input: a record holds a delimiter (key {})\n", key);
      return 1;
    }
    at = end + kMessageDelimiter.size();
  }
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  file.close();
  if (!file) {
    fmt::print(stderr, "homeward-bench kcat-input: cannot write {}\n", out_path);
    return 1;
  }
  fmt::print("{}\n{}\n", kcat_spelling(kKeyDelimiter), kcat_spelling(kMessageDelimiter));
  for (const auto& [name, value] : homeward::connectors::KafkaAppender::default_settings()) {
    fmt::print("{}={}\n", name, value);
  }
  fmt::print(stderr, "homeward-bench kcat-input: {} records ({} bytes), {} lines refused\n",
             records.size(), out.size(), refused);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Homeward benchmark tools"};
  app.require_subcommand(1);

  GeneratorOptions options;
  std::string out_path = "-";
  CLI::App* gen = app.add_subcommand("gen", "Write a realistic NDJSON event stream");
  gen->add_option("--events", options.events, "Number of lines to write, exactly")->required();
  gen->add_option("--cases", options.cases, "Cases to open (default: events / 100)");
  gen->add_option("--donors", options.donors, "Distinct donor refs (default: events / 5)");
  gen->add_option("--seed", options.seed, "Random seed; the same seed gives the same bytes");
  gen->add_option("--out", out_path, "Output file, or - for standard output");

  std::string kcat_in;
  std::string kcat_out;
  CLI::App* kcat = app.add_subcommand(
      "kcat-input", "Write the Kafka records homeward would publish, as input for kcat -P -l");
  kcat->add_option("--in", kcat_in, "NDJSON file")->required();
  kcat->add_option("--out", kcat_out, "Output file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (gen->parsed()) return run_gen(options, out_path);
  if (kcat->parsed()) return run_kcat_input(kcat_in, kcat_out);
  return 2;
}
