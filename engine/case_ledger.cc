// Derived figures of a case (SPEC section 5).
//
// The subtractions below cannot leave the 64-bit range: handle_event keeps
// 0 <= refunded <= received, disbursed >= 0 and 0 < goal, so every operand
// is non-negative and a difference of two non-negative int64 values always
// fits. HOMEWARD_CHECK guards those invariants rather than trusting them,
// because a figure computed from a broken state would be printed as if it
// were true.
#include "engine/case_ledger.h"

#include <type_traits>
#include <variant>

#include <fmt/core.h>

#include "events/check.h"
#include "events/money.h"

namespace homeward::engine {

std::string_view to_string(CaseStatus status) {
  switch (status) {
    case CaseStatus::kOpen:
      return "open";
    case CaseStatus::kFunded:
      return "funded";
    case CaseStatus::kClosed:
      return "closed";
  }
  HOMEWARD_CHECK(false, "CaseStatus out of range");
}

std::optional<CaseStatus> parse_case_status(std::string_view text) {
  for (const CaseStatus status : {CaseStatus::kOpen, CaseStatus::kFunded, CaseStatus::kClosed}) {
    if (to_string(status) == text) return status;
  }
  return std::nullopt;
}

MinorUnits CaseSummary::net() const {
  HOMEWARD_CHECK(refunded.value() >= 0 && refunded <= received,
                 "refunded must be within [0, received]");
  return MinorUnits(received.value() - refunded.value());
}

MinorUnits CaseSummary::available() const {
  HOMEWARD_CHECK(disbursed.value() >= 0, "disbursed must not be negative");
  return MinorUnits(net().value() - disbursed.value());
}

MinorUnits CaseSummary::remaining() const {
  HOMEWARD_CHECK(goal.value() >= 0, "goal must not be negative");
  const int64_t gap = goal.value() - net().value();
  return MinorUnits(gap > 0 ? gap : 0);
}

MinorUnits CaseSummary::surplus() const {
  HOMEWARD_CHECK(goal.value() >= 0, "goal must not be negative");
  const int64_t excess = net().value() - goal.value();
  return MinorUnits(excess > 0 ? excess : 0);
}

CaseStatus CaseSummary::status() const {
  if (closed()) return CaseStatus::kClosed;
  return net() >= goal ? CaseStatus::kFunded : CaseStatus::kOpen;
}

bool CaseSummary::shows_in_budget(Category category) const {
  const auto index = static_cast<size_t>(category);
  HOMEWARD_CHECK(index < kCategoryCount, "Category out of range");
  return planned[index].value() > 0 || disbursed_by_category[index].value() > 0;
}

std::optional<events::Fingerprint> CaseLedger::handled_fingerprint(
    std::string_view event_id) const {
  const std::optional<uint32_t> index = event_ids_.find(event_id);
  if (!index) return std::nullopt;
  return event_entries_[*index].fingerprint;
}

std::optional<CaseLedger::RecordIndex> CaseLedger::find_donation(
    std::string_view donation_id) const {
  const std::optional<uint32_t> index = event_ids_.find(donation_id);
  if (!index) return std::nullopt;
  const uint32_t record = event_entries_[*index].record;
  if (record == kNoRecord || (record & kPledgeBit) != 0) return std::nullopt;
  return record;
}

std::optional<CaseLedger::RecordIndex> CaseLedger::find_pledge(std::string_view pledge_id) const {
  const std::optional<uint32_t> index = event_ids_.find(pledge_id);
  if (!index) return std::nullopt;
  const uint32_t record = event_entries_[*index].record;
  if (record == kNoRecord || (record & kPledgeBit) == 0) return std::nullopt;
  return record & ~kPledgeBit;
}

DonationRecord CaseLedger::donation(RecordIndex index) const {
  HOMEWARD_CHECK(index < donations_.size(), "donation number out of range");
  const Donation& d = donations_[index];
  return DonationRecord{donors_.at(d.donor), d.amount, d.refunded};
}

PledgeRecord CaseLedger::pledge(RecordIndex index) const {
  HOMEWARD_CHECK(index < pledges_.size(), "pledge number out of range");
  const Pledge& p = pledges_[index];
  return PledgeRecord{donors_.at(p.donor), p.amount, p.state};
}

bool CaseLedger::donor_gave(uint32_t donor) const {
  HOMEWARD_CHECK(donor < donor_gave_.size(), "donor number out of range");
  return donor_gave_[donor];
}

bool CaseLedger::has_giver(std::string_view donor_ref) const {
  const std::optional<uint32_t> donor = donors_.find(donor_ref);
  return donor.has_value() && donor_gave_[*donor];
}

Status CaseLedger::room_for(const events::Event& event) const {
  auto full = [&](std::string_view table, const IdTable& ids) -> Status {
    return make_error(
        ErrorCode::kResourceExhausted,
        fmt::format("case {}: its table of {} is full ({} ids in {} bytes; at most {} ids in {} "
                    "bytes fit), so event {} cannot be handled; the case cannot take more events",
                    case_id, table, ids.size(), ids.id_bytes(), ids.limits().max_ids,
                    ids.limits().max_bytes, event.event_id));
  };
  // Conservative: an id already there would fit, but a table this full
  // stops the case a few events early at worst, and the check stays O(1).
  if (!event_ids_.has_room(event.event_id.size())) return full("event ids", event_ids_);
  const std::string* donor_ref = nullptr;
  if (const auto* gift = std::get_if<events::DonationReceived>(&event.body)) {
    donor_ref = &gift->donor_ref;
  } else if (const auto* pledge = std::get_if<events::PledgeMade>(&event.body)) {
    donor_ref = &pledge->donor_ref;
  }
  if (donor_ref != nullptr && !donors_.has_room(donor_ref->size())) return full("donors", donors_);
  return {};
}

CaseLedger::Remembered CaseLedger::remember_event(std::string_view event_id,
                                                  const events::Fingerprint& print) {
  auto inserted = event_ids_.insert(event_id);
  HOMEWARD_CHECK(inserted.has_value(), "room_for was not asked before the fold");
  const IdTable::Insertion added = *inserted;
  if (!added.inserted) {
    last_event_ = kNoRecord;
    return {false, event_entries_[added.index].fingerprint};
  }
  HOMEWARD_CHECK(added.index == event_entries_.size(), "event numbers must be dense");
  event_entries_.push_back(EventEntry{print, kNoRecord});
  last_event_ = added.index;
  return {true, print};
}

uint32_t CaseLedger::note_donor(std::string_view donor_ref) {
  auto inserted = donors_.insert(donor_ref);
  HOMEWARD_CHECK(inserted.has_value(), "room_for was not asked before the fold");
  const IdTable::Insertion added = *inserted;
  if (added.inserted) {
    donor_gave_.push_back(false);
    dirty.new_donors.push_back(added.index);
  }
  return added.index;
}

void CaseLedger::record_donation(std::string_view donor_ref, MinorUnits amount) {
  // Invariant: a record belongs to the event remembered last, which made none
  // yet (one event makes at most one record).
  HOMEWARD_CHECK(last_event_ != kNoRecord && event_entries_[last_event_].record == kNoRecord,
                 "a donation needs a newly remembered event");
  HOMEWARD_CHECK(donations_.size() < kPledgeBit, "too many donations in one case");
  const uint32_t donor = note_donor(donor_ref);
  event_entries_[last_event_].record = static_cast<uint32_t>(donations_.size());
  donations_.push_back(Donation{last_event_, donor, amount, MinorUnits(0)});
  if (!donor_gave_[donor]) {
    donor_gave_[donor] = true;
    summary.donors += 1;
    dirty.new_givers.push_back(donor);
  }
}

void CaseLedger::record_pledge(std::string_view donor_ref, MinorUnits amount) {
  HOMEWARD_CHECK(last_event_ != kNoRecord && event_entries_[last_event_].record == kNoRecord,
                 "a pledge needs a newly remembered event");
  HOMEWARD_CHECK(pledges_.size() < kPledgeBit, "too many pledges in one case");
  const uint32_t donor = note_donor(donor_ref);
  event_entries_[last_event_].record = static_cast<uint32_t>(pledges_.size()) | kPledgeBit;
  pledges_.push_back(Pledge{last_event_, donor, amount, PledgeState::kOutstanding});
}

void CaseLedger::add_refund(RecordIndex donation, MinorUnits amount) {
  HOMEWARD_CHECK(donation < donations_.size(), "donation number out of range");
  Donation& d = donations_[donation];
  const std::optional<MinorUnits> refunded = events::checked_add(d.refunded, amount);
  HOMEWARD_CHECK(refunded.has_value() && *refunded <= d.amount,
                 "a refund beyond its donation reached the ledger");
  d.refunded = *refunded;
}

void CaseLedger::settle_pledge(RecordIndex pledge, PledgeState state) {
  HOMEWARD_CHECK(pledge < pledges_.size(), "pledge number out of range");
  HOMEWARD_CHECK(
      pledges_[pledge].state == PledgeState::kOutstanding && state != PledgeState::kOutstanding,
      "only an outstanding pledge is settled");
  pledges_[pledge].state = state;
}

void CaseLedger::prefetch_for(const events::Event& event) const {
  event_ids_.prefetch(event.event_id);
  std::visit(
      [this](const auto& body) {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, events::DonationReceived> ||
                      std::is_same_v<Body, events::PledgeMade>) {
          donors_.prefetch(body.donor_ref);
        } else if constexpr (std::is_same_v<Body, events::PledgeFulfilled> ||
                             std::is_same_v<Body, events::PledgeCancelled>) {
          event_ids_.prefetch(body.pledge_id);
        } else if constexpr (std::is_same_v<Body, events::RefundIssued>) {
          event_ids_.prefetch(body.donation_id);
        }
      },
      event.body);
}

size_t CaseLedger::memory_bytes() const {
  return case_id.capacity() + event_ids_.memory_bytes() +
         event_entries_.capacity() * sizeof(EventEntry) + donations_.capacity() * sizeof(Donation) +
         pledges_.capacity() * sizeof(Pledge) + donors_.memory_bytes() +
         donor_gave_.capacity() / 8 +
         (dirty.new_donors.capacity() + dirty.new_givers.capacity()) * sizeof(uint32_t);
}

bool CaseLedger::same_content(const CaseLedger& other) const {
  return case_id == other.case_id && summary == other.summary &&
         history_events == other.history_events && event_ids_ == other.event_ids_ &&
         event_entries_ == other.event_entries_ && donations_ == other.donations_ &&
         pledges_ == other.pledges_ && donors_ == other.donors_ && donor_gave_ == other.donor_gave_;
}

}  // namespace homeward::engine
