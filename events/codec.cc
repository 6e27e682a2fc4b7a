#include "events/codec.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "events/check.h"
#include "events/validation.h"
#include "homeward_event_generated.h"

namespace homeward::events {
namespace {

namespace wire = ::homeward::wire;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

std::unexpected<Error> corrupt(std::string_view field, std::string_view reason) {
  if (field.empty()) return make_error(ErrorCode::kCorruption, std::string(reason));
  return make_error(ErrorCode::kCorruption, fmt::format("{}: {}", field, reason));
}

std::unexpected<Error> corrupt(const FieldError& error) {
  return corrupt(error.field, error.reason);
}

// --- encoding ---

Offset<flatbuffers::Vector<Offset<wire::BudgetLine>>> encode_budget(FlatBufferBuilder& fbb,
                                                                    const FundingPlan& plan) {
  if (!plan.budget) return 0;
  std::vector<Offset<wire::BudgetLine>> lines;
  lines.reserve(plan.budget->size());
  for (const BudgetLine& line : *plan.budget) {
    lines.push_back(wire::CreateBudgetLine(fbb, static_cast<wire::Category>(line.category),
                                           line.amount.value()));
  }
  return fbb.CreateVector(lines);
}

Offset<flatbuffers::String> encode_currency(FlatBufferBuilder& fbb, const Currency& currency) {
  return fbb.CreateString(currency.code_view().data(), currency.code_view().size());
}

Offset<flatbuffers::String> encode_optional(FlatBufferBuilder& fbb,
                                            const std::optional<std::string>& text) {
  return text ? fbb.CreateString(*text) : Offset<flatbuffers::String>(0);
}

Offset<void> encode_body(FlatBufferBuilder& fbb, const EventBody& body) {
  return std::visit(
      [&fbb](const auto& b) -> Offset<void> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, CaseOpened>) {
          const auto currency = encode_currency(fbb, b.plan.currency);
          const auto budget = encode_budget(fbb, b.plan);
          return wire::CreateCaseOpened(fbb, currency, b.plan.goal.value(), budget).Union();
        } else if constexpr (std::is_same_v<T, CaseGoalChanged>) {
          const auto currency = encode_currency(fbb, b.plan.currency);
          const auto budget = encode_budget(fbb, b.plan);
          const auto reason = encode_optional(fbb, b.reason);
          return wire::CreateCaseGoalChanged(fbb, currency, b.plan.goal.value(), budget, reason)
              .Union();
        } else if constexpr (std::is_same_v<T, CaseClosed>) {
          return wire::CreateCaseClosed(fbb, static_cast<wire::CloseReason>(b.reason)).Union();
        } else if constexpr (std::is_same_v<T, DonationReceived>) {
          const auto donor_ref = fbb.CreateString(b.donor_ref);
          const auto currency = encode_currency(fbb, b.currency);
          return wire::CreateDonationReceived(fbb, donor_ref, b.amount.value(), currency).Union();
        } else if constexpr (std::is_same_v<T, PledgeMade>) {
          const auto donor_ref = fbb.CreateString(b.donor_ref);
          const auto currency = encode_currency(fbb, b.currency);
          return wire::CreatePledgeMade(fbb, donor_ref, b.amount.value(), currency).Union();
        } else if constexpr (std::is_same_v<T, PledgeFulfilled>) {
          return wire::CreatePledgeFulfilled(fbb, fbb.CreateString(b.pledge_id)).Union();
        } else if constexpr (std::is_same_v<T, PledgeCancelled>) {
          const auto pledge_id = fbb.CreateString(b.pledge_id);
          const auto reason = encode_optional(fbb, b.reason);
          return wire::CreatePledgeCancelled(fbb, pledge_id, reason).Union();
        } else if constexpr (std::is_same_v<T, RefundIssued>) {
          const auto donation_id = fbb.CreateString(b.donation_id);
          const auto currency = encode_currency(fbb, b.currency);
          return wire::CreateRefundIssued(fbb, donation_id, b.amount.value(), currency,
                                          static_cast<wire::RefundReason>(b.reason))
              .Union();
        } else {
          static_assert(std::is_same_v<T, FundsDisbursed>);
          const auto currency = encode_currency(fbb, b.currency);
          const auto reference = encode_optional(fbb, b.reference);
          return wire::CreateFundsDisbursed(fbb, static_cast<wire::Category>(b.category),
                                            b.amount.value(), currency, reference)
              .Union();
        }
      },
      body);
}

