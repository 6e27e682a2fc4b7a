// RFC 9457 problem details: every error the server answers is an
// `application/problem+json` document with a stable `type` (a URI under
// kProblemBase, one per kind of mistake, listed in docs/http.md), a `title`
// (the same for every occurrence of the type), the `status` and a `detail`
// that says what this request did wrong. Extension members carry what a
// caller needs to fix it (a refused event's line and field, say). Pure.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "connectors/http/http_types.h"

namespace homeward::connectors::http {

inline constexpr std::string_view kProblemBase = "https://homeward.example/problems/";

// {"type": kProblemBase + type, "title", "status", "detail"} plus `extra`'s
// members, as a Response with that status.
[[nodiscard]] Response problem(int status, std::string_view type, std::string_view title,
                               std::string_view detail,
                               const nlohmann::ordered_json& extra = nlohmann::ordered_json());

// Common ones.
[[nodiscard]] Response not_found(std::string_view detail);
[[nodiscard]] Response bad_parameter(std::string_view name, std::string_view detail);

// A JSON document as a response body: compact, one newline after it, invalid
// UTF-8 in strings replaced (the same text the CLI prints for --json).
[[nodiscard]] std::string json_body(const nlohmann::ordered_json& document);

}  // namespace homeward::connectors::http
