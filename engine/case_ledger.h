// The state of one case: its figures (SPEC section 5) and the records that
// later events of the case refer to (donations, pledges, handled event ids,
// donors).
//
// A CaseLedger is owned by whoever folds events into it (the projector, the
// audit replay, a test's reference fold); it is a plain value and not
// thread-safe. The `dirty` sets name what changed since the owner last
// persisted it, so that a store writes each changed record once per batch.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include "events/event.h"
#include "events/fingerprint.h"
#include "events/money.h"

namespace homeward::engine {

using events::Category;
using events::CloseReason;
using events::Currency;
using events::kCategoryCount;

enum class CaseStatus : uint8_t { kOpen, kFunded, kClosed };
[[nodiscard]] std::string_view to_string(CaseStatus status);

// The figures of one case. Everything of SPEC section 5 is either stored here
// or derived from it by the member functions. Invariants once opened:
// 0 <= refunded <= received, pledged >= 0, disbursed >= 0, and disbursed is
// the sum of disbursed_by_category.
struct CaseSummary {
  bool opened = false;  // a CaseOpened was applied; false: only rejected events seen
  Currency currency;
  MinorUnits goal;
  bool has_budget = false;                           // the latest goal came with a budget
  std::array<MinorUnits, kCategoryCount> planned{};  // latest budget; zero where absent
  std::array<MinorUnits, kCategoryCount> disbursed_by_category{};
  MinorUnits received;
  MinorUnits refunded;
  MinorUnits pledged;
  MinorUnits disbursed;
  int64_t donations = 0;
  int64_t donors = 0;
  int64_t refunds = 0;
  TimestampMicros opened_at;
  std::optional<TimestampMicros> fully_funded_at;
  std::optional<TimestampMicros> closed_at;
  std::optional<CloseReason> close_reason;  // set exactly when the case is closed
  // The case's own events from its CaseOpened on (SPEC section 5, counters).
  int64_t events_applied = 0;
  int64_t duplicates = 0;
  int64_t events_rejected = 0;

  [[nodiscard]] bool closed() const { return close_reason.has_value(); }
  [[nodiscard]] MinorUnits net() const;
  [[nodiscard]] MinorUnits available() const;
  [[nodiscard]] MinorUnits remaining() const;
  [[nodiscard]] MinorUnits surplus() const;
  [[nodiscard]] CaseStatus status() const;
  // A category shows in the budget figures when it is planned in the latest
  // budget or has any disbursement.
  [[nodiscard]] bool shows_in_budget(Category category) const;

  bool operator==(const CaseSummary&) const = default;
};

struct DonationRecord {
  std::string donor_ref;
  MinorUnits amount;
  MinorUnits refunded;  // sum of applied refunds against this donation
  bool operator==(const DonationRecord&) const = default;
};

enum class PledgeState : uint8_t { kOutstanding, kFulfilled, kCancelled };

struct PledgeRecord {
  std::string donor_ref;
  MinorUnits amount;
  PledgeState state = PledgeState::kOutstanding;
  bool operator==(const PledgeRecord&) const = default;
};

// Records changed since the last persist, in the order they changed, each
// with a copy of its value as of the change. Lists, not sets: marking a record
// is then a push_back instead of a hash insert, and the store writes the
// copies without looking each record up again (both were a large share of a
// replay: bench/README.md). A record changed twice in one batch is listed
// twice; the store keeps the later value.
struct DirtyRecords {
  bool summary = false;
  std::vector<std::pair<std::string, events::Fingerprint>> handled_events;
  std::vector<std::pair<std::string, DonationRecord>> donations;
  std::vector<std::pair<std::string, PledgeRecord>> pledges;
  std::vector<std::string> donors;  // donors new to this case (each listed once)

  [[nodiscard]] bool empty() const {
    return !summary && handled_events.empty() && donations.empty() && pledges.empty() &&
           donors.empty();
  }
  // Keeps the lists' capacity: the projector clears every touched case after
  // each commit.
  void clear() {
    summary = false;
    handled_events.clear();
    donations.clear();
    pledges.clear();
    donors.clear();
  }
};

// The ledger's records are in open-addressing hash tables (Abseil's "Swiss
// tables"): a replay does a few lookups and inserts per event into tables of
// up to hundreds of thousands of ids, and node-based std::unordered_map paid a
// cache miss and an allocation for each (bench/README.md). References into
// them do not survive an insert into the same table.
struct CaseLedger {
  std::string case_id;
  CaseSummary summary;
  // Every event id handled in this case (applied, duplicate or rejected),
  // with the fingerprint of the first event that carried it.
  absl::flat_hash_map<std::string, events::Fingerprint> handled_events;
  absl::flat_hash_map<std::string, DonationRecord> donations;  // by donation id
  absl::flat_hash_map<std::string, PledgeRecord> pledges;      // by pledge id
  absl::flat_hash_set<std::string> donors;                     // distinct donor_ref
  DirtyRecords dirty;

  // Equality of content; `dirty` is bookkeeping and is ignored.
  [[nodiscard]] bool same_content(const CaseLedger& other) const;
};

}  // namespace homeward::engine
