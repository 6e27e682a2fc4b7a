#include "connectors/http/problem.h"

#include "projections/json_output.h"

namespace homeward::connectors::http {

std::string json_body(const nlohmann::ordered_json& document) {
  return projections::json_text(document, false);
}

Response problem(int status, std::string_view type, std::string_view title, std::string_view detail,
                 const nlohmann::ordered_json& extra) {
  nlohmann::ordered_json document = nlohmann::ordered_json::object();
  document["type"] = std::string(kProblemBase) + std::string(type);
  document["title"] = std::string(title);
  document["status"] = status;
  document["detail"] = std::string(detail);
  if (extra.is_object()) {
    for (const auto& [key, value] : extra.items()) document[key] = value;
  }
  Response response;
  response.status = status;
  response.content_type = "application/problem+json";
  response.body = json_body(document);
  return response;
}

Response not_found(std::string_view detail) {
  return problem(404, "not-found", "Not found", detail);
}

Response bad_parameter(std::string_view name, std::string_view detail) {
  return problem(400, "bad-parameter", "A query parameter is not valid", detail,
                 {{"parameter", std::string(name)}});
}

}  // namespace homeward::connectors::http
