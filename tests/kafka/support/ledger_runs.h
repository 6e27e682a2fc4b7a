// Test support for Kafka mode's end-to-end tests: publish an NDJSON stream
// into the embedded log or a Kafka topic, project it into a real RocksDB
// store, and take the SPEC section 7 documents (cases, stats, rejections) to
// compare runs. Header-only, test-only, deterministic inputs.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/generator.h"
#include "connectors/embedded_log/embedded_log.h"
#include "connectors/kafka/kafka_log.h"
#include "engine/projector.h"
#include "engine/publisher.h"
#include "projections/json_output.h"
#include "projections/rocksdb_store.h"

namespace homeward::testing {

struct Documents {
  nlohmann::ordered_json cases;
  nlohmann::ordered_json stats;
  nlohmann::ordered_json rejections;
};

// A realistic stream (bench/generator.h): every event type, duplicates and
// rejections included.
inline std::string generated_stream(int64_t events, uint64_t seed) {
  bench::GeneratorOptions options;
  options.events = events;
  options.seed = seed;
  std::ostringstream out;
  auto summary = bench::generate(options, out);
  if (!summary) ADD_FAILURE() << summary.error().message;
  return out.str();
}

// The lines of `ndjson` whose 1-based numbers are not in `skip`.
inline std::string without_lines(const std::string& ndjson, const std::set<int64_t>& skip) {
  std::istringstream in(ndjson);
  std::string line;
  std::string kept;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (skip.contains(number)) continue;
    kept += line;
    kept += '\n';
  }
  return kept;
}

inline Documents documents_of(const projections::RocksProjectionStore& store) {
  Documents documents;
  auto cases = store.list_cases();
  auto report = store.impact_report();
  auto rejections = store.list_rejections();
  if (!cases || !report || !rejections) {
    ADD_FAILURE() << "cannot read the projections";
    return documents;
  }
  documents.cases = projections::cases_json(*cases);
  documents.stats = projections::impact_json(*report);
  documents.rejections = projections::rejections_json(*rejections);
  return documents;
}

// Rejections without their log positions, which differ between logs.
inline nlohmann::ordered_json without_positions(nlohmann::ordered_json rejections) {
  for (auto& rejection : rejections) {
    rejection.erase("partition");
    rejection.erase("offset");
  }
  return rejections;
}

// Cases and stats without the duplicate counters, for runs where a resent
// record legitimately adds duplicates.
inline Documents without_duplicate_counts(Documents documents) {
  for (auto& one_case : documents.cases) one_case.erase("duplicates");
  documents.stats["events"].erase("duplicates");
  return documents;
}

inline void expect_same_ledger(const Documents& actual, const Documents& expected) {
  EXPECT_EQ(actual.cases.dump(), expected.cases.dump());
  EXPECT_EQ(actual.stats.dump(), expected.stats.dump());
  EXPECT_EQ(without_positions(actual.rejections).dump(),
            without_positions(expected.rejections).dump());
}

inline engine::PublishReport publish(engine::EventLogAppender& log, const std::string& ndjson,
                                     size_t batch_events_max,
                                     const engine::PublishProgressCallback& progress = {}) {
  engine::PublishOptions options;
  options.batch_events_max = batch_events_max;
  engine::Publisher publisher(log, options);
  std::istringstream in(ndjson);
  auto report = publisher.publish_ndjson(in, progress);
  if (!report) {
    ADD_FAILURE() << "publish failed: " << report.error().message;
    return {};
  }
  return std::move(*report);
}

inline std::unique_ptr<projections::RocksProjectionStore> open_store(
    const std::filesystem::path& dir) {
  auto store = projections::RocksProjectionStore::open(dir);
  if (!store) {
    ADD_FAILURE() << store.error().message;
    return nullptr;
  }
  return std::move(*store);
}

inline int64_t project(engine::EventLogReader& log, projections::RocksProjectionStore& store,
                       engine::ProjectorOptions options = {},
                       const engine::ProgressCallback& progress = {}) {
  engine::Projector projector(log, store, options);
  auto report = projector.catch_up(progress);
  if (!report) {
    ADD_FAILURE() << "projection failed: " << report.error().message;
    return -1;
  }
  return report->events_read;
}

// The stream through the embedded log: the reference every Kafka run must match.
inline Documents embedded_run(const std::string& ndjson, const std::filesystem::path& dir) {
  auto log = connectors::EmbeddedLog::open(dir / "log");
  if (!log) {
    ADD_FAILURE() << log.error().message;
    return {};
  }
  const engine::PublishReport report = publish(**log, ndjson, 10'000);
  EXPECT_TRUE(report.failed.empty());
  auto store = open_store(dir / "projections");
  if (store == nullptr) return {};
  EXPECT_GE(project(**log, *store), 0);
  return documents_of(*store);
}

}  // namespace homeward::testing
