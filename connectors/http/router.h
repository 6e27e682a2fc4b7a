// The route table: method and path pattern to handler, with what each route
// needs (its access scope, and whether it may block). The server matches
// every request here; modules add their routes (ledger_routes.h for /v1,
// and the dashboard's pages and assets), so adding a page is one add() call
// (docs/http.md, "Adding a route").
//
// Patterns are paths whose segments are literals, `{name}` (one non-empty
// segment, percent-decoded, so `%2F` stays inside it) or, as the last
// segment, `{*name}` (the rest of the path, for static assets). Literal
// routes win over parameter routes for the same path. Built before the
// server starts, then read-only (thread-safe for match).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/http/http_types.h"

namespace homeward::connectors::http {

// Who may call a route (tokens.h names the scopes).
enum class Access {
  kPublic,    // anyone, no token: /v1/public/*, /livez, /readyz, the public page
  kRead,      // a token with scope `read`
  kPublish,   // scope `publish`
  kAudit,     // scope `audit` (personal data: donor statements)
  kMetrics,   // scope `metrics`
  kAnyToken,  // any valid token (the API description)
};
[[nodiscard]] std::string_view scope_name(Access access);

// Where a handler runs: kInline on the network thread (it must answer in
// microseconds and never wait), kWorker on the worker pool (store scans,
// publishing, anything that may take milliseconds).
enum class Execution { kInline, kWorker };

using Handler = std::function<Reply(Request&)>;

struct Route {
  std::string method;   // "GET", "POST"
  std::string pattern;  // "/v1/cases/{case_id}"; also the `route` label of metrics
  Access access = Access::kRead;
  Execution execution = Execution::kWorker;
  Handler handler;
};

class Router {
 public:
  void add(Route route);

  struct Match {
    const Route* route = nullptr;  // null: no route for this method and path
    // When route is null: the methods that the path does have (405), or
    // empty (404).
    std::vector<std::string> allowed;
    std::vector<std::pair<std::string, std::string>> params;
  };
  // `path` is percent-encoded, as in the request line; kInvalidArgument-like
  // nullopt when it holds a bad escape.
  [[nodiscard]] std::optional<Match> match(std::string_view method, std::string_view path) const;

  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Compiled {
    std::vector<std::string> segments;
    bool tail = false;  // last segment is {*name}
    int literals = 0;   // more literal segments win
  };
  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

// Percent-decoding; nullopt on a bad escape. With `plus_is_space` (query
// strings) '+' decodes to ' '.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Splits a request target into its decoded path and query; nullopt on a bad
// escape.
struct Target {
  std::string raw_path;  // still encoded
  std::vector<std::pair<std::string, std::string>> query;
};
[[nodiscard]] std::optional<Target> split_target(std::string_view target);

}  // namespace homeward::connectors::http
