// The state of one case: its figures (SPEC section 5) and the records that
// later events of the case refer to (donations, pledges, handled event ids,
// donors).
//
// A CaseLedger is owned by whoever folds events into it (the projector, the
// audit replay, a test's reference fold); it is a plain value and not
// thread-safe. `dirty` names what changed since the owner last persisted it,
// so that a store writes each changed record once per batch.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/id_table.h"
#include "events/event.h"
#include "events/fingerprint.h"
#include "events/money.h"
#include "events/strong_int.h"

namespace homeward::engine {

using events::Category;
using events::CloseReason;
using events::Currency;
using events::kCategoryCount;

enum class CaseStatus : uint8_t { kOpen, kFunded, kClosed };
[[nodiscard]] std::string_view to_string(CaseStatus status);
// The status that to_string names `text` ("open", "funded", "closed"), or
// nullopt: the CLI's and the HTTP API's status filters.
[[nodiscard]] std::optional<CaseStatus> parse_case_status(std::string_view text);

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

// A donation of the case, as the rules and readers see it. `donor_ref` views
// the ledger's own memory: it lives until the ledger next records a donor.
struct DonationRecord {
  std::string_view donor_ref;
  MinorUnits amount;
  MinorUnits refunded;  // sum of applied refunds against this donation
  bool operator==(const DonationRecord&) const = default;
};

enum class PledgeState : uint8_t { kOutstanding, kFulfilled, kCancelled };

struct PledgeRecord {
  std::string_view donor_ref;  // as DonationRecord::donor_ref
  MinorUnits amount;
  PledgeState state = PledgeState::kOutstanding;
  bool operator==(const PledgeRecord&) const = default;
};

// One event folded into a case and not yet persisted: where the log holds it
// and its bytes as read (verified). The store keeps every event of a case,
// whatever its outcome, as the case's history (projection_store.h).
struct HistoryEvent {
  Partition partition;
  Offset offset;
  std::string bytes;
};

// What changed since the owner last persisted the case, for the store's
// commit. The store keeps a case as its summary and its history (every event
// folded into it); the only other records that depend on a case are the
// donor sets, so donors are listed here by their number in the ledger's
// donor table.
struct DirtyRecords {
  bool summary = false;
  // The events folded since, in order, when the owner keeps the history (the
  // projector does; a read model's fold does not): the first one's sequence
  // number in the case's history is history_events - history.size().
  std::vector<HistoryEvent> history;
  // Donors seen in this case for the first time (a donation or a pledge):
  // the donor index leads from them to this case.
  std::vector<uint32_t> new_donors;
  // Donors whose first applied donation to this case came since: they are
  // donors of some applied donation, the set behind SPEC section 6's count.
  std::vector<uint32_t> new_givers;

  [[nodiscard]] bool empty() const {
    return !summary && history.empty() && new_donors.empty() && new_givers.empty();
  }
  // Keeps the lists' capacity: the projector clears every touched case after
  // each commit.
  void clear() {
    summary = false;
    history.clear();
    new_donors.clear();
    new_givers.clear();
  }
};

// The state of one case: its summary, and the records later events refer to,
// kept compact because a replay holds every case at once (10M events: about
// 10M event ids and 8.5M donations). Ids are in IdTables (id_table.h) and
// records in flat vectors that refer to ids by number.
//
// Only the rules (rules.cc) change a ledger, through the record_* and
// settle_* members; everyone else reads. A plain value; not thread-safe.
class CaseLedger {
 public:
  // A recorded donation or pledge, as a number into its table.
  using RecordIndex = uint32_t;

  CaseLedger() = default;
  // Id tables with smaller limits than their format's, for tests.
  explicit CaseLedger(IdTable::Limits id_limits) : event_ids_(id_limits), donors_(id_limits) {}

  std::string case_id;
  CaseSummary summary;
  // Every event folded into this case (handled, whatever the outcome): the
  // length of its history, and the sequence number of its next event there.
  int64_t history_events = 0;
  DirtyRecords dirty;

  // The duplicate rule's memory: every event id handled in this case, with
  // the fingerprint of the first event that carried it.
  [[nodiscard]] size_t handled_event_count() const { return event_ids_.size(); }
  [[nodiscard]] std::optional<events::Fingerprint> handled_fingerprint(
      std::string_view event_id) const;
  // Calls visit(event_id, fingerprint) for each handled id in handling order.
  template <typename Visit>
  void for_each_handled_event(Visit&& visit) const {
    for (uint32_t i = 0; i < event_ids_.size(); ++i) {
      visit(event_ids_.at(i), event_entries_[i].fingerprint);
    }
  }

