// Query parameters as every route reads them: unknown names are refused (a
// misspelt filter must not pass silently as "no filter"), numbers are whole
// and bounded, and each mistake is answered with its 400 bad-parameter
// problem document naming the parameter. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "connectors/http/http_types.h"

namespace homeward::connectors::http {

// A 400 when the request has a parameter not in `allowed`.
[[nodiscard]] std::optional<Response> check_params(const Request& request,
                                                   std::initializer_list<std::string_view> allowed);

// A whole number of at most 12 digits; nullopt otherwise.
[[nodiscard]] std::optional<int64_t> parse_int(std::string_view text);

// wait_ms= (min_position and wait=outcome): `fallback` when absent; a 400 in
// `error` when it is not a whole number from 0 to `most`.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_wait_ms(
    const Request& request, std::chrono::milliseconds fallback, std::chrono::milliseconds most,
    std::optional<Response>& error);

// A boolean parameter: `fallback` when absent, true for "true" or "1",
// false for "false" or "0"; a 400 in `error` otherwise.
[[nodiscard]] bool parse_bool(const Request& request, std::string_view name, bool fallback,
                              std::optional<Response>& error);

}  // namespace homeward::connectors::http
