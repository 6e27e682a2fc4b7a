#include "connectors/http/public_cache.h"

#include <utility>

#include "connectors/http/ledger_routes.h"
#include "connectors/http/problem.h"
#include "projections/public_view.h"
#include "projections/read_models/daily_raised.h"

namespace homeward::connectors::http {

template <typename Compute>
Result<std::shared_ptr<const PublicDocument>> PublicCache::get(Slot& slot, Compute&& compute) {
  const engine::OffsetMap at = api_.live->position();
  {
    std::lock_guard lock(mutex_);
    if (slot.position && *slot.position == at) return slot.document;
  }
  Result<nlohmann::ordered_json> json = compute();
  if (!json) return std::unexpected(json.error());
  auto document = std::make_shared<PublicDocument>();
  document->body = json_body(*json);
  document->json = std::move(*json);
  std::lock_guard lock(mutex_);
  // The document holds at least everything below `at` (it was read after
  // `at` was published), possibly a little more: the next position's
  // document replaces it as soon as that is published.
  slot.position = at;
  slot.document = document;
  return document;
}

Result<std::shared_ptr<const PublicDocument>> PublicCache::stats() {
  return get(stats_, [this]() -> Result<nlohmann::ordered_json> {
    auto report = api_.store->impact_report();
    if (!report) return std::unexpected(report.error());
    return projections::public_impact_json(*report);
  });
}

Result<std::shared_ptr<const PublicDocument>> PublicCache::raised() {
  return get(raised_, [this]() -> Result<nlohmann::ordered_json> {
    auto raised = projections::daily_raised(*api_.store);
    if (!raised) return std::unexpected(raised.error());
    return projections::public_raised_json(*raised);
  });
}

}  // namespace homeward::connectors::http
