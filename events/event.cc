#include "events/event.h"

#include <array>

namespace homeward::events {
namespace {

// Spellings of SPEC section 3 and 2, indexed by enumerator value.
constexpr std::array<std::string_view, kEventTypeCount> kEventTypeNames = {
    "CaseOpened",      "CaseGoalChanged", "CaseClosed",   "DonationReceived", "PledgeMade",
    "PledgeFulfilled", "PledgeCancelled", "RefundIssued", "FundsDisbursed"};
constexpr std::array<std::string_view, kCategoryCount> kCategoryNames = {
    "shelter",   "medical",    "legal",        "repatriation",
    "education", "livelihood", "psychosocial", "other"};
constexpr std::array<std::string_view, kCloseReasonCount> kCloseReasonNames = {
    "completed", "cancelled", "other"};
constexpr std::array<std::string_view, kRefundReasonCount> kRefundReasonNames = {
    "donor_request", "chargeback", "case_cancelled", "overfunded", "reallocated", "error"};

template <typename Enum, size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, Enum value) {
  const auto index = static_cast<size_t>(value);
  // An out-of-range enumerator can only come from a cast in Homeward's own
  // code; decoded bytes are range-checked before they become enums.
  return index < N ? names[index] : std::string_view("invalid");
}

template <typename Enum, size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names,
                               std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(EventType type) { return name_of(kEventTypeNames, type); }
std::string_view to_string(Category category) { return name_of(kCategoryNames, category); }
std::string_view to_string(CloseReason reason) { return name_of(kCloseReasonNames, reason); }
std::string_view to_string(RefundReason reason) { return name_of(kRefundReasonNames, reason); }

std::optional<EventType> parse_event_type(std::string_view text) {
  return parse_name<EventType>(kEventTypeNames, text);
}
std::optional<Category> parse_category(std::string_view text) {
  return parse_name<Category>(kCategoryNames, text);
}
std::optional<CloseReason> parse_close_reason(std::string_view text) {
  return parse_name<CloseReason>(kCloseReasonNames, text);
}
std::optional<RefundReason> parse_refund_reason(std::string_view text) {
  return parse_name<RefundReason>(kRefundReasonNames, text);
}

}  // namespace homeward::events
