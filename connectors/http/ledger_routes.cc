// The read routes (ledger_routes.h).
#include "connectors/http/ledger_routes.h"

#include <charconv>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "connectors/http/cursor.h"
#include "connectors/http/position.h"
#include "connectors/http/problem.h"
#include "connectors/http/route_params.h"
#include "events/codec.h"
#include "events/timestamp.h"
#include "projections/json_output.h"
#include "projections/paging.h"
#include "projections/read_models/donor_statement.h"
#include "projections/read_models/point_in_time.h"

#ifndef HOMEWARD_VERSION
#define HOMEWARD_VERSION "unknown"
#endif

namespace homeward::connectors::http {
namespace {

using nlohmann::ordered_json;
using ReadFn = std::function<Response(Request&)>;

// A store failure is the server's, never the client's.
Response store_failure(const Error& error) {
  return problem(500, "store-failure", "The projections could not be read", error.message);
}

Response json_response(const ordered_json& document) {
  Response response;
  response.body = json_body(document);
  return response;
}

// as_of=TIMESTAMP: the figures of the events that occurred by then.
struct AsOf {
  std::optional<TimestampMicros> at;
  std::optional<Response> error;
};
AsOf parse_as_of(const Request& request) {
  AsOf result;
  const auto text = request.query_value("as_of");
  if (!text) return result;
  auto t = projections::parse_as_of(*text);
  if (!t) {
    result.error = bad_parameter(
        "as_of",
        fmt::format("as_of={}: not an RFC 3339 timestamp or a date: {}", *text, t.error().message));
    return result;
  }
  result.at = *t;
  return result;
}

struct Limit {
  size_t value = 0;
  std::optional<Response> error;
};
Limit parse_limit(const Request& request, const LedgerApi& api) {
  Limit limit{api.default_page, std::nullopt};
  const auto text = request.query_value("limit");
  if (!text) return limit;
  const auto value = parse_int(*text);
  if (!value || *value < 1 || static_cast<size_t>(*value) > api.max_page) {
    limit.error = bad_parameter(
        "limit", fmt::format("limit={}: must be a whole number from 1 to {}", *text, api.max_page));
  }
  if (value) limit.value = static_cast<size_t>(*value);
  return limit;
}

// A read with its position: Homeward-Position is the published position
// taken before the read, so the figures include at least every record
// below it. With min_position=, the read waits (bounded) until the
// projections reach it.
Handler positioned(LedgerApi& api, ReadFn read) {
  auto run = [&api, read](Request& request) {
    const engine::OffsetMap at = api.live->position();
    Response response = read(request);
    response.set_header("Homeward-Position", format_position(at));
    return response;
  };
  return [&api, run](Request& request) -> Reply {
    const auto min = request.query_value("min_position");
    if (!min) return run(request);
    auto wanted = parse_position(*min);
    if (!wanted) {
      return bad_parameter("min_position",
                           fmt::format("min_position={}: not a position (PARTITION:OFFSET, "
                                       "comma-separated, as Homeward-Position gives it)",
                                       *min));
    }
    std::optional<Response> error;
    const auto wait = parse_wait_ms(request, api.default_wait, api.max_wait, error);
    if (error) return *error;
    if (api.live->reached(*wanted)) return run(request);
    auto kept = std::make_shared<Request>(request);
    const engine::OffsetMap target = *wanted;
    return DeferredReply{
        [&api, target] { return api.live->reached(target); }, Clock::now() + *wait,
        [&api, kept, target, run, min = *min](bool /*timed_out*/) -> Reply {
          if (!api.live->reached(target)) {
            Response response = problem(
                503, "position-not-reached", "The projections have not reached min_position",
                fmt::format("min_position={} was not reached within the wait; the projections "
                            "are at {}",
                            min, format_position(api.live->position())),
                {{"position", format_position(api.live->position())}});
            response.set_header("Retry-After", "1");
            response.set_header("Homeward-Position", format_position(api.live->position()));
            return response;
          }
          return run(*kept);
        }};
  };
}

Response livez(Request&) { return json_response({{"status", "ok"}}); }

Response readyz(LedgerApi& api) {
  const int64_t rounds = api.live->rounds();
  const int64_t lag = api.live->lag_events();
  if (rounds == 0 || lag > api.ready_lag_events) {
    Response response = problem(
        503, "not-ready", "Not ready",
        rounds == 0 ? std::string("the projector has not finished its first catch-up yet")
                    : fmt::format("the projections are {} records behind the log (ready at {} "
                                  "or fewer)",
                                  lag, api.ready_lag_events),
        {{"lag_events", lag}});
    response.set_header("Retry-After", "1");
    return response;
  }
  return json_response({{"status", "ready"}, {"lag_events", lag}});
}

Response info(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {})) return *bad;
  ordered_json doc = ordered_json::object();
  doc["version"] = HOMEWARD_VERSION;
  doc["schema_version"] = events::kSchemaVersion;
  doc["log"] = api.log_description;
  doc["listen"] = api.listen_address;
  doc["position"] = format_position(api.live->position());
  doc["lag_events"] = api.live->lag_events();
  doc["rounds"] = api.live->rounds();
  return json_response(doc);
}

