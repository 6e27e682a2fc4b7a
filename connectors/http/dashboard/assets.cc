#include "connectors/http/dashboard/assets.h"

#include <fmt/core.h>

#include "connectors/http/problem.h"
#include "connectors/http/route_params.h"
#include "events/check.h"

namespace homeward::connectors::http::dashboard {
namespace {

// The part of the hash in a URL: 64 bits tell versions of one file apart.
constexpr size_t kUrlHashChars = 16;

// Whether an If-None-Match header names `etag` (a list, or `*`).
bool matches_etag(std::string_view header, std::string_view etag) {
  if (header.empty()) return false;
  if (header == "*") return true;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);  // a weak match is enough for GET
    if (item == etag) return true;
  }
  return false;
}

Response serve_asset(Request& request) {
  const EmbeddedAsset* asset = find_asset(request.param("file"));
  if (asset == nullptr) {
    return not_found(fmt::format("no asset /assets/{} (the dashboard's files are compiled in)",
                                 request.param("file")));
  }
  if (auto bad = check_params(request, {"v"})) return *bad;
  Response response;
  const std::string etag = fmt::format("\"{}\"", asset->sha256);
  response.set_header("ETag", etag);
  response.set_header("X-Content-Type-Options", "nosniff");
  const auto version = request.query_value("v");
  // A URL naming this very version never changes; any other must be revalidated.
  response.set_header("Cache-Control", version && asset->sha256.starts_with(*version) &&
                                               version->size() == kUrlHashChars
                                           ? "public, max-age=31536000, immutable"
                                           : "no-cache");
  response.content_type = std::string(asset->content_type);
  if (matches_etag(request.header("if-none-match"), etag)) {
    response.status = 304;
    return response;
  }
  response.body = std::string(asset->bytes);
  return response;
}

}  // namespace

const EmbeddedAsset* find_asset(std::string_view path) {
  for (const EmbeddedAsset& asset : embedded_assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

std::string asset_url(std::string_view path) {
  const EmbeddedAsset* asset = find_asset(path);
  HOMEWARD_CHECK(asset != nullptr, "a page links an asset that is not embedded");
  return fmt::format("/assets/{}?v={}", asset->path, asset->sha256.substr(0, kUrlHashChars));
}

void add_asset_route(Router& router) {
  router.add({"GET", "/assets/{*file}", Access::kPublic, Execution::kInline,
              [](Request& request) -> Reply { return serve_asset(request); }});
}

void set_page_headers(Response& response) {
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                      "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                      "frame-ancestors 'none'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Cache-Control", "no-cache");
}

}  // namespace homeward::connectors::http::dashboard
