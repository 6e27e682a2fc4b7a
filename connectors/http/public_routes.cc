// The public reads (ledger_routes.h): /v1/public/cases, /v1/public/cases/{id},
// /v1/public/stats and /v1/public/raised (money raised per day), with no token, carrying exactly
// SPEC section 8's public view (projections/public_view.h) and nothing else.
//
// They answer without Homeward-Position and take no min_position: a log
// position counts every record, rejected ones included, so it would tell a
// public watcher that something it may not see (a rejection) happened.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "connectors/http/cursor.h"
#include "connectors/http/ledger_routes.h"
#include "connectors/http/problem.h"
#include "connectors/http/public_cache.h"
#include "connectors/http/route_params.h"
#include "events/identifier.h"
#include "projections/paging.h"
#include "projections/public_view.h"

namespace homeward::connectors::http {
namespace {

Response store_failure(const Error& error) {
  return problem(500, "store-failure", "The projections could not be read", error.message);
}

Response json_response(const nlohmann::ordered_json& document) {
  Response response;
  response.body = json_body(document);
  return response;
}

Response public_cases(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {"status", "limit", "cursor"})) return *bad;
  projections::CaseQuery query;
  std::string status_text = request.query_value("status").value_or("");
  if (const auto cursor = request.query_value("cursor")) {
    const auto fields = decode_cursor(*cursor);
    if (!fields || fields->size() != 3 || (*fields)[0] != "public-cases") {
      return bad_parameter("cursor",
                           "cursor: not a cursor of /v1/public/cases (pass on the one a page's "
                           "Homeward-Next-Cursor gave)");
    }
    if (request.query_value("status") && *request.query_value("status") != (*fields)[1]) {
      return bad_parameter("cursor",
                           "cursor: it keeps the status of the first page; leave it out or give "
                           "the same");
    }
    status_text = (*fields)[1];
    query.after = (*fields)[2];
  }
  if (!status_text.empty()) {
    query.status = engine::parse_case_status(status_text);
    if (!query.status) {
      return bad_parameter("status",
                           fmt::format("status={}: must be open, funded or closed", status_text));
    }
  }
  size_t limit = api.default_page;
  if (const auto text = request.query_value("limit")) {
    const auto value = parse_int(*text);
    if (!value || *value < 1 || static_cast<size_t>(*value) > api.max_page) {
      return bad_parameter("limit", fmt::format("limit={}: must be a whole number from 1 to {}",
                                                *text, api.max_page));
    }
    limit = static_cast<size_t>(*value);
  }
  query.limit = limit;
  auto page = projections::query_cases(*api.store, query);
  if (!page) {
    if (page.error().code == ErrorCode::kInvalidArgument) {
      return bad_parameter("cursor", page.error().message);
    }
    return store_failure(page.error());
  }
  Response response = json_response(projections::public_cases_json(page->cases));
  if (page->next) {
    const std::string next = public_cases_cursor(status_text, *page->next);
    response.set_header("Homeward-Next-Cursor", next);
    response.set_header(
        "Link", fmt::format("</v1/public/cases?cursor={}&limit={}>; rel=\"next\"", next, limit));
  }
  return response;
}

Response public_case(LedgerApi& api, Request& request) {
  if (auto bad = check_params(request, {})) return *bad;
  const std::string case_id(request.param("case_id"));
  auto unknown = [&case_id] {
    return problem(404, "unknown-case", "Unknown case", fmt::format("case {} is unknown", case_id),
                   {{"case_id", case_id}});
  };
  // An id that is not an identifier (`..`, `a/b`, `%00`) names no case.
  if (!events::is_valid_identifier(case_id)) return unknown();
  auto found = api.store->find_case(case_id);
  if (!found) return store_failure(found.error());
  // A case_id that only rejected events named was never opened: not a case.
  if (!found->has_value() || !(*found)->opened) return unknown();
  return json_response(projections::public_case_json(case_id, **found));
}

Response cached_response(const Result<std::shared_ptr<const PublicDocument>>& document) {
  if (!document) return store_failure(document.error());
  Response response;
  response.body = (*document)->body;
  return response;
}

}  // namespace

std::string public_cases_cursor(std::string_view status, std::string_view after_case_id) {
  return encode_cursor({"public-cases", std::string(status), std::string(after_case_id)});
}

void add_public_routes(Router& router, LedgerApi& api) {
  // The page at / (dashboard/public_page.h) reads the same documents.
  if (!api.public_cache) api.public_cache = std::make_shared<PublicCache>(api);
  PublicCache& cache = *api.public_cache;
  router.add({"GET", "/v1/public/cases", Access::kPublic, Execution::kWorker,
              [&api](Request& r) -> Reply { return public_cases(api, r); }});
  router.add({"GET", "/v1/public/cases/{case_id}", Access::kPublic, Execution::kWorker,
              [&api](Request& r) -> Reply { return public_case(api, r); }});
  router.add({"GET", "/v1/public/stats", Access::kPublic, Execution::kWorker,
              [&cache](Request& r) -> Reply {
                if (auto bad = check_params(r, {})) return *bad;
                return cached_response(cache.stats());
              }});
  router.add({"GET", "/v1/public/raised", Access::kPublic, Execution::kWorker,
              [&cache](Request& r) -> Reply {
                if (auto bad = check_params(r, {})) return *bad;
                return cached_response(cache.raised());
              }});
}

}  // namespace homeward::connectors::http
