#include "connectors/http/route_params.h"

#include <charconv>
#include <string>

#include <fmt/core.h>

#include "connectors/http/problem.h"

namespace homeward::connectors::http {

std::optional<Response> check_params(const Request& request,
                                     std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : request.query) {
    bool known = false;
    for (const std::string_view a : allowed) known = known || name == a;
    if (!known) {
      std::string list;
      for (const std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return bad_parameter(name, fmt::format("{} is not a parameter of {} (it takes: {})", name,
                                             request.path, list.empty() ? "none" : list));
    }
  }
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || text.size() > 12) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> parse_wait_ms(const Request& request,
                                                       std::chrono::milliseconds fallback,
                                                       std::chrono::milliseconds most,
                                                       std::optional<Response>& error) {
  const auto text = request.query_value("wait_ms");
  if (!text) return fallback;
  const auto value = parse_int(*text);
  if (!value || *value < 0 || *value > most.count()) {
    error = bad_parameter("wait_ms", fmt::format("wait_ms={}: must be a whole number from 0 to {}",
                                                 *text, most.count()));
    return std::nullopt;
  }
  return std::chrono::milliseconds(*value);
}

bool parse_bool(const Request& request, std::string_view name, bool fallback,
                std::optional<Response>& error) {
  const auto text = request.query_value(name);
  if (!text) return fallback;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  error = bad_parameter(name, fmt::format("{}={}: must be true or false", name, *text));
  return fallback;
}

}  // namespace homeward::connectors::http
