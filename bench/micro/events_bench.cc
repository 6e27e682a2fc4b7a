// Micro-benchmarks of the events module, per event of a realistic generated
// stream (see micro_support.h):
//
//   BM_ParseNdjson    events::parse_event_json: simdjson parse plus every
//                     stage-1 check of one NDJSON line (the publisher's cost
//                     per line before encoding);
//   BM_FormatNdjson   events::format_event_json: one canonical line (export);
//   BM_Encode         events::encode_event: Event -> FlatBuffers bytes;
//   BM_VerifyDecode   events::decode_event: FlatBuffers verifier plus stage-1
//                     value checks plus building the Event (the projector's
//                     first cost per record);
//   BM_Fingerprint    events::fingerprint: SHA-256 over the canonical
//                     serialization (the duplicate rule's cost per event).
//
// items/s are events per second; bytes/s count the input form's bytes.
#include <benchmark/benchmark.h>

#include "bench/micro/micro_support.h"
#include "events/codec.h"
#include "events/fingerprint.h"
#include "events/ndjson.h"

namespace homeward::bench::micro {
namespace {

void BM_ParseNdjson(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  for (auto _ : state) {
    for (const std::string& line : s.lines) {
      auto event = events::parse_event_json(line);
      if (!event) state.SkipWithError("a generated line was refused");
      benchmark::DoNotOptimize(event);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.lines.size()));
  state.SetBytesProcessed(state.iterations() * s.line_bytes);
}
BENCHMARK(BM_ParseNdjson)->Unit(benchmark::kMillisecond);

void BM_FormatNdjson(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  for (auto _ : state) {
    for (const events::Event& event : s.events) {
      std::string line = events::format_event_json(event);
      benchmark::DoNotOptimize(line);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.events.size()));
  state.SetBytesProcessed(state.iterations() * s.line_bytes);
}
BENCHMARK(BM_FormatNdjson)->Unit(benchmark::kMillisecond);

void BM_Encode(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  for (auto _ : state) {
    for (const events::Event& event : s.events) {
      std::string bytes = events::encode_event(event);
      benchmark::DoNotOptimize(bytes);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.events.size()));
  state.SetBytesProcessed(state.iterations() * s.wire_bytes);
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

void BM_VerifyDecode(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  for (auto _ : state) {
    for (const std::string& bytes : s.wire) {
      auto event = events::decode_event(bytes);
      if (!event) state.SkipWithError("a generated event failed to decode");
      benchmark::DoNotOptimize(event);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.wire.size()));
  state.SetBytesProcessed(state.iterations() * s.wire_bytes);
}
BENCHMARK(BM_VerifyDecode)->Unit(benchmark::kMillisecond);

void BM_Fingerprint(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  for (auto _ : state) {
    for (const events::Event& event : s.events) {
      events::Fingerprint print = events::fingerprint(event);
      benchmark::DoNotOptimize(print);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.events.size()));
}
BENCHMARK(BM_Fingerprint)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace homeward::bench::micro

HOMEWARD_MICRO_MAIN()
