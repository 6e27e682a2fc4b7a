// The operator page at /ops and its document GET /v1/ops (issue 13 item 2,
// docs/dashboard.md "The operator page"): events/s, projection lag per
// partition, events by outcome, rejections by reason with the latest
// rejected events, the HTTP request rate and p99, the last audit.
//
// How a browser supplies the `read` token: /ops itself is public and holds
// no figure, only a form for the token and the empty layout. ops.js keeps
// the token in sessionStorage (this tab only, gone when it closes; never a
// cookie, so no other site's page can make the browser send it) and sends
// it as `Authorization: Bearer` to GET /v1/ops, every 2 s, filling the page
// from that document. So the figures never travel without the token, and
// the page shows exactly the JSON route's figures. Thread-safe.
#pragma once

#include "connectors/http/ledger_routes.h"
#include "connectors/http/ops_monitor.h"
#include "connectors/http/router.h"

namespace homeward::connectors::http::dashboard {

// The page's HTML (no figure in it).
[[nodiscard]] std::string render_ops_page();

// GET /v1/ops (scope read, on a worker: it reads the audit report) and
// GET /ops (public). `api` and `monitor` must outlive the router.
void add_ops_routes(Router& router, LedgerApi& api, OpsMonitor& monitor);

}  // namespace homeward::connectors::http::dashboard
