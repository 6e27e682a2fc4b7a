// Bearer tokens of `homeward serve --tokens FILE`, and the admission of each
// request: authentication (the token), authorization (its scopes against the
// route's access) and the per-token request rate.
//
// The tokens file holds one token per line as `NAME SCOPES sha256:HEX`:
// a name (an identifier, for logs and rate limits; never a secret), the
// scopes it grants (comma-separated: publish, read, audit, metrics) and the
// SHA-256 of the token. Blank lines and lines starting with `#` are
// skipped. The file never holds a token itself, so reading it does not let
// anyone call the API; `homeward token create` makes a token and its line.
//
// A presented token (`Authorization: Bearer TOKEN`) is hashed and compared
// with every line's hash in constant time (CRYPTO_memcmp, no early exit),
// so the time of an answer tells nothing about how close a guess was.
//
// Thread-safe after load: TokenTable is read-only; Admission's rate buckets
// have a mutex of their own.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "connectors/http/http_types.h"
#include "connectors/http/router.h"
#include "events/error.h"

namespace homeward::connectors::http {

enum class Scope : uint8_t { kPublish = 1, kRead = 2, kAudit = 4, kMetrics = 8 };

struct TokenIdentity {
  std::string name;
  uint8_t scopes = 0;  // Scope bits
  std::array<uint8_t, 32> hash{};

  [[nodiscard]] bool has(Scope scope) const { return (scopes & static_cast<uint8_t>(scope)) != 0; }
};

class TokenTable {
 public:
  // kNotFound / kIo when the file cannot be read; kInvalidArgument naming the
  // line when a line is not `NAME SCOPES sha256:HEX`, a scope is unknown or
  // a name repeats; a file with no token is kInvalidArgument too (it would
  // lock everyone out by mistake).
  [[nodiscard]] static Result<TokenTable> load(const std::filesystem::path& file);
  [[nodiscard]] static Result<TokenTable> parse(std::string_view text);

  // The identity whose hash is the token's; null when none is.
  [[nodiscard]] const TokenIdentity* find(std::string_view token) const;
  [[nodiscard]] size_t size() const { return tokens_.size(); }

 private:
  std::vector<TokenIdentity> tokens_;
};

// A new token: `hw_` and 32 random bytes, base64url (43 characters).
[[nodiscard]] Result<std::string> new_token();
// The tokens-file line of `token`.
[[nodiscard]] std::string token_line(std::string_view name, uint8_t scopes, std::string_view token);
// "publish,read" -> bits; kInvalidArgument for an unknown scope.
[[nodiscard]] Result<uint8_t> parse_scopes(std::string_view text);
[[nodiscard]] std::string format_scopes(uint8_t scopes);

// What `admit` needs: the tokens (null: no tokens file, every route open,
// which `serve` allows on loopback addresses only) and the rate per token.
struct AdmissionOptions {
  const TokenTable* tokens = nullptr;
  // Requests per second per token, with bursts of `burst` requests; 0: no limit.
  double rate_per_second = 0;
  double burst = 0;
};

// The server's admit hook (server.h): 401 without a valid token on a route
// that needs one, 403 when the token lacks the route's scope, 429 with
// Retry-After over the token's rate. Public routes are always admitted.
class Admission {
 public:
  explicit Admission(AdmissionOptions options) : options_(options) {}
  [[nodiscard]] std::optional<Response> admit(Request& request, const Route& route);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  // Seconds to wait before a request would be admitted; 0 when admitted now.
  double take(const std::string& name);

  AdmissionOptions options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace homeward::connectors::http
