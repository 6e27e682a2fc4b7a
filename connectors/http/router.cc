#include "connectors/http/router.h"

#include <algorithm>
#include <utility>

#include "events/check.h"

namespace homeward::connectors::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string_view scope_name(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kRead:
      return "read";
    case Access::kPublish:
      return "publish";
    case Access::kAudit:
      return "audit";
    case Access::kMetrics:
      return "metrics";
    case Access::kAnyToken:
      return "any";
  }
  return "unknown";
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<Target> split_target(std::string_view target) {
  Target result;
  const size_t question = target.find('?');
  result.raw_path = std::string(target.substr(0, question));
  if (question == std::string_view::npos) return result;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!name || !value) return std::nullopt;
    result.query.emplace_back(std::move(*name), std::move(*value));
  }
  return result;
}

void Router::add(Route route) {
  HOMEWARD_CHECK(route.pattern.starts_with('/'), "a route pattern starts with /");
  HOMEWARD_CHECK(static_cast<bool>(route.handler), "a route needs a handler");
  Compiled compiled;
  const auto segments = split_path(route.pattern);
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string_view segment = segments[i];
    if (segment.starts_with("{*")) {
      HOMEWARD_CHECK(i + 1 == segments.size(), "{*name} must be the last segment");
      compiled.tail = true;
    } else if (!is_parameter(segment)) {
      ++compiled.literals;
    }
    compiled.segments.emplace_back(segment);
  }
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(compiled));
}

std::optional<Router::Match> Router::match(std::string_view method, std::string_view path) const {
  const auto segments = split_path(path);
  std::vector<std::string> decoded;
  decoded.reserve(segments.size());
  for (const std::string_view segment : segments) {
    auto text = percent_decode(segment, false);
    if (!text) return std::nullopt;
    decoded.push_back(std::move(*text));
  }
  Match best;
  int best_literals = -1;
  std::vector<std::string> allowed;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const Compiled& c = compiled_[r];
    if (c.tail ? decoded.size() < c.segments.size() : decoded.size() != c.segments.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool matches = true;
    for (size_t i = 0; i < c.segments.size() && matches; ++i) {
      const std::string& pattern = c.segments[i];
      if (pattern.starts_with("{*")) {
        std::string rest;
        for (size_t j = i; j < decoded.size(); ++j) {
          if (j > i) rest.push_back('/');
          rest += decoded[j];
        }
        params.emplace_back(pattern.substr(2, pattern.size() - 3), std::move(rest));
      } else if (is_parameter(pattern)) {
        if (decoded[i].empty()) matches = false;
        params.emplace_back(pattern.substr(1, pattern.size() - 2), decoded[i]);
      } else if (pattern != decoded[i]) {
        matches = false;
      }
    }
    if (!matches) continue;
    if (routes_[r].method != method) {
      if (std::find(allowed.begin(), allowed.end(), routes_[r].method) == allowed.end()) {
        allowed.push_back(routes_[r].method);
      }
      continue;
    }
    if (c.literals > best_literals) {
      best_literals = c.literals;
      best.route = &routes_[r];
      best.params = std::move(params);
    }
  }
  if (!best.route) best.allowed = std::move(allowed);
  return best;
}

}  // namespace homeward::connectors::http