// --- decoding ---

// The verifier asserts (ends the process) on a buffer of 2 GiB or more.
static_assert(kMaxRecordBytes < FLATBUFFERS_MAX_BUFFER_SIZE);

// The verified root table, or why the bytes are not one. `storage` receives an
// aligned copy when the caller's bytes are not 8-byte aligned (a RocksDB or
// Kafka buffer may start anywhere), because FlatBuffers reads scalars in place.
Result<const wire::Event*> verified_root(std::string_view bytes, std::vector<uint64_t>& storage) {
  // Root offset (4 bytes) and file identifier (4 bytes) at least.
  if (bytes.size() < 8) {
    return corrupt("", fmt::format("{} bytes are too few for an event buffer", bytes.size()));
  }
  if (bytes.size() > kMaxRecordBytes) {
    return corrupt("", fmt::format("{} bytes exceed the {} bytes (1 MiB) an event record may hold",
                                   bytes.size(), kMaxRecordBytes));
  }
  if (std::memcmp(bytes.data() + 4, kFileIdentifier.data(), kFileIdentifier.size()) != 0) {
    return corrupt("", "file identifier is not \"HWEV\"; not a Homeward event buffer");
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    storage.assign((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t), 0);
    std::memcpy(storage.data(), bytes.data(), bytes.size());
    data = reinterpret_cast<const uint8_t*>(storage.data());
  }
  flatbuffers::Verifier::Options limits;
  limits.max_depth = kVerifierMaxDepth;
  limits.max_tables = kVerifierMaxTables;
  flatbuffers::Verifier verifier(data, bytes.size(), limits);
  if (!wire::VerifyEventBuffer(verifier)) {
    return corrupt("", fmt::format("bytes do not verify as a homeward.wire.Event (FlatBuffers "
                                   "verifier, at most {} tables {} deep: a budget has at most {} "
                                   "lines)",
                                   kVerifierMaxTables, kVerifierMaxDepth, kCategoryCount));
  }
  return wire::GetEvent(data);
}

std::string_view view(const flatbuffers::String* s) { return {s->c_str(), s->size()}; }

Result<std::string> decode_identifier(const flatbuffers::String* s, std::string_view field) {
  if (s == nullptr) return corrupt(field, "is missing");
  if (auto problem = identifier_problem(view(s))) return corrupt(field, *problem);
  return std::string(view(s));
}

Result<std::optional<std::string>> decode_optional_identifier(const flatbuffers::String* s,
                                                              std::string_view field) {
  if (s == nullptr) return std::nullopt;
  auto id = decode_identifier(s, field);
  if (!id) return std::unexpected(id.error());
  return std::optional<std::string>(std::move(*id));
}

Result<std::optional<std::string>> decode_free_text(const flatbuffers::String* s,
                                                    std::string_view field) {
  if (s == nullptr) return std::nullopt;
  if (auto problem = free_text_problem(view(s))) return corrupt(field, *problem);
  return std::optional<std::string>(std::string(view(s)));
}

Result<Currency> decode_currency(const flatbuffers::String* s) {
  if (s == nullptr) return corrupt("currency", "is missing");
  auto currency = check_currency(view(s));
  if (!currency) return corrupt("currency", currency.error());
  return *currency;
}

