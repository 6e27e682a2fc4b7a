// The ledger's routes: health (/livez, /readyz), /v1/info, the reads of
// SPEC section 7 (the CLI's --json documents, byte for byte: the same
// projections/json_output.h writers), the donor statement, publishing
// (POST /v1/events), the public view of SPEC section 8 and the change
// streams. Each read answers with the position it was read at
// (Homeward-Position: every record below it is in the figures) and takes
// min_position= (wait, bounded by wait_ms=, until the projections reach it).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "connectors/http/live_projection.h"
#include "connectors/http/router.h"
#include "engine/event_log.h"
#include "projections/rocksdb_store.h"

namespace homeward::connectors::http {

class Metrics;      // metrics.h
class PublicCache;  // public_cache.h

struct LedgerApi {
  // Counts publishes when set.
  Metrics* metrics = nullptr;
  projections::RocksProjectionStore* store = nullptr;
  LiveProjection* live = nullptr;
  // The log's appender, used by one publish at a time (publish_mutex).
  engine::EventLogAppender* appender = nullptr;
  std::mutex publish_mutex;
  std::string log_description;  // "the embedded log in DIR/log"
  std::string listen_address;   // "127.0.0.1:8080", for /v1/info
  // /readyz: ready once the first round is done and the lag is at most this.
  int64_t ready_lag_events = 10'000;
  // min_position and wait=outcome wait at most this long (wait_ms=).
  std::chrono::milliseconds default_wait{5'000};
  std::chrono::milliseconds max_wait{30'000};
  // Pages of /v1/cases and /v1/rejections.
  size_t default_page = 1'000;
  size_t max_page = 10'000;
  // POST /v1/events: the most events (non-blank lines, array elements) one
  // request may carry, and the longest line (longer ones are refused, as
  // `homeward publish` refuses them).
  size_t max_events_per_request = 10'000;
  size_t max_line_bytes = size_t{1} << 20;
  // The public documents per position, shared by the public routes and the
  // public page (made by add_public_routes).
  std::shared_ptr<PublicCache> public_cache;
};

// Adds the read routes (health, info, cases, case, stats, rejections,
// donors). `api` must outlive the router.
void add_read_routes(Router& router, LedgerApi& api);

// Adds POST /v1/events (publish_routes.cc): stage 1 and append exactly as
// `homeward publish`, one result per event in input order, answered once
// the events are durable; `atomic=true`, `wait=outcome`.
void add_publish_routes(Router& router, LedgerApi& api);

// Adds the public reads (public_routes.cc): /v1/public/cases,
// /v1/public/cases/{case_id}, /v1/public/stats, /v1/public/raised (money
// raised per day), SPEC section 8's view only; sets api.public_cache.
void add_public_routes(Router& router, LedgerApi& api);

// The cursor of /v1/public/cases whose page starts after `after_case_id`
// and keeps the filter `status` ("" for every case): the page at / names
// the API's page of its cards with it.
[[nodiscard]] std::string public_cases_cursor(std::string_view status,
                                              std::string_view after_case_id);

// Adds GET /metrics (scope metrics): `metrics` in the Prometheus text format.
void add_metrics_route(Router& router, Metrics& metrics);

// Adds GET /openapi.json (public): docs/openapi.json, compiled in.
void add_openapi_route(Router& router);

}  // namespace homeward::connectors::http
