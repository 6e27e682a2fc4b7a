#include "connectors/http/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/core.h>

#include "connectors/http/cursor.h"
#include "connectors/http/problem.h"
#include "events/check.h"
#include "events/identifier.h"

namespace homeward::connectors::http {
namespace {

std::array<uint8_t, 32> sha256(std::string_view bytes) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  HOMEWARD_CHECK(
      EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) == 1 &&
          size == digest.size(),
      "OpenSSL SHA-256 failed");
  return digest;
}

std::string hex(const std::array<uint8_t, 32>& bytes) {
  std::string out;
  for (const uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

std::optional<std::array<uint8_t, 32>> unhex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  std::array<uint8_t, 32> out{};
  for (size_t i = 0; i < 32; ++i) {
    unsigned value = 0;
    for (size_t k = 0; k < 2; ++k) {
      const char c = text[2 * i + k];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<unsigned>(c - 'a' + 10);
      } else {
        return std::nullopt;
      }
    }
    out[i] = static_cast<uint8_t>(value);
  }
  return out;
}

std::optional<Scope> scope_of(Access access) {
  switch (access) {
    case Access::kRead:
      return Scope::kRead;
    case Access::kPublish:
      return Scope::kPublish;
    case Access::kAudit:
      return Scope::kAudit;
    case Access::kMetrics:
      return Scope::kMetrics;
    case Access::kPublic:
    case Access::kAnyToken:
      return std::nullopt;
  }
  return std::nullopt;
}

// The bearer token of an Authorization header; empty when there is none.
std::string_view bearer(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace

Result<uint8_t> parse_scopes(std::string_view text) {
  uint8_t scopes = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    if (word == "publish") {
      scopes |= static_cast<uint8_t>(Scope::kPublish);
    } else if (word == "read") {
      scopes |= static_cast<uint8_t>(Scope::kRead);
    } else if (word == "audit") {
      scopes |= static_cast<uint8_t>(Scope::kAudit);
    } else if (word == "metrics") {
      scopes |= static_cast<uint8_t>(Scope::kMetrics);
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("unknown scope \"{}\" (the scopes are publish, read, audit, "
                                    "metrics)",
                                    word));
    }
    start = end + 1;
  }
  return scopes;
}

std::string format_scopes(uint8_t scopes) {
  std::string out;
  auto add = [&](Scope scope, std::string_view name) {
    if ((scopes & static_cast<uint8_t>(scope)) == 0) return;
    if (!out.empty()) out += ',';
    out += name;
  };
  add(Scope::kPublish, "publish");
  add(Scope::kRead, "read");
  add(Scope::kAudit, "audit");
  add(Scope::kMetrics, "metrics");
  return out;
}

Result<TokenTable> TokenTable::parse(std::string_view text) {
  TokenTable table;
  std::set<std::string> names;
  std::istringstream in{std::string(text)};
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    std::string name, scopes, hash, extra;
    fields >> name >> scopes >> hash >> extra;
    auto bad = [&](std::string_view why) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("tokens file line {}: {} (expected NAME SCOPES sha256:HEX, as "
                                    "`homeward token create` prints it)",
                                    line_number, why));
    };
    if (hash.empty() || !extra.empty()) return bad("not three fields");
    if (!events::is_valid_identifier(name)) return bad("the name is not an identifier");
    if (!names.insert(name).second) return bad(fmt::format("the name {} is used twice", name));
    auto bits = parse_scopes(scopes);
    if (!bits) return bad(bits.error().message);
    if (!hash.starts_with("sha256:")) return bad("the hash does not start with sha256:");
    const auto digest = unhex(std::string_view(hash).substr(7));
    if (!digest) return bad("the hash is not 64 lower-case hex digits");
    table.tokens_.push_back(TokenIdentity{name, *bits, *digest});
  }
  if (table.tokens_.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the tokens file holds no token (create one with `homeward token create`)");
  }
  return table;
}

Result<TokenTable> TokenTable::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      fmt::format("--tokens {}: {}", file.string(), std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto table = parse(text.str());
  if (!table) {
    return make_error(table.error().code,
                      fmt::format("--tokens {}: {}", file.string(), table.error().message));
  }
  return table;
}

const TokenIdentity* TokenTable::find(std::string_view token) const {
  const std::array<uint8_t, 32> digest = sha256(token);
  const TokenIdentity* found = nullptr;
  // Every line is compared, whatever matched: the time does not depend on
  // which line (if any) the token is.
  for (const TokenIdentity& identity : tokens_) {
    const bool equal = CRYPTO_memcmp(identity.hash.data(), digest.data(), digest.size()) == 0;
    if (equal) found = &identity;
  }
  return found;
}

Result<std::string> new_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return make_error(ErrorCode::kIo, "no random bytes from OpenSSL's generator");
  }
  return "hw_" +
         base64url(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string token_line(std::string_view name, uint8_t scopes, std::string_view token) {
  return fmt::format("{} {} sha256:{}", name, format_scopes(scopes), hex(sha256(token)));
}

double Admission::take(const std::string& name) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(name, Bucket{options_.burst, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
    bucket.tokens = std::min(options_.burst, bucket.tokens + elapsed * options_.rate_per_second);
    bucket.last = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return (1 - bucket.tokens) / options_.rate_per_second;
}

std::optional<Response> Admission::admit(Request& request, const Route& route) {
  if (route.access == Access::kPublic) return std::nullopt;
  // No tokens file: every route is open (serve allows that on loopback only).
  if (options_.tokens == nullptr) return std::nullopt;
  const std::string_view token = bearer(request.header("authorization"));
  const TokenIdentity* identity = token.empty() ? nullptr : options_.tokens->find(token);
  if (identity == nullptr) {
    Response response =
        problem(401, "unauthorized", "A token is needed",
                token.empty() ? fmt::format("{} {} needs a token (Authorization: Bearer TOKEN)",
                                            request.method, route.pattern)
                              : std::string("the token is not valid"));
    response.set_header("WWW-Authenticate", "Bearer realm=\"homeward\"");
    return response;
  }
  request.token = identity;
  if (const auto scope = scope_of(route.access); scope && !identity->has(*scope)) {
    return problem(
        403, "forbidden", "The token lacks the scope",
        fmt::format("{} {} needs a token with scope {}; the token {} has {}", request.method,
                    route.pattern, scope_name(route.access), identity->name,
                    identity->scopes == 0 ? std::string("none") : format_scopes(identity->scopes)),
        {{"scope", std::string(scope_name(route.access))}});
  }
  if (options_.rate_per_second > 0) {
    const double wait = take(identity->name);
    if (wait > 0) {
      const auto seconds = static_cast<int64_t>(std::ceil(wait));
      Response response =
          problem(429, "too-many-requests", "Too many requests",
                  fmt::format("the token {} may make {} requests per second (bursts of {}); retry "
                              "after {} s",
                              identity->name, options_.rate_per_second, options_.burst, seconds));
      response.set_header("Retry-After", std::to_string(seconds));
      return response;
    }
  }
  return std::nullopt;
}

}  // namespace homeward::connectors::http
