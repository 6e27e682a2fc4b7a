// Micro-benchmarks of the projection store (RocksDB in a temp dir), over a
// realistic generated stream (see micro_support.h):
//
//   BM_StoreCommit/B      RocksProjectionStore::commit alone: the stream is
//                         folded with engine::handle_event in batches of B
//                         events (fold time excluded), and each batch's
//                         BatchCommit (touched cases with their dirty records
//                         and new history events, rejections, totals,
//                         positions) is timed going into
//                         a fresh store. items/s are events per second.
//   BM_ProjectorIntoStore engine::Projector::catch_up from an in-memory log into
//                         a fresh RocksProjectionStore: the replay without the
//                         embedded log's reads.
//   BM_FindCase           RocksProjectionStore::find_case on random case ids of
//                         a populated store: one case's figures, in-process.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/micro/micro_support.h"
#include "engine/case_ledger.h"
#include "engine/event_log.h"
#include "engine/projection_store.h"
#include "engine/projector.h"
#include "engine/rules.h"
#include "events/check.h"
#include "events/codec.h"
#include "projections/rocksdb_store.h"
#include "tests/support/temp_dir.h"

namespace homeward::bench::micro {
namespace {

using projections::RocksProjectionStore;

std::unique_ptr<RocksProjectionStore> open_store(const std::filesystem::path& dir,
                                                 benchmark::State& state) {
  auto store = RocksProjectionStore::open(dir);
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return nullptr;
  }
  return std::move(*store);
}

void BM_StoreCommit(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  const auto batch_events = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<testing::TempDir>();
    auto store = open_store(dir->path(), state);
    if (!store) break;
    std::unordered_map<std::string, engine::CaseLedger> ledgers;
    engine::ProjectionTotals totals;
    size_t next = 0;
    while (next < s.events.size()) {
      // Fold one batch (not timed).
      std::vector<engine::CaseLedger*> touched;
      engine::BatchCommit commit;
      const size_t end = std::min(s.events.size(), next + batch_events);
      for (; next < end; ++next) {
        const events::Event& event = s.events[next];
        auto [it, created] = ledgers.try_emplace(event.case_id);
        engine::CaseLedger& ledger = it->second;
        if (created) ledger.case_id = event.case_id;
        if (ledger.dirty.empty()) touched.push_back(&ledger);
        auto handled = engine::handle_event(ledger, event);
        HOMEWARD_CHECK(handled.has_value(), "the benchmark's ids fit the id tables");
        const engine::Outcome outcome = *handled;
        // Every event goes to its case's history, as the projector does.
        ledger.dirty.history.push_back(engine::HistoryEvent{
            Partition{0}, Offset{static_cast<int64_t>(next)}, events::encode_event(event)});
        totals.count(outcome);
        if (outcome.disposition == engine::Disposition::kRejected) {
          commit.rejections.push_back(engine::RejectionRecord{event.case_id,
                                                              event.event_id,
                                                              event.type(),
                                                              outcome.reason,
                                                              Partition{0},
                                                              Offset{static_cast<int64_t>(next)},
                                                              {}});
        }
      }
      commit.cases = touched;
      commit.totals = totals;
      commit.checkpoints[Partition{0}] =
          engine::PartitionCheckpoint{Offset{static_cast<int64_t>(next)}, {}};
      // Time only the commit.
      state.ResumeTiming();
      auto committed = store->commit(commit);
      state.PauseTiming();
      if (!committed) {
        state.SkipWithError(committed.error().message.c_str());
        break;
      }
      for (engine::CaseLedger* ledger : touched) ledger->dirty.clear();
    }
    store.reset();  // flushes on close: not part of a commit
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.events.size()));
}
BENCHMARK(BM_StoreCommit)->Arg(1'000)->Arg(20'000)->Unit(benchmark::kMillisecond);

void BM_ProjectorIntoStore(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<testing::TempDir>();
    auto store = open_store(dir->path(), state);
    if (!store) break;
    VectorLog log(s);
    state.ResumeTiming();
    engine::Projector projector(log, *store);
    auto report = projector.catch_up();
    state.PauseTiming();
    if (!report || report->events_read != static_cast<int64_t>(s.wire.size())) {
      state.SkipWithError("catch_up failed or read a wrong number of events");
      break;
    }
    store.reset();
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(s.wire.size()));
}
BENCHMARK(BM_ProjectorIntoStore)->Unit(benchmark::kMillisecond);

void BM_FindCase(benchmark::State& state) {
  const SampleStream& s = sample_stream();
  testing::TempDir dir;
  auto store = open_store(dir.path(), state);
  if (!store) return;
  {
    VectorLog log(s);
    engine::Projector projector(log, *store);
    if (auto report = projector.catch_up(); !report) {
      state.SkipWithError(report.error().message.c_str());
      return;
    }
  }
  auto cases = store->list_cases();
  if (!cases || cases->empty()) {
    state.SkipWithError("the populated store lists no case");
    return;
  }
  std::mt19937_64 random(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 4096; ++i) ids.push_back((*cases)[random() % cases->size()].case_id);
  size_t next = 0;
  for (auto _ : state) {
    auto found = store->find_case(ids[next++ & 4095]);
    if (!found || !found->has_value()) {
      state.SkipWithError("find_case missed a listed case");
      break;
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FindCase);

}  // namespace
}  // namespace homeward::bench::micro

HOMEWARD_MICRO_MAIN()
