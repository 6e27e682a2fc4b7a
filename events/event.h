// The typed events of the ledger (SPEC section 3).
//
// An `Event` is a fully checked value: every instance that exists has passed
// stage 1 (it was parsed from NDJSON or decoded from verified FlatBuffers), so
// its identifiers, amounts and currency are valid. Two events compare equal
// when every field has the same value (amounts in minor units, timestamps as
// UTC microseconds, budgets sorted by category): that is the meaning of
// "identical" in the duplicate rule of SPEC section 4. Plain values;
// thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "events/money.h"
#include "events/strong_int.h"

namespace homeward::events {

// The order of the enumerators is the order of the `EventBody` alternatives
// and of the schema's union; it is part of the wire format.
enum class EventType : uint8_t {
  kCaseOpened,
  kCaseGoalChanged,
  kCaseClosed,
  kDonationReceived,
  kPledgeMade,
  kPledgeFulfilled,
  kPledgeCancelled,
  kRefundIssued,
  kFundsDisbursed,
};
inline constexpr size_t kEventTypeCount = 9;

enum class Category : uint8_t {
  kShelter,
  kMedical,
  kLegal,
  kRepatriation,
  kEducation,
  kLivelihood,
  kPsychosocial,
  kOther,
};
inline constexpr size_t kCategoryCount = 8;

enum class CloseReason : uint8_t { kCompleted, kCancelled, kOther };
inline constexpr size_t kCloseReasonCount = 3;

enum class RefundReason : uint8_t {
  kDonorRequest,
  kChargeback,
  kCaseCancelled,
  kOverfunded,
  kReallocated,
  kError,
};
inline constexpr size_t kRefundReasonCount = 6;

// SPEC spellings: "CaseOpened", "shelter", "completed", "donor_request", ...
[[nodiscard]] std::string_view to_string(EventType type);
[[nodiscard]] std::string_view to_string(Category category);
[[nodiscard]] std::string_view to_string(CloseReason reason);
[[nodiscard]] std::string_view to_string(RefundReason reason);
[[nodiscard]] std::optional<EventType> parse_event_type(std::string_view text);
[[nodiscard]] std::optional<Category> parse_category(std::string_view text);
[[nodiscard]] std::optional<CloseReason> parse_close_reason(std::string_view text);
[[nodiscard]] std::optional<RefundReason> parse_refund_reason(std::string_view text);

struct BudgetLine {
  Category category = Category::kOther;
  MinorUnits amount;
  bool operator==(const BudgetLine&) const = default;
};

// The funding target of a case. Invariants (checked at stage 1): `goal` is
// positive; when `budget` is present it is non-empty, sorted by category with
// distinct categories, and its amounts sum to `goal`.
struct FundingPlan {
  Currency currency;
  MinorUnits goal;
  std::optional<std::vector<BudgetLine>> budget;
  bool operator==(const FundingPlan&) const = default;
};

struct CaseOpened {
  FundingPlan plan;
  bool operator==(const CaseOpened&) const = default;
};
struct CaseGoalChanged {
  FundingPlan plan;
  std::optional<std::string> reason;  // free text
  bool operator==(const CaseGoalChanged&) const = default;
};
struct CaseClosed {
  CloseReason reason = CloseReason::kOther;
  bool operator==(const CaseClosed&) const = default;
};
struct DonationReceived {
  std::string donor_ref;
  MinorUnits amount;
  Currency currency;
  bool operator==(const DonationReceived&) const = default;
};
struct PledgeMade {
  std::string donor_ref;
  MinorUnits amount;
  Currency currency;
  bool operator==(const PledgeMade&) const = default;
};
struct PledgeFulfilled {
  std::string pledge_id;
  bool operator==(const PledgeFulfilled&) const = default;
};
struct PledgeCancelled {
  std::string pledge_id;
  std::optional<std::string> reason;  // free text
  bool operator==(const PledgeCancelled&) const = default;
};
struct RefundIssued {
  std::string donation_id;
  MinorUnits amount;
  Currency currency;
  RefundReason reason = RefundReason::kError;
  bool operator==(const RefundIssued&) const = default;
};
struct FundsDisbursed {
  Category category = Category::kOther;
  MinorUnits amount;
  Currency currency;
  std::optional<std::string> reference;  // identifier
  bool operator==(const FundsDisbursed&) const = default;
};

// Alternative i is the body of EventType(i).
using EventBody =
    std::variant<CaseOpened, CaseGoalChanged, CaseClosed, DonationReceived, PledgeMade,
                 PledgeFulfilled, PledgeCancelled, RefundIssued, FundsDisbursed>;

struct Event {
  std::string event_id;
  TimestampMicros occurred_at;
  std::string case_id;
  std::optional<std::string> source;  // identifier of the publishing service
  EventBody body;

  [[nodiscard]] EventType type() const { return static_cast<EventType>(body.index()); }
  bool operator==(const Event&) const = default;
};

}  // namespace homeward::events