Result<MinorUnits> decode_amount(int64_t value, const Currency& currency, std::string_view field) {
  if (auto problem = amount_range_problem(value, currency)) return corrupt(field, *problem);
  return MinorUnits(value);
}

// A scalar the schema declares `= null` because it is required: FlatBuffers
// reads an absent scalar as its default (0, `completed`, `shelter`), so only
// an optional scalar lets the reader tell "missing" from "zero".
template <typename T>
Result<T> required(const flatbuffers::Optional<T>& value, std::string_view field) {
  if (!value.has_value()) return corrupt(field, "is missing");
  return *value;
}

Result<MinorUnits> decode_required_amount(const flatbuffers::Optional<int64_t>& value,
                                          const Currency& currency, std::string_view field) {
  auto present = required(value, field);
  if (!present) return std::unexpected(present.error());
  return decode_amount(*present, currency, field);
}

template <typename Enum, size_t N, typename WireEnum>
Result<Enum> decode_enum(const flatbuffers::Optional<WireEnum>& value, std::string_view field,
                         std::string_view what) {
  if (!value.has_value()) return corrupt(field, "is missing");
  const auto raw = static_cast<uint8_t>(*value);
  if (raw >= N) {
    return corrupt(field, fmt::format("{} is not a {} value (0 to {})", raw, what, N - 1));
  }
  return static_cast<Enum>(raw);
}

// CaseOpened and CaseGoalChanged share the plan fields.
template <typename WireTable>
Result<FundingPlan> decode_plan(const WireTable& table, EventType type) {
  auto currency = decode_currency(table.currency());
  if (!currency) return std::unexpected(currency.error());
  std::optional<std::vector<BudgetLine>> budget;
  // An absent goal beside a budget is the budget's sum, as in NDJSON; a goal
  // of 0 is a goal of 0 (refused by the amount rule), as `"goal":"0"` is.
  std::optional<int64_t> goal;
  if (const auto wire_goal = table.goal(); wire_goal.has_value()) goal = *wire_goal;
  if (const auto* lines = table.budget()) {
    budget.emplace();
    for (flatbuffers::uoffset_t i = 0; i < lines->size(); ++i) {
      const wire::BudgetLine* line = lines->Get(i);
      auto category = decode_enum<Category, kCategoryCount>(
          line->category(), fmt::format("budget[{}].category", i), "Category");
      if (!category) return std::unexpected(category.error());
      auto amount = required(line->amount(), fmt::format("budget[{}].amount", i));
      if (!amount) return std::unexpected(amount.error());
      budget->push_back(BudgetLine{*category, MinorUnits(*amount)});
    }
  }
  auto plan = make_funding_plan(to_string(type), *currency, goal, std::move(budget));
  if (!plan) return corrupt(plan.error());
  return std::move(*plan);
}