Response cases(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request,
                              {"status", "limit", "cursor", "as_of", "min_position", "wait_ms"})) {
    return *bad;
  }
  projections::CaseQuery query;
  std::string status_text = request.query_value("status").value_or("");
  std::string as_of_text = request.query_value("as_of").value_or("");
  if (const auto cursor = request.query_value("cursor")) {
    const auto fields = decode_cursor(*cursor);
    if (!fields || fields->size() != 4 || (*fields)[0] != "cases") {
      return bad_parameter("cursor",
                           "cursor: not a cursor of /v1/cases (pass on the one a "
                           "page's Homeward-Next-Cursor gave)");
    }
    // The cursor keeps the filter; a different one beside it is a mistake.
    if ((request.query_value("status") && *request.query_value("status") != (*fields)[1]) ||
        (request.query_value("as_of") && *request.query_value("as_of") != (*fields)[2])) {
      return bad_parameter("cursor",
                           "cursor: it keeps the status and as_of of the first page; leave them "
                           "out or give the same");
    }
    status_text = (*fields)[1];
    as_of_text = (*fields)[2];
    query.after = (*fields)[3];
  }
  if (!status_text.empty()) {
    query.status = engine::parse_case_status(status_text);
    if (!query.status) {
      return bad_parameter("status",
                           fmt::format("status={}: must be open, funded or closed", status_text));
    }
  }
  const Limit limit = parse_limit(request, api);
  if (limit.error) return *limit.error;
  query.limit = limit.value;
  std::optional<TimestampMicros> as_of;
  if (!as_of_text.empty()) {
    auto t = projections::parse_as_of(as_of_text);
    if (!t) {
      return bad_parameter("as_of", fmt::format("as_of={}: not an RFC 3339 timestamp or a date: {}",
                                                as_of_text, t.error().message));
    }
    as_of = *t;
  }
  auto page = as_of ? projections::query_cases_as_of(*api.store, query, *as_of)
                    : projections::query_cases(*api.store, query);
  if (!page) {
    if (page.error().code == ErrorCode::kInvalidArgument) {
      return bad_parameter("cursor", page.error().message);
    }
    return store_failure(page.error());
  }
  Response response = json_response(projections::cases_json(page->cases));
  if (page->next) {
    const std::string next = encode_cursor({"cases", status_text, as_of_text, *page->next});
    response.set_header("Homeward-Next-Cursor", next);
    response.set_header(
        "Link", fmt::format("</v1/cases?cursor={}&limit={}>; rel=\"next\"", next, limit.value));
  }
  return response;
}

Response one_case(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {"as_of", "min_position", "wait_ms"})) return *bad;
  const AsOf as_of = parse_as_of(request);
  if (as_of.error) return *as_of.error;
  const std::string case_id(request.param("case_id"));
  auto found = as_of.at ? projections::case_as_of(*api.store, case_id, *as_of.at)
                        : api.store->find_case(case_id);
  if (!found) return store_failure(found.error());
  if (!found->has_value()) {
    return problem(404, "unknown-case", "Unknown case",
                   fmt::format("case {} is unknown{}", case_id,
                               as_of.at ? " as of " + events::format_timestamp(*as_of.at) : ""),
                   {{"case_id", case_id}});
  }
  return json_response(projections::case_json(case_id, **found));
}

