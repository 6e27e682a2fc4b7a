// homeward-bench: tools for the end-to-end benchmarks (see bench/README.md).
//
//   homeward-bench gen --events N [--cases C] [--donors D] [--seed S] [--out FILE|-]
//
// writes N NDJSON events (bench/generator.h) to FILE or standard output and a
// summary to standard error. Exit codes: 0 done, 1 error (bad option value,
// output not writable), 2 command-line syntax (from CLI11).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "bench/generator.h"
#include "events/event.h"

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (gen->parsed()) return run_gen(options, out_path);
  return 2;
}
