// Pages of the case list and of the rejection list: `homeward cases|rejections
// --status --limit --after` and the HTTP API's paged routes.
//
// A page is read from one store snapshot, in the list's own order (cases by
// case_id, rejections by case_id then log position), starting with a seek to
// just after the cursor: a page of 100 out of 100,000 cases reads about 100
// records, not the whole range. A status filter is applied while reading, so
// a page of a rare status reads on until it is full or the range ends (no
// index per status: it would cost a write per status change).
//
// Cursors are the list's natural keys, so they stay meaningful while the
// projector commits: a case_id, or for a rejection `CASE_ID/PARTITION/OFFSET`
// (the case_id part is empty for a malformed record that revealed none). A
// cursor need not name a record that exists; the page starts after where it
// would be. `next` is set exactly when at least one more record matches after
// the page (the pager reads ahead to know), so following `next` until it is
// absent visits every matching record once.
//
// Pure reads; thread-safe like the store's own queries.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/projection_store.h"
#include "events/error.h"
#include "events/strong_int.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

struct CaseQuery {
  // Only cases with this status (SPEC section 5).
  std::optional<engine::CaseStatus> status = std::nullopt;
  // Only case_ids sorting after this one (bytewise); all when empty.
  std::string after = {};
  // At most this many (at least 1); all when unset.
  std::optional<size_t> limit = std::nullopt;
};

struct CasePage {
  std::vector<CaseView> cases;  // opened cases, by case_id
  // The last case_id of this page when more cases match after it.
  std::optional<std::string> next;
};

// kInvalidArgument when `after` is not empty and not an identifier (SPEC
// section 2), or when limit is 0.
[[nodiscard]] Result<CasePage> query_cases(const RocksProjectionStore& store,
                                           const CaseQuery& query);

// The natural key of a rejection, which orders the list.
struct RejectionKey {
  std::string case_id;  // empty for a malformed record that revealed none
  Partition partition;
  Offset offset;
  bool operator==(const RejectionKey&) const = default;
};

// `CASE_ID/PARTITION/OFFSET` ('/' is in no identifier).
[[nodiscard]] std::string format_rejection_cursor(const RejectionKey& key);
// kInvalidArgument, saying what is wrong, for anything format_rejection_cursor
// would not write.
[[nodiscard]] Result<RejectionKey> parse_rejection_cursor(std::string_view text);

struct RejectionQuery {
  std::optional<RejectionKey> after =
      std::nullopt;                            // only rejections after this key; all when unset
  std::optional<size_t> limit = std::nullopt;  // at most this many (at least 1); all when unset
};

struct RejectionPage {
  std::vector<engine::RejectionRecord> rejections;
  // The key of this page's last rejection when more follow it.
  std::optional<RejectionKey> next;
};

// kInvalidArgument when limit is 0 or the cursor's case_id is not an
// identifier; kCorruption when a stored rejection is filed under another key.
[[nodiscard]] Result<RejectionPage> query_rejections(const RocksProjectionStore& store,
                                                     const RejectionQuery& query);

}  // namespace homeward::projections
