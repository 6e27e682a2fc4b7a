// The public dashboard page at / (issue 13, docs/dashboard.md): the impact
// report, money raised over time and one card per case, rendered on the
// server as plain HTML (readable without JavaScript) from the public
// documents only (SPEC section 8: projections/public_view.h, the same JSON
// the /v1/public/* routes answer), so the page cannot show what they do not
// carry. public.js then keeps it live from /v1/public/changes.
//
// The renderers are pure functions of those documents and the day; the
// routes read the documents through the shared PublicCache. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "connectors/http/ledger_routes.h"
#include "connectors/http/router.h"

namespace homeward::connectors::http::dashboard {

// Which cards a page shows: the cases after `after` (all from the first
// when empty) with the status `status` (every status when empty), at most
// PublicPageOptions::cases_per_page of them, so that the page's weight does
// not grow with the ledger (docs/dashboard.md).
struct CardsPage {
  std::string status;
  std::string after;
  // The last case_id of this page when more cases follow it.
  std::optional<std::string> next_after;
  // The API's page of the same cases (/v1/public/cases?...), which
  // public.js reads again when it connects.
  std::string source;
};

struct PublicPageData {
  const nlohmann::ordered_json* stats = nullptr;   // GET /v1/public/stats
  const nlohmann::ordered_json* cases = nullptr;   // GET /v1/public/cases: this page's cases
  const nlohmann::ordered_json* raised = nullptr;  // GET /v1/public/raised
  CardsPage cards;
  std::chrono::sys_days today{};                    // UTC: days open count to it
  std::chrono::milliseconds public_window{60'000};  // said on the page
};

struct PublicPageOptions {
  std::chrono::milliseconds public_window{60'000};  // serve --public-window-ms
  size_t cases_per_page = 24;                       // serve --public-page-cases
};

[[nodiscard]] std::string render_public_page(const PublicPageData& data);
// The chart section's inside (its heading, a chart and a table per
// currency): part of the page, and alone at /fragments/raised, which
// public.js fetches to redraw the chart after a window's changes.
[[nodiscard]] std::string render_raised_section(const nlohmann::ordered_json& raised);

// Days from `from` to `to` (dates YYYY-MM-DD), or nullopt when either is
// not such a date.
[[nodiscard]] std::optional<int64_t> days_between(std::string_view from, std::string_view to);

// GET / (?status=&after=: the cards of one page) and GET /fragments/raised (public, on the worker
// pool: a miss of the cache scans the store). add_public_routes must have run (api.public_cache).
void add_public_page_routes(Router& router, LedgerApi& api, const PublicPageOptions& options);

}  // namespace homeward::connectors::http::dashboard
