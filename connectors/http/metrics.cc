#include "connectors/http/metrics.h"

#include "connectors/http/ledger_routes.h"
#include "connectors/http/route_params.h"

#include <prometheus/text_serializer.h>

#include <map>
#include <sstream>

namespace homeward::connectors::http {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

std::string_view method_label(std::string_view method) {
  for (const std::string_view known :
       {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    if (method == known) return known;
  }
  return "other";
}

const prometheus::Histogram::BucketBoundaries& duration_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
  return buckets;
}

}  // namespace

Metrics::Metrics(std::string_view version, int schema_version)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(BuildCounter()
                    .Name("homeward_http_requests_total")
                    .Help("HTTP requests answered, by route pattern, method and status")
                    .Register(*registry_)),
      request_seconds_(BuildHistogram()
                           .Name("homeward_http_request_duration_seconds")
                           .Help("Time from a request read to its answer written, by route")
                           .Register(*registry_)),
      streams_(BuildGauge()
                   .Name("homeward_sse_clients")
                   .Help("Open Server-Sent Events streams")
                   .Register(*registry_)
                   .Add({})),
      appended_(BuildCounter()
                    .Name("homeward_events_appended_total")
                    .Help("Events appended through POST /v1/events")
                    .Register(*registry_)
                    .Add({})),
      refused_(BuildCounter()
                   .Name("homeward_events_refused_total")
                   .Help("Events refused by stage 1 in POST /v1/events")
                   .Register(*registry_)
                   .Add({})),
      round_seconds_(BuildHistogram()
                         .Name("homeward_projector_round_duration_seconds")
                         .Help("Time of a projector round that had records, from its first "
                               "record to its last commit")
                         .Register(*registry_)
                         .Add({}, duration_buckets())),
      lag_events_(BuildGauge()
                      .Name("homeward_projection_lag_events")
                      .Help("Records in the log not yet projected (all partitions)")
                      .Register(*registry_)
                      .Add({})),
      lag_seconds_(BuildGauge()
                       .Name("homeward_projection_lag_seconds")
                       .Help("Seconds since the projections were last caught up with the log "
                             "(0 while they are)")
                       .Register(*registry_)
                       .Add({})),
      partition_lag_events_(BuildGauge()
                                .Name("homeward_projection_partition_lag_events")
                                .Help("Records of a log partition not yet projected")
                                .Register(*registry_)),
      partition_lag_seconds_(BuildGauge()
                                 .Name("homeward_projection_partition_lag_seconds")
                                 .Help("Seconds since a log partition was last caught up (0 "
                                       "while it is)")
                                 .Register(*registry_)) {
  auto& handled = BuildCounter()
                      .Name("homeward_events_handled_total")
                      .Help("Events handled by the projector, by stage-2 outcome")
                      .Register(*registry_);
  outcomes_[0] = &handled.Add({{"outcome", "applied"}});
  outcomes_[1] = &handled.Add({{"outcome", "duplicate"}});
  outcomes_[2] = &handled.Add({{"outcome", "rejected"}});
  auto& rejected = BuildCounter()
                       .Name("homeward_rejections_total")
                       .Help("Events rejected by the projector, by SPEC reason")
                       .Register(*registry_);
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    rejections_[i] = &rejected.Add(
        {{"reason", std::string(engine::to_string(static_cast<engine::RejectReason>(i)))}});
  }
  BuildGauge()
      .Name("homeward_build_info")
      .Help("The server's version and event schema version (always 1)")
      .Register(*registry_)
      .Add({{"version", std::string(version)}, {"schema_version", std::to_string(schema_version)}})
      .Set(1);
}

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  requests_
      .Add({{"route", std::string(route)},
            {"method", std::string(method_label(method))},
            {"code", std::to_string(status)}})
      .Increment();
  request_seconds_.Add({{"route", std::string(route)}}, duration_buckets()).Observe(seconds);
}

void Metrics::stream_count(int delta) { streams_.Increment(delta); }

void Metrics::published(int64_t appended, int64_t refused) {
  appended_.Increment(static_cast<double>(appended));
  refused_.Increment(static_cast<double>(refused));
}

void Metrics::handled(const engine::Outcome& outcome) {
  outcomes_[static_cast<size_t>(outcome.disposition)]->Increment();
  if (outcome.disposition == engine::Disposition::kRejected) {
    rejections_[static_cast<size_t>(outcome.reason)]->Increment();
  }
}

void Metrics::round(double seconds) { round_seconds_.Observe(seconds); }

void Metrics::lag(int64_t events, double seconds) {
  lag_events_.Set(static_cast<double>(events));
  lag_seconds_.Set(seconds);
}

void Metrics::partition_lag(int32_t partition, int64_t events, double seconds) {
  const std::map<std::string, std::string> labels{{"partition", std::to_string(partition)}};
  partition_lag_events_.Add(labels).Set(static_cast<double>(events));
  partition_lag_seconds_.Add(labels).Set(seconds);
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

extern const std::string_view kOpenApiDocument;  // openapi_document.cc (generated)

void add_openapi_route(Router& router) {
  router.add(
      {"GET", "/openapi.json", Access::kPublic, Execution::kInline, [](Request& request) -> Reply {
         if (auto bad = check_params(request, {})) return *bad;
         Response response;
         response.body = std::string(kOpenApiDocument);
         return response;
       }});
}

void add_metrics_route(Router& router, Metrics& metrics) {
  router.add({"GET", "/metrics", Access::kMetrics, Execution::kInline,
              [&metrics](Request& request) -> Reply {
                if (auto bad = check_params(request, {})) return *bad;
                Response response;
                response.content_type = "text/plain; version=0.0.4; charset=utf-8";
                response.body = metrics.render();
                return response;
              }});
}

}  // namespace homeward::connectors::http
