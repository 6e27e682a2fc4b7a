// The public documents that scan every case (the impact report, money raised
// per day), computed once per projection position
// and then served from memory until a round moves the position: a dashboard
// and its many viewers ask for them often, and the projections do not change
// while the position stays (every round that writes moves it).
//
// Shared by the public routes (public_routes.cc) and the public page
// (dashboard/public_page.h), so both show the same figures. Thread-safe: any
// number of threads may ask at once; a miss computes outside the lock (two
// threads may both compute it; the later one keeps its result).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/event_log.h"
#include "events/error.h"

namespace homeward::connectors::http {

struct LedgerApi;  // ledger_routes.h

// A public document and its body as the routes answer it (json_body).
struct PublicDocument {
  nlohmann::ordered_json json;
  std::string body;
};

class PublicCache {
 public:
  explicit PublicCache(LedgerApi& api) : api_(api) {}

  // SPEC section 8's public impact report (projections::public_impact_json).
  [[nodiscard]] Result<std::shared_ptr<const PublicDocument>> stats();
  // Money raised per day (projections::public_raised_json).
  [[nodiscard]] Result<std::shared_ptr<const PublicDocument>> raised();

 private:
  struct Slot {
    std::optional<engine::OffsetMap> position;
    std::shared_ptr<const PublicDocument> document;
  };
  template <typename Compute>
  Result<std::shared_ptr<const PublicDocument>> get(Slot& slot, Compute&& compute);

  LedgerApi& api_;
  std::mutex mutex_;
  Slot stats_;
  Slot raised_;
};

}  // namespace homeward::connectors::http
