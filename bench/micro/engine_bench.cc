// Micro-benchmarks of the engine's hot path, per event of a realistic
// generated stream (see micro_support.h):
//
//   BM_HandleEvent      engine::handle_event on in-memory CaseLedgers: the
//                       duplicate rule, the checks and the effect of stage 2,
//                       plus the hash-map lookup of the event's case and the
//                       clearing of `dirty` every 20,000 events as the
//                       projector does after a commit. Each iteration folds
//                       the whole stream into fresh ledgers.
//   BM_ChainHead        engine::next_chain_head: the SHA-256 tamper-evidence
//                       chain over one record's bytes.
//   BM_ProjectorNoStore engine::Projector::catch_up over an in-memory log into
//                       a store that only counts what it is given: the whole
//                       projector loop (copying records out of the log, chain
//                       head, verify + decode, fold, building each BatchCommit)
//                       without RocksDB. Its gap to the replay's end-to-end
//                       rate is what the store and the log cost.
//
// items/s are events per second.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench/micro/micro_support.h"
#include "engine/case_ledger.h"
#include "engine/event_log.h"
#include "engine/projection_store.h"
#include "engine/projector.h"
#include "engine/rules.h"
#include "events/check.h"

namespace homeward::bench::micro {
namespace {

constexpr size_t kCommitEvery = 20'000;

void BM_HandleEvent(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  int64_t applied = 0;
  for (auto _ : state) {
    std::unordered_map<std::string, engine::CaseLedger> ledgers;
    std::vector<engine::CaseLedger*> touched;
    size_t in_batch = 0;
    for (const events::Event& event : s.events) {
      auto [it, created] = ledgers.try_emplace(event.case_id);
      engine::CaseLedger& ledger = it->second;
      if (created) ledger.case_id = event.case_id;
      if (ledger.dirty.empty()) touched.push_back(&ledger);
      auto handled = engine::handle_event(ledger, event);
      HOMEWARD_CHECK(handled.has_value(), "the benchmark's ids fit the id tables");
      const engine::Outcome outcome = *handled;
      applied += outcome.disposition == engine::Disposition::kApplied ? 1 : 0;
      if (++in_batch == kCommitEvery) {
        for (engine::CaseLedger* dirty : touched) dirty->dirty.clear();
        touched.clear();
        in_batch = 0;
      }
    }
    benchmark::DoNotOptimize(ledgers);
  }
  benchmark::DoNotOptimize(applied);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.events.size()));
}
BENCHMARK(BM_HandleEvent)->Unit(benchmark::kMillisecond);

void BM_ChainHead(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  engine::ChainHead head{};
  for (auto _ : state) {
    int64_t offset = 0;
    for (const std::string& bytes : s.wire)
      head = engine::next_chain_head(head, Offset{offset++}, bytes);
    benchmark::DoNotOptimize(head);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.wire.size()));
  state.SetBytesProcessed(state.iterations() * s.wire_bytes);
}
BENCHMARK(BM_ChainHead)->Unit(benchmark::kMillisecond);

// A store that keeps nothing and counts the records a real store would write.
class CountingStore final : public engine::ProjectionStore {
 public:
  Result<engine::Checkpoints> load_checkpoints() override { return engine::Checkpoints{}; }
  Result<engine::ProjectionTotals> load_totals() override { return engine::ProjectionTotals{}; }
  Result<std::optional<engine::CaseLedger>> load_case(std::string_view /*case_id*/) override {
    return std::optional<engine::CaseLedger>();
  }
  Result<engine::ChainSegment> load_open_chain_segment(Partition partition,
                                                       Offset next_offset) override {
    return engine::ChainSegment{partition, next_offset, {}};
  }
  Status commit(const engine::BatchCommit& batch) override {
    // The summary, the new history events, a donor index record per new
    // donor of a case and a global donor record per new giver.
    for (const engine::CaseLedger* ledger : batch.cases) {
      records_ +=
          1 + static_cast<int64_t>(ledger->dirty.history.size() + ledger->dirty.new_donors.size() +
                                   ledger->dirty.new_givers.size());
    }
    records_ += static_cast<int64_t>(batch.rejections.size() + batch.chain_segments.size());
    return {};
  }
  [[nodiscard]] int64_t records() const { return records_; }

 private:
  int64_t records_ = 0;
};

void BM_ProjectorNoStore(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  int64_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto log = std::make_unique<VectorLog>(s);
    CountingStore store;
    state.ResumeTiming();
    engine::Projector projector(*log, store);
    auto report = projector.catch_up();
    if (!report || report->events_read != static_cast<int64_t>(s.wire.size())) {
      state.SkipWithError("catch_up failed or read a wrong number of events");
      break;
    }
    records = store.records();
  }
  state.counters["store_records_per_event"] =
      static_cast<double>(records) / static_cast<double>(s.wire.size());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.wire.size()));
}
BENCHMARK(BM_ProjectorNoStore)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace homeward::bench::micro

HOMEWARD_MICRO_MAIN()