Result<EventBody> decode_body(const wire::Event& root) {
  const auto raw_type = static_cast<uint8_t>(root.body_type());
  if (raw_type < 1 || raw_type > kEventTypeCount) {
    return corrupt("body", fmt::format("union type {} is not an event type (1 to {})", raw_type,
                                       kEventTypeCount));
  }
  const auto type = static_cast<EventType>(raw_type - 1);
  switch (type) {
    case EventType::kCaseOpened: {
      auto plan = decode_plan(*root.body_as_CaseOpened(), type);
      if (!plan) return std::unexpected(plan.error());
      return CaseOpened{std::move(*plan)};
    }
    case EventType::kCaseGoalChanged: {
      const auto& b = *root.body_as_CaseGoalChanged();
      auto plan = decode_plan(b, type);
      if (!plan) return std::unexpected(plan.error());
      auto reason = decode_free_text(b.reason(), "reason");
      if (!reason) return std::unexpected(reason.error());
      return CaseGoalChanged{std::move(*plan), std::move(*reason)};
    }
    case EventType::kCaseClosed: {
      auto reason = decode_enum<CloseReason, kCloseReasonCount>(root.body_as_CaseClosed()->reason(),
                                                                "reason", "CloseReason");
      if (!reason) return std::unexpected(reason.error());
      return CaseClosed{*reason};
    }
    case EventType::kDonationReceived:
    case EventType::kPledgeMade: {
      // The two tables have the same fields in the same slots, but are read
      // through their own types so that the code stays right if they diverge.
      const flatbuffers::String* donor_ref_text = nullptr;
      const flatbuffers::String* currency_text = nullptr;
      flatbuffers::Optional<int64_t> amount_value;
      if (type == EventType::kDonationReceived) {
        const auto& b = *root.body_as_DonationReceived();
        donor_ref_text = b.donor_ref();
        currency_text = b.currency();
        amount_value = b.amount();
      } else {
        const auto& b = *root.body_as_PledgeMade();
        donor_ref_text = b.donor_ref();
        currency_text = b.currency();
        amount_value = b.amount();
      }
      auto donor_ref = decode_identifier(donor_ref_text, "donor_ref");
      if (!donor_ref) return std::unexpected(donor_ref.error());
      auto currency = decode_currency(currency_text);
      if (!currency) return std::unexpected(currency.error());
      auto amount = decode_required_amount(amount_value, *currency, "amount");
      if (!amount) return std::unexpected(amount.error());
      if (type == EventType::kDonationReceived) {
        return DonationReceived{std::move(*donor_ref), *amount, *currency};
      }
      return PledgeMade{std::move(*donor_ref), *amount, *currency};
    }
    case EventType::kPledgeFulfilled: {
      auto pledge_id = decode_identifier(root.body_as_PledgeFulfilled()->pledge_id(), "pledge_id");
      if (!pledge_id) return std::unexpected(pledge_id.error());
      return PledgeFulfilled{std::move(*pledge_id)};
    }
    case EventType::kPledgeCancelled: {
      const auto& b = *root.body_as_PledgeCancelled();
      auto pledge_id = decode_identifier(b.pledge_id(), "pledge_id");
      if (!pledge_id) return std::unexpected(pledge_id.error());
      auto reason = decode_free_text(b.reason(), "reason");
      if (!reason) return std::unexpected(reason.error());
      return PledgeCancelled{std::move(*pledge_id), std::move(*reason)};
    }
    case EventType::kRefundIssued: {
      const auto& b = *root.body_as_RefundIssued();
      auto donation_id = decode_identifier(b.donation_id(), "donation_id");
      if (!donation_id) return std::unexpected(donation_id.error());
      auto currency = decode_currency(b.currency());
      if (!currency) return std::unexpected(currency.error());
      auto amount = decode_required_amount(b.amount(), *currency, "amount");
      if (!amount) return std::unexpected(amount.error());
      auto reason =
          decode_enum<RefundReason, kRefundReasonCount>(b.reason(), "reason", "RefundReason");
      if (!reason) return std::unexpected(reason.error());
      return RefundIssued{std::move(*donation_id), *amount, *currency, *reason};
    }
    case EventType::kFundsDisbursed: {
      const auto& b = *root.body_as_FundsDisbursed();
      auto category = decode_enum<Category, kCategoryCount>(b.category(), "category", "Category");
      if (!category) return std::unexpected(category.error());
      auto currency = decode_currency(b.currency());
      if (!currency) return std::unexpected(currency.error());
      auto amount = decode_required_amount(b.amount(), *currency, "amount");
      if (!amount) return std::unexpected(amount.error());
      auto reference = decode_optional_identifier(b.reference(), "reference");
      if (!reference) return std::unexpected(reference.error());
      return FundsDisbursed{*category, *amount, *currency, std::move(*reference)};
    }
  }
  return corrupt("body", "unhandled event type");  // unreachable: the range was checked above
}

}  // namespace

