// Micro-benchmarks of the embedded log (connectors::EmbeddedLog, RocksDB in a
// temp dir), over a realistic generated stream (see micro_support.h):
//
//   BM_LogAppend/B  EmbeddedLog::append of the stream's FlatBuffers bytes in
//                   requests of B records (the durable publish's write cost,
//                   with no parsing or encoding): below
//                   EmbeddedLog::kIngestMinRecords each append is one synced
//                   WriteBatch with the WAL on, from there on SST files that
//                   RocksDB ingests. items/s are records per second; the WAL
//                   path's memtable flushes run on RocksDB's threads, outside
//                   the figure.
//   BM_LogRead/B    EmbeddedLog::read of the whole log front to back in
//                   batches of B records, as the projector's catch-up does
//                   (the replay's read cost). items/s are records per second.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "bench/micro/micro_support.h"
#include "connectors/embedded_log/embedded_log.h"
#include "engine/event_log.h"
#include "tests/support/temp_dir.h"

namespace homeward::bench::micro {
namespace {

using connectors::EmbeddedLog;

std::vector<engine::AppendRequest> append_requests(const SampleStream& s) {
  std::vector<engine::AppendRequest> requests;
  requests.reserve(s.wire.size());
  for (size_t i = 0; i < s.wire.size(); ++i) {
    requests.push_back(engine::AppendRequest{s.events[i].case_id, s.wire[i], s.events[i].type()});
  }
  return requests;
}

// Appends every request in chunks of `chunk`; false (and the benchmark is
// skipped) on the first failure.
bool append_all(EmbeddedLog& log, const std::vector<engine::AppendRequest>& requests, size_t chunk,
                benchmark::State& state) {
  for (size_t first = 0; first < requests.size(); first += chunk) {
    const size_t count = std::min(chunk, requests.size() - first);
    auto results = log.append(std::span(requests).subspan(first, count));
    if (!results) {
      state.SkipWithError(results.error().message.c_str());
      return false;
    }
    for (const auto& result : *results) {
      if (!result) {
        state.SkipWithError(result.error().message.c_str());
        return false;
      }
    }
  }
  return true;
}

void BM_LogAppend(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  const std::vector<engine::AppendRequest> requests = append_requests(s);
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<testing::TempDir>();
    auto log = EmbeddedLog::open(dir->path());
    if (!log) {
      state.SkipWithError(log.error().message.c_str());
      break;
    }
    state.ResumeTiming();
    if (!append_all(**log, requests, static_cast<size_t>(state.range(0)), state)) break;
    state.PauseTiming();
    log->reset();
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.wire.size()));
  state.SetBytesProcessed(state.iterations() * s.wire_bytes);
}
BENCHMARK(BM_LogAppend)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_LogRead(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  testing::TempDir dir;
  {
    auto log = EmbeddedLog::open(dir.path());
    if (!log) {
      state.SkipWithError(log.error().message.c_str());
      return;
    }
    if (!append_all(**log, append_requests(s), 10'000, state)) return;
  }
  auto log = EmbeddedLog::open(dir.path());
  if (!log) {
    state.SkipWithError(log.error().message.c_str());
    return;
  }
  const auto batch_records = static_cast<size_t>(state.range(0));
  engine::RecordBatch batch;
  for (auto _ : state) {
    if (auto sought = (*log)->seek({}); !sought) {
      state.SkipWithError(sought.error().message.c_str());
      break;
    }
    size_t read = 0;
    while (read < s.wire.size()) {
      if (auto status = (*log)->read(batch_records, std::chrono::milliseconds(0), batch);
          !status || batch.records.empty()) {
        state.SkipWithError("the log ended before every record was read");
        break;
      }
      read += batch.records.size();
    }
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.wire.size()));
  state.SetBytesProcessed(state.iterations() * s.wire_bytes);
}
BENCHMARK(BM_LogRead)->Arg(20'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace homeward::bench::micro

HOMEWARD_MICRO_MAIN()
