// A real HTTP client for the HTTP tests: libcurl's easy interface, one
// request per call (a new connection each time unless a Client is reused).
// Every response to a request that names its route is checked against
// docs/openapi.json (openapi_check.h); a mismatch fails the test. With
// HOMEWARD_HTTP_RECORD=FILE in the environment, each such response is also
// appended to FILE as one JSON line ({method, route, status, content_type,
// body}).
#pragma once

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http/support/openapi_check.h"

namespace homeward::testing {

struct HttpResponse {
  long status = 0;                             // 0: no answer (connection failed)
  std::map<std::string, std::string> headers;  // lower-case names, last value wins
  std::string body;
  std::string error;  // curl's message when status is 0

  [[nodiscard]] std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] nlohmann::json json() const { return nlohmann::json::parse(body); }
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_ms = 60'000;
  // For the OpenAPI check: the route pattern this request exercises
  // ("/v1/cases/{case_id}"); empty: not recorded.
  std::string route;
};

class HttpClient {
 public:
  HttpClient() : curl_(curl_easy_init()) {}
  ~HttpClient() { curl_easy_cleanup(curl_); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse send(const HttpRequest& request) {
    HttpResponse response;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, request.url.c_str());
    // The path as the test wrote it: curl would otherwise resolve `..` and
    // `.` segments itself, and a hostile path would never reach the server.
    curl_easy_setopt(curl_, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_slist* headers = nullptr;
    for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, request.timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpClient::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &HttpClient::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response);
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
      response.error = curl_easy_strerror(code);
      response.status = 0;
      return response;
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
    if (!request.route.empty()) record(request, response);
    return response;
  }

 private:
  static size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<HttpResponse*>(user)->body.append(data, size * count);
    return size * count;
  }
  static size_t on_header(char* data, size_t size, size_t count, void* user) {
    std::string line(data, size * count);
    auto* response = static_cast<HttpResponse*>(user);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
      response->headers[name] = value;
    }
    return size * count;
  }
  static void record(const HttpRequest& request, const HttpResponse& response) {
    const auto mismatches =
        OpenApiCheck::instance().check(request.route, request.method, response.status,
                                       response.header("content-type"), response.body);
    for (const std::string& mismatch : mismatches) {
      ADD_FAILURE() << "docs/openapi.json: " << mismatch;
    }
    const char* file = std::getenv("HOMEWARD_HTTP_RECORD");
    if (file == nullptr || *file == '\0') return;
    nlohmann::json line = {{"method", request.method},
                           {"route", request.route},
                           {"status", response.status},
                           {"content_type", response.header("content-type")},
                           {"body", response.body}};
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    std::ofstream out(file, std::ios::app);
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }

  CURL* curl_;
};

inline HttpResponse http_get(const std::string& url, const std::string& route = {},
                             std::vector<std::string> headers = {}) {
  HttpClient client;
  return client.send(HttpRequest{"GET", url, "", std::move(headers), 60'000, route});
}

inline HttpResponse http_post(const std::string& url, const std::string& body,
                              const std::string& content_type, const std::string& route = {},
                              std::vector<std::string> headers = {}) {
  HttpClient client;
  headers.push_back("Content-Type: " + content_type);
  return client.send(HttpRequest{"POST", url, body, std::move(headers), 60'000, route});
}

// Polls GET /readyz until it answers 200 (the first round of the follow loop
// is done), at most `attempts` times 50 ms apart. False if it never did.
inline bool wait_until_ready(const std::string& base_url, int attempts = 1200) {
  for (int i = 0; i < attempts; ++i) {
    HttpClient client;
    if (client.send(HttpRequest{"GET", base_url + "/readyz", "", {}, 5'000, ""}).status == 200) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace homeward::testing
