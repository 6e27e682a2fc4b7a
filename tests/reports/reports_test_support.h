// Shared pieces of the reports tests: projecting a list of events (or raw
// records) through a real embedded log into a real projection store, each in
// its own temp dir. Header-only and test-only.
#pragma once

#include <memory>
#include <vector>

#include "tests/integration/projection_test_support.h"

namespace homeward::testing {

// `h` hours after 2015-06-01T00:00:00Z.
inline TimestampMicros hour(int h) {
  return TimestampMicros(june(1).value() + int64_t{h} * 3600 * kMicrosPerSecond);
}

struct Projected {
  TempDir log_dir;
  TempDir store_dir;
  std::unique_ptr<EmbeddedLog> log;
  std::unique_ptr<RocksProjectionStore> store;
};

inline std::vector<AppendRequest> requests(const std::vector<Event>& events) {
  std::vector<AppendRequest> out;
  for (const Event& event : events) out.push_back(request_for(event));
  return out;
}

// Publishes `records` into a fresh log and projects them in small batches, so
// that a case's history spans several commits.
inline std::unique_ptr<Projected> project_records(const std::vector<AppendRequest>& records) {
  auto p = std::make_unique<Projected>();
  p->log = open_log(p->log_dir.path());
  p->store = open_store(p->store_dir.path());
  if (p->log == nullptr || p->store == nullptr) return nullptr;
  append_records(*p->log, records);
  auto report = project(*p->log, *p->store, 37);
  EXPECT_TRUE(report.has_value()) << report.error().message;
  if (!report) return nullptr;
  return p;
}

inline std::unique_ptr<Projected> project_events(const std::vector<Event>& events) {
  return project_records(requests(events));
}

}  // namespace homeward::testing