std::string encode_event(const Event& event) {
  FlatBufferBuilder fbb(256);
  // Every scalar is written, even when it equals the schema default: the
  // bytes then say explicitly what was meant (schema_version 1), and the
  // output depends only on the Event, never on default values. The required
  // scalars are optional scalars (`= null`) and are written whenever set.
  fbb.ForceDefaults(true);
  // Children are created before their parents, always in the same order, so
  // the same Event always gives the same bytes.
  const auto event_id = fbb.CreateString(event.event_id);
  const auto case_id = fbb.CreateString(event.case_id);
  const auto source = encode_optional(fbb, event.source);
  const auto body = encode_body(fbb, event.body);
  const auto body_type = static_cast<wire::EventBody>(static_cast<uint8_t>(event.type()) + 1);
  const auto root = wire::CreateEvent(fbb, kSchemaVersion, event_id, event.occurred_at.value(),
                                      case_id, source, body_type, body);
  wire::FinishEventBuffer(fbb, root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Result<Event> decode_event(std::string_view bytes) {
  std::vector<uint64_t> storage;
  auto root = verified_root(bytes, storage);
  if (!root) return std::unexpected(root.error());
  const wire::Event& e = **root;

  const uint16_t version = e.schema_version();
  if (version == 0 || version > kSchemaVersion) {
    return corrupt("schema_version", fmt::format("{} is not supported; this reader knows 1 to {}",
                                                 version, kSchemaVersion));
  }
  Event event;
  auto event_id = decode_identifier(e.event_id(), "event_id");
  if (!event_id) return std::unexpected(event_id.error());
  event.event_id = std::move(*event_id);
  auto occurred_at = required(e.occurred_at_us(), "occurred_at_us");
  if (!occurred_at) return std::unexpected(occurred_at.error());
  if (auto problem = timestamp_range_problem(*occurred_at)) {
    return corrupt("occurred_at_us", *problem);
  }
  event.occurred_at = TimestampMicros(*occurred_at);
  auto case_id = decode_identifier(e.case_id(), "case_id");
  if (!case_id) return std::unexpected(case_id.error());
  event.case_id = std::move(*case_id);
  auto source = decode_optional_identifier(e.source(), "source");
  if (!source) return std::unexpected(source.error());
  event.source = std::move(*source);
  auto body = decode_body(e);
  if (!body) return std::unexpected(body.error());
  event.body = std::move(*body);
  return event;
}

Result<Event> decode_record(std::string_view key, std::string_view value) {
  auto event = decode_event(value);
  if (!event || key == event->case_id) return event;
  if (key.empty()) {
    return corrupt("key", fmt::format("is missing; a record's key must be its case_id \"{}\"",
                                      event->case_id));
  }
  // Keys come from any producer: only an identifier is short and printable.
  if (identifier_problem(key)) {
    return corrupt("key", fmt::format("is not the record's case_id \"{}\" ({} bytes that are not "
                                      "an identifier)",
                                      event->case_id, key.size()));
  }
  return corrupt("key",
                 fmt::format("\"{}\" is not the record's case_id \"{}\"", key, event->case_id));
}

PartialIdentity peek_identity(std::string_view bytes) {
  PartialIdentity identity;
  std::vector<uint64_t> storage;
  auto root = verified_root(bytes, storage);
  if (!root) return identity;
  const wire::Event& e = **root;
  if (e.case_id() != nullptr && !identifier_problem(view(e.case_id()))) {
    identity.case_id = std::string(view(e.case_id()));
  }
  if (e.event_id() != nullptr && !identifier_problem(view(e.event_id()))) {
    identity.event_id = std::string(view(e.event_id()));
  }
  const auto raw_type = static_cast<uint8_t>(e.body_type());
  if (raw_type >= 1 && raw_type <= kEventTypeCount) {
    identity.type = static_cast<EventType>(raw_type - 1);
  }
  return identity;
}

}  // namespace homeward::events
