// Shared input for the micro-benchmarks of bench/micro/: one realistic event
// stream from the load generator (bench/generator.h), in every form the hot
// path sees it (NDJSON lines, checked Events, FlatBuffers bytes), plus the
// small command-line flag every micro-benchmark binary takes.
//
//   --events=N   how many generated events the benchmarks run over (default
//                20000); ctest passes a tiny N so that each benchmark runs once
//                quickly and cannot rot.
//
// The stream is generated once per process (seed 1, cases = N / 100, donors =
// N / 5, the generator's defaults) and is read-only afterwards. Functions
// here are used by one benchmark thread at a time; not thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/generator.h"
#include "engine/event_log.h"
#include "events/codec.h"
#include "events/event.h"
#include "events/ndjson.h"

namespace homeward::bench::micro {

inline int64_t& stream_events() {
  static int64_t events = 20'000;
  return events;
}

// Removes `--events=N` from argv before benchmark::Initialize sees it (it
// refuses flags it does not know). Exits with a message on a bad value: this
// is a process edge.
inline void take_micro_flags(int& argc, char** argv) {
  constexpr std::string_view kFlag = "--events=";
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg.starts_with(kFlag)) {
      char* end = nullptr;
      const long long value = std::strtoll(argv[i] + kFlag.size(), &end, 10);
      if (end == argv[i] + kFlag.size() || *end != '\0' || value < 10) {
        std::fprintf(stderr, "bad %s: it takes a whole number of at least 10\n", argv[i]);
        std::exit(2);
      }
      stream_events() = value;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
}

struct SampleStream {
  std::vector<std::string> lines;  // NDJSON, no newline
  std::vector<events::Event> events;
  std::vector<std::string> wire;  // encode_event of each event
  int64_t line_bytes = 0;
  int64_t wire_bytes = 0;
};

// The stream of `stream_events()` events, built on first use. Aborts with a
// message when the generator fails or a line does not parse: the benchmarks
// would measure nothing meaningful then.
inline const SampleStream& sample_stream() {
  static const SampleStream stream = [] {
    SampleStream s;
    GeneratorOptions options;
    options.events = stream_events();
    options.seed = 1;
    std::ostringstream out;
    auto summary = generate(options, out);
    if (!summary) {
      std::fprintf(stderr, "generator failed: %s\n", summary.error().message.c_str());
      std::abort();
    }
    std::istringstream in(out.str());
    std::string line;
    while (std::getline(in, line)) {
      auto event = events::parse_event_json(line);
      if (!event) {
        std::fprintf(stderr, "generated line does not parse (%s: %s): %s\n",
                     event.error().field.c_str(), event.error().reason.c_str(), line.c_str());
        std::abort();
      }
      s.line_bytes += static_cast<int64_t>(line.size());
      s.wire.push_back(events::encode_event(*event));
      s.wire_bytes += static_cast<int64_t>(s.wire.back().size());
      s.events.push_back(std::move(*event));
      s.lines.push_back(std::move(line));
    }
    return s;
  }();
  return stream;
}

// The stream as a one-partition log in memory, for benchmarks of the
// projector without the embedded log. read() copies the records out, as a
// real log must.
class VectorLog final : public engine::EventLogReader {
 public:
  explicit VectorLog(const SampleStream& s) {
    records_.reserve(s.wire.size());
    for (size_t i = 0; i < s.wire.size(); ++i) {
      records_.push_back(engine::LogRecord{Partition{0}, Offset{static_cast<int64_t>(i)},
                                           s.events[i].case_id, s.wire[i]});
    }
  }
  Status seek(const engine::OffsetMap& next_offsets) override {
    const auto it = next_offsets.find(Partition{0});
    next_ = it == next_offsets.end() ? 0 : static_cast<size_t>(it->second.value());
    return {};
  }
  Status read(size_t max_records, std::chrono::milliseconds /*wait*/,
              engine::RecordBatch& batch) override {
    const size_t end = std::min(records_.size(), next_ + max_records);
    batch.records.assign(records_.begin() + static_cast<std::ptrdiff_t>(next_),
                         records_.begin() + static_cast<std::ptrdiff_t>(end));
    next_ = end;
    return {};
  }
  Result<engine::OffsetMap> end_offsets() override {
    return engine::OffsetMap{{Partition{0}, Offset{static_cast<int64_t>(records_.size())}}};
  }

 private:
  std::vector<engine::LogRecord> records_;
  size_t next_ = 0;
};

}  // namespace homeward::bench::micro

namespace homeward::bench::micro {

// Prints like the console reporter and remembers whether any benchmark
// stopped with SkipWithError, so that the process (and so ctest) fails then:
// Google Benchmark 1.7 itself exits 0 after an errored benchmark.
class FailingReporter final : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) failed_ = failed_ || run.error_occurred;
    ConsoleReporter::ReportRuns(runs);
  }
  [[nodiscard]] bool failed() const { return failed_; }

 private:
  bool failed_ = false;
};

}  // namespace homeward::bench::micro

// main() for a micro-benchmark binary: takes --events, then Google Benchmark's
// own flags; exits 1 when a benchmark reported an error.
#define HOMEWARD_MICRO_MAIN()                                           \
  int main(int argc, char** argv) {                                     \
    ::homeward::bench::micro::take_micro_flags(argc, argv);             \
    ::benchmark::Initialize(&argc, argv);                               \
    if (::benchmark::ReportUnrecognizedArguments(argc, argv)) return 1; \
    ::homeward::bench::micro::FailingReporter reporter;                 \
    ::benchmark::RunSpecifiedBenchmarks(&reporter);                     \
    ::benchmark::Shutdown();                                            \
    return reporter.failed() ? 1 : 0;                                   \
  }