Response stats(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {"as_of", "min_position", "wait_ms"})) return *bad;
  const AsOf as_of = parse_as_of(request);
  if (as_of.error) return *as_of.error;
  auto report =
      as_of.at ? projections::impact_as_of(*api.store, *as_of.at) : api.store->impact_report();
  if (!report) return store_failure(report.error());
  return json_response(projections::impact_json(*report));
}

Response rejections(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {"limit", "cursor", "min_position", "wait_ms"})) {
    return *bad;
  }
  projections::RejectionQuery query;
  if (const auto cursor = request.query_value("cursor")) {
    const auto fields = decode_cursor(*cursor);
    std::optional<projections::RejectionKey> after;
    if (fields && fields->size() == 2 && (*fields)[0] == "rejections") {
      auto key = projections::parse_rejection_cursor((*fields)[1]);
      if (key) after = std::move(*key);
    }
    if (!after) {
      return bad_parameter("cursor",
                           "cursor: not a cursor of /v1/rejections (pass on the one a "
                           "page's Homeward-Next-Cursor gave)");
    }
    query.after = std::move(after);
  }
  const Limit limit = parse_limit(request, api);
  if (limit.error) return *limit.error;
  query.limit = limit.value;
  auto page = projections::query_rejections(*api.store, query);
  if (!page) {
    if (page.error().code == ErrorCode::kInvalidArgument) {
      return bad_parameter("cursor", page.error().message);
    }
    return store_failure(page.error());
  }
  Response response = json_response(projections::rejections_json(page->rejections));
  if (page->next) {
    const std::string next =
        encode_cursor({"rejections", projections::format_rejection_cursor(*page->next)});
    response.set_header("Homeward-Next-Cursor", next);
    response.set_header("Link", fmt::format("</v1/rejections?cursor={}&limit={}>; rel=\"next\"",
                                            next, limit.value));
  }
  return response;
}

Response donor(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {"min_position", "wait_ms"})) return *bad;
  const std::string donor_ref(request.param("donor_ref"));
  auto statement = projections::donor_statement(*api.store, donor_ref);
  if (!statement) {
    if (statement.error().code == ErrorCode::kNotFound) {
      return problem(404, "unknown-donor", "Unknown donor", statement.error().message);
    }
    return store_failure(statement.error());
  }
  Response response = json_response(projections::donor_statement_json(*statement));
  // Personal data: no cache may keep it.
  response.set_header("Cache-Control", "no-store");
  return response;
}

}  // namespace

void add_read_routes(Router& router, LedgerApi& api) {
  router.add({"GET", "/livez", Access::kPublic, Execution::kInline, livez});
  router.add({"GET", "/readyz", Access::kPublic, Execution::kInline,
              [&api](Request&) -> Reply { return readyz(api); }});
  router.add({"GET", "/v1/info", Access::kRead, Execution::kInline,
              [&api](Request& r) -> Reply { return info(api, r); }});
  router.add({"GET", "/v1/cases", Access::kRead, Execution::kWorker,
              positioned(api, [&api](Request& r) { return cases(api, r); })});
  router.add({"GET", "/v1/cases/{case_id}", Access::kRead, Execution::kWorker,
              positioned(api, [&api](Request& r) { return one_case(api, r); })});
  router.add({"GET", "/v1/stats", Access::kRead, Execution::kWorker,
              positioned(api, [&api](Request& r) { return stats(api, r); })});
  router.add({"GET", "/v1/rejections", Access::kRead, Execution::kWorker,
              positioned(api, [&api](Request& r) { return rejections(api, r); })});
  router.add({"GET", "/v1/donors/{donor_ref}", Access::kAudit, Execution::kWorker,
              positioned(api, [&api](Request& r) { return donor(api, r); })});
}

}  // namespace homeward::connectors::http
