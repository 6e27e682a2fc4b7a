// Checks a response against docs/openapi.json, so that the API description
// cannot drift from the server: the route and method must be described, the
// status must be one of its responses, the content type one of that
// response's, and a JSON body must match its schema. Every response the HTTP
// tests receive through HttpClient with a route goes through it.
//
// The schemas use a subset of JSON Schema (2020-12, as OpenAPI 3.1 does),
// and this checker implements exactly that subset: $ref to
// #/components/schemas, type, enum, pattern, properties, required,
// additionalProperties (false or a schema), propertyNames.pattern, items,
// oneOf. A keyword outside it fails the check, so that the document cannot
// quietly say more than is checked.
#pragma once

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace homeward::testing {

class OpenApiCheck {
 public:
  static const OpenApiCheck& instance() {
    static const OpenApiCheck check(HOMEWARD_OPENAPI_DOC);
    return check;
  }

  // The mismatches of one response; empty when it matches.
  [[nodiscard]] std::vector<std::string> check(const std::string& route, const std::string& method,
                                               long status, const std::string& content_type,
                                               const std::string& body) const {
    std::vector<std::string> errors;
    const auto& paths = doc_["paths"];
    if (!paths.contains(route)) return {"route " + route + " is not in docs/openapi.json"};
    std::string lower = method;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!paths[route].contains(lower)) return {method + " " + route + " is not described"};
    const auto& responses = paths[route][lower]["responses"];
    const std::string code = std::to_string(status);
    if (!responses.contains(code)) {
      return {method + " " + route + " answered " + code + ", which is not described"};
    }
    const auto& content = responses[code]["content"];
    if (!content.contains(content_type)) {
      return {method + " " + route + " " + code + " answered " + content_type +
              ", which is not described"};
    }
    const auto& media = content[content_type];
    if (content_type.find("json") == std::string::npos) return errors;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
      return {method + " " + route + " " + code + ": the body is not JSON: " + e.what()};
    }
    validate(media["schema"], value, method + " " + route + " " + code + " $", errors);
    return errors;
  }

 private:
  explicit OpenApiCheck(const std::string& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    doc_ = nlohmann::json::parse(text.str());
  }

  void validate(const nlohmann::json& schema, const nlohmann::json& value, const std::string& at,
                std::vector<std::string>& errors) const {
    static const std::set<std::string> known{"$ref",
                                             "type",
                                             "enum",
                                             "pattern",
                                             "properties",
                                             "required",
                                             "additionalProperties",
                                             "propertyNames",
                                             "items",
                                             "oneOf"};
    for (const auto& [key, unused] : schema.items()) {
      if (!known.contains(key))
        errors.push_back(at + ": the schema keyword " + key + " is not checked");
    }
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      const std::string prefix = "#/components/schemas/";
      if (!ref.starts_with(prefix)) {
        errors.push_back(at + ": $ref " + ref + " is not a component schema");
        return;
      }
      validate(doc_["components"]["schemas"][ref.substr(prefix.size())], value, at, errors);
      return;
    }
    if (schema.contains("oneOf")) {
      int matched = 0;
      for (const auto& option : schema["oneOf"]) {
        std::vector<std::string> sub;
        validate(option, value, at, sub);
        matched += sub.empty() ? 1 : 0;
      }
      if (matched != 1) errors.push_back(at + ": matches " + std::to_string(matched) + " of oneOf");
      return;
    }
    if (schema.contains("type")) {
      const std::string type = schema["type"];
      const bool ok = (type == "string" && value.is_string()) ||
                      (type == "integer" && value.is_number_integer()) ||
                      (type == "number" && value.is_number()) ||
                      (type == "boolean" && value.is_boolean()) ||
                      (type == "object" && value.is_object()) ||
                      (type == "array" && value.is_array()) || (type == "null" && value.is_null());
      if (!ok) {
        errors.push_back(at + ": expected " + type + ", got " + value.dump().substr(0, 80));
        return;
      }
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& option : schema["enum"]) found = found || option == value;
      if (!found) errors.push_back(at + ": " + value.dump() + " is not in the enum");
    }
    if (schema.contains("pattern") && value.is_string()) {
      if (!std::regex_search(value.get<std::string>(),
                             std::regex(schema["pattern"].get<std::string>()))) {
        errors.push_back(at + ": " + value.dump() + " does not match " + schema["pattern"].dump());
      }
    }
    if (value.is_object()) {
      if (schema.contains("required")) {
        for (const auto& name : schema["required"]) {
          if (!value.contains(name.get<std::string>())) {
            errors.push_back(at + ": missing " + name.get<std::string>());
          }
        }
      }
      for (const auto& [key, member] : value.items()) {
        if (schema.contains("propertyNames")) {
          validate(schema["propertyNames"], nlohmann::json(key), at + "." + key + "(name)", errors);
        }
        if (schema.contains("properties") && schema["properties"].contains(key)) {
          validate(schema["properties"][key], member, at + "." + key, errors);
        } else if (schema.contains("additionalProperties")) {
          const auto& extra = schema["additionalProperties"];
          if (extra.is_boolean()) {
            if (!extra.get<bool>()) errors.push_back(at + ": unexpected member " + key);
          } else {
            validate(extra, member, at + "." + key, errors);
          }
        }
      }
    }
    if (value.is_array() && schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        validate(schema["items"], value[i], at + "[" + std::to_string(i) + "]", errors);
      }
    }
  }

  nlohmann::json doc_;
};

}  // namespace homeward::testing
