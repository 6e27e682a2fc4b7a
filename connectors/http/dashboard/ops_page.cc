#include "connectors/http/dashboard/ops_page.h"

#include <fmt/core.h>

#include "connectors/http/dashboard/assets.h"
#include "connectors/http/position.h"
#include "connectors/http/route_params.h"

namespace homeward::connectors::http::dashboard {

std::string render_ops_page() {
  return fmt::format(
      R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Homeward operations</title>
<link rel="icon" href="{}" type="image/svg+xml">
<link rel="stylesheet" href="{}">
<link rel="stylesheet" href="{}">
<script src="{}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="site"><div class="wrap">
<h1>Homeward operations</h1>
<p>The server's own figures, from <code>GET /v1/ops</code>: they need a token with the <code>read</code> scope.</p>
</div></header>
<main id="main" class="wrap" tabindex="-1">
<noscript><p class="note">This page fetches its figures with the token, which needs JavaScript. Without it, read <code>GET /v1/ops</code> with <code>Authorization: Bearer TOKEN</code>.</p></noscript>
<section id="login" aria-labelledby="login-title">
<h2 id="login-title">Sign in</h2>
<form id="login-form">
<p><label for="token">Token with the read scope</label>
<input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required></p>
<p class="hint">Kept in this tab only (sessionStorage) and sent as an <code>Authorization</code> header; never stored by the server or in a cookie.</p>
<p><button type="submit">Show the figures</button></p>
<p id="login-error" class="error" role="alert"></p>
</form>
</section>
<div id="figures" hidden>
<p class="live" role="status" id="ops-status"></p>
<p><button type="button" id="sign-out">Sign out</button></p>
<section aria-labelledby="flow-title">
<h2 id="flow-title">Events</h2>
<dl class="figures">
<div><dt>Events handled per second</dt><dd data-ops="events_per_second"></dd></div>
<div><dt>Applied</dt><dd data-ops="handled.applied"></dd></div>
<div><dt>Duplicate</dt><dd data-ops="handled.duplicate"></dd></div>
<div><dt>Rejected</dt><dd data-ops="handled.rejected"></dd></div>
<div><dt>Projection position</dt><dd data-ops="position"></dd></div>
</dl>
</section>
<section aria-labelledby="lag-title">
<h2 id="lag-title">Projection lag per partition</h2>
<table><caption>Records in the log not yet projected, and for how long the partition has not been caught up</caption>
<thead><tr><th scope="col">Partition</th><th scope="col">Lag (records)</th><th scope="col">Lag (seconds)</th></tr></thead>
<tbody id="lag-rows"></tbody></table>
</section>
<section aria-labelledby="http-title">
<h2 id="http-title">HTTP</h2>
<dl class="figures">
<div><dt>Requests per second</dt><dd data-ops="http.requests_per_second"></dd></div>
<div><dt>p99 duration (ms)</dt><dd data-ops="http.p99_ms"></dd></div>
<div><dt>Requests in the window</dt><dd data-ops="http.requests_in_window"></dd></div>
</dl>
</section>
<section aria-labelledby="reasons-title">
<h2 id="reasons-title">Rejections by reason</h2>
<table><caption>Events the projector rejected since the server started, by SPEC reason</caption>
<thead><tr><th scope="col">Reason</th><th scope="col">Events</th></tr></thead>
<tbody id="reason-rows"></tbody></table>
</section>
<section aria-labelledby="latest-title">
<h2 id="latest-title">Latest rejected events</h2>
<div class="table-scroll" role="region" aria-labelledby="latest-title" tabindex="0">
<table><caption>The latest rejected events, newest first</caption>
<thead><tr><th scope="col">Position</th><th scope="col">Case</th><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Reason</th></tr></thead>
<tbody id="latest-rows"></tbody></table>
</div>
</section>
<section aria-labelledby="audit-title">
<h2 id="audit-title">Last audit</h2>
<dl class="figures" id="audit-figures">
<div><dt>Result</dt><dd data-ops="audit.result"></dd></div>
<div class="wide"><dt>Generated at</dt><dd data-ops="audit.generated_at"></dd></div>
<div class="wide"><dt>State digest (SHA-256)</dt><dd data-ops="audit.state_digest"></dd></div>
<div class="wide"><dt>Report directory</dt><dd data-ops="audit.dir"></dd></div>
</dl>
<p id="audit-note" class="note"></p>
</section>
</div>
</main>
</body>
</html>
)",
      asset_url("favicon.svg"), asset_url("base.css"), asset_url("ops.css"), asset_url("ops.js"));
}

void add_ops_routes(Router& router, LedgerApi& api, OpsMonitor& monitor) {
  router.add({"GET", "/v1/ops", Access::kRead, Execution::kWorker,
              [&api, &monitor](Request& request) -> Reply {
                if (auto bad = check_params(request, {})) return *bad;
                const std::string position = format_position(api.live->position());
                Response response;
                response.body = monitor.snapshot(position).dump() + "\n";
                response.set_header("Homeward-Position", position);
                // The operator's figures are not for a shared cache.
                response.set_header("Cache-Control", "no-store");
                return response;
              }});
  router.add({"GET", "/ops", Access::kPublic, Execution::kInline, [](Request& request) -> Reply {
                if (auto bad = check_params(request, {})) return *bad;
                Response response;
                response.content_type = "text/html; charset=utf-8";
                response.body = render_ops_page();
                set_page_headers(response);
                return response;
              }});
}

}  // namespace homeward::connectors::http::dashboard