  [[nodiscard]] size_t donation_count() const { return donations_.size(); }
  [[nodiscard]] std::optional<RecordIndex> find_donation(std::string_view donation_id) const;
  [[nodiscard]] DonationRecord donation(RecordIndex index) const;
  // Calls visit(donation_id, DonationRecord) in the order they were applied.
  template <typename Visit>
  void for_each_donation(Visit&& visit) const {
    for (RecordIndex i = 0; i < donations_.size(); ++i) {
      visit(event_ids_.at(donations_[i].event), donation(i));
    }
  }

  [[nodiscard]] size_t pledge_count() const { return pledges_.size(); }
  [[nodiscard]] std::optional<RecordIndex> find_pledge(std::string_view pledge_id) const;
  [[nodiscard]] PledgeRecord pledge(RecordIndex index) const;
  template <typename Visit>
  void for_each_pledge(Visit&& visit) const {
    for (RecordIndex i = 0; i < pledges_.size(); ++i) {
      visit(event_ids_.at(pledges_[i].event), pledge(i));
    }
  }

  // Donors: every donor_ref of an applied donation or pledge of this case,
  // numbered in the order they first appeared. `gave`: some applied donation
  // of theirs (the case's `donors` figure counts these).
  [[nodiscard]] uint32_t donor_count() const { return donors_.size(); }
  [[nodiscard]] std::string_view donor_ref(uint32_t donor) const { return donors_.at(donor); }
  [[nodiscard]] bool donor_gave(uint32_t donor) const;
  // True when `donor_ref` has an applied donation in this case.
  [[nodiscard]] bool has_giver(std::string_view donor_ref) const;
  // Calls visit(donor_ref) for each donor with an applied donation.
  template <typename Visit>
  void for_each_giver(Visit&& visit) const {
    for (uint32_t i = 0; i < donors_.size(); ++i) {
      if (donor_gave_[i]) visit(donors_.at(i));
    }
  }

  // Whether the case's id tables can take the ids `event` may add (its
  // event_id, its donor_ref): kResourceExhausted naming the case and the
  // table when one is full. The rules ask before they change anything, so a
  // full table stops the fold between two events, never inside one.
  [[nodiscard]] Status room_for(const events::Event& event) const;

  // The rules' mutators (rules.cc). Each keeps the invariants its comment
  // names; calling them in another order than the rules do is a programmer
  // error caught by HOMEWARD_CHECK.
  //
  // Remembers `event_id` as handled with `print` unless it was handled
  // before; returns the first fingerprint when it was.
  struct Remembered {
    bool first_time;
    events::Fingerprint first;  // the fingerprint kept for this id
  };
  Remembered remember_event(std::string_view event_id, const events::Fingerprint& print);
  // A donation whose id is the event remembered last (SPEC: a donation's id
  // is its event's id), with `donor_ref` and `amount`. Counts the donor
  // (summary.donors) when it is new to the case's givers.
  void record_donation(std::string_view donor_ref, MinorUnits amount);
  // An outstanding pledge whose id is the event remembered last.
  void record_pledge(std::string_view donor_ref, MinorUnits amount);
  void add_refund(RecordIndex donation, MinorUnits amount);
  void settle_pledge(RecordIndex pledge, PledgeState state);

  // Brings into the CPU cache what folding `event` will look up first: the
  // slot of its id, and of the donor or record it names. A hint: no effect
  // on the content.
  void prefetch_for(const events::Event& event) const;

  // Heap bytes held, for memory accounting.
  [[nodiscard]] size_t memory_bytes() const;

  // Equality of content (ids, records, donors, summary, history length);
  // `dirty` is bookkeeping and is ignored.
  [[nodiscard]] bool same_content(const CaseLedger& other) const;

 private:
  static constexpr uint32_t kNoRecord = 0xffff'ffff;
  static constexpr uint32_t kPledgeBit = 0x8000'0000;
  struct EventEntry {
    events::Fingerprint fingerprint;
    // The record this event made: kNoRecord, a donation's number, or a
    // pledge's number with kPledgeBit set.
    uint32_t record = kNoRecord;
    bool operator==(const EventEntry&) const = default;
  };
  struct Donation {
    uint32_t event;  // number of its id in event_ids_
    uint32_t donor;  // number in donors_
    MinorUnits amount;
    MinorUnits refunded;
    bool operator==(const Donation&) const = default;
  };
  struct Pledge {
    uint32_t event;
    uint32_t donor;
    MinorUnits amount;
    PledgeState state = PledgeState::kOutstanding;
    bool operator==(const Pledge&) const = default;
  };
  // The donor's number, adding it (and listing it in dirty) when new.
  uint32_t note_donor(std::string_view donor_ref);

  IdTable event_ids_;
  std::vector<EventEntry> event_entries_;  // by number in event_ids_
  std::vector<Donation> donations_;
  std::vector<Pledge> pledges_;
  IdTable donors_;
  std::vector<bool> donor_gave_;     // by number in donors_
  uint32_t last_event_ = kNoRecord;  // the event remember_event saw last
};

}  // namespace homeward::engine
