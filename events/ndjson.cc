#include "events/ndjson.h"

#include <array>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "events/check.h"
#include "events/identifier.h"
#include "events/suggest.h"
#include "events/timestamp.h"
#include "events/validation.h"

// Stage 1 on one NDJSON line. The first problem found is reported, in this
// fixed order (docs/ describe it for portal developers):
//   1. the line is JSON, and its value is an object;
//   2. no key appears twice;
//   3. `type` is present, a string, and a known event type;
//   4. every key is a field of that type (document order; the first stranger
//      is reported);
//   5. the common fields: event_id, occurred_at, case_id, source;
//   6. the type's own fields in SPEC order, except that `currency` comes
//      before any amount, because an amount's allowed decimals depend on it;
//      inside a budget, entry by entry: repeated keys, unknown keys, category,
//      amount; then the plan as a whole (validation.h, make_funding_plan).
// For each field: present when required, the right JSON type (null is never
// the right type), then its value rule.

namespace homeward::events {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::array<std::string_view, 5> kCommonFields = {"type", "event_id", "occurred_at",
                                                           "case_id", "source"};

// The fields of each type besides the common ones, in SPEC order; indexed by
// EventType.
const std::array<std::vector<std::string_view>, kEventTypeCount>& type_fields() {
  static const std::array<std::vector<std::string_view>, kEventTypeCount> fields = {{
      {"currency", "goal", "budget"},
      {"currency", "goal", "budget", "reason"},
      {"reason"},
      {"donor_ref", "amount", "currency"},
      {"donor_ref", "amount", "currency"},
      {"pledge_id"},
      {"pledge_id", "reason"},
      {"donation_id", "amount", "currency", "reason"},
      {"category", "amount", "currency", "reference"},
  }};
  return fields;
}

std::unexpected<FieldError> fail(std::string field, std::string reason) {
  return std::unexpected(FieldError{std::move(field), std::move(reason)});
}

std::string_view json_type_name(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown JSON value";
}

// Shows a user's string inside a message, shortened.
std::string quoted(std::string_view text) {
  constexpr size_t kShown = 60;
  if (text.size() <= kShown) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\"", text.substr(0, kShown));
}

// The members of one JSON object in document order, once it is known that no
// key repeats. A view of simdjson's tape: nothing is copied or allocated,
// since this runs for every line the publisher reads.
class Members {
 public:
  // Objects up to this many members are checked for repeated keys by
  // comparing each with those before it (no allocation; events have about
  // ten fields); larger ones, which only bad input has, through a hash set so
  // that a line of a million keys stays linear.
  static constexpr size_t kPairwiseMax = 32;

  // `prefix` is put before keys in error fields ("budget[0].").
  static std::expected<Members, FieldError> collect(simdjson::dom::object object,
                                                    std::string_view prefix) {
    auto repeated = [&](std::string_view key) {
      return fail(fmt::format("{}{}", prefix, key),
                  "appears more than once; each field may be given once");
    };
    if (object.size() <= kPairwiseMax) {
      for (auto it = object.begin(); it != object.end(); ++it) {
        for (auto earlier = object.begin(); earlier != it; ++earlier) {
          if (earlier.key() == it.key()) return repeated(it.key());
        }
      }
    } else {
      std::unordered_set<std::string_view> seen;
      for (simdjson::dom::key_value_pair member : object) {
        if (!seen.insert(member.key).second) return repeated(member.key);
      }
    }
    return Members(object);
  }

  [[nodiscard]] std::optional<element> find(std::string_view key) const {
    for (simdjson::dom::key_value_pair member : object_) {
      if (member.key == key) return member.value;
    }
    return std::nullopt;
  }
  // Iterable as key_value_pair, in document order.
  [[nodiscard]] simdjson::dom::object items() const { return object_; }

 private:
  explicit Members(simdjson::dom::object object) : object_(object) {}
  simdjson::dom::object object_;
};

// Reads the fields of one object; `prefix` names the object in errors.
class FieldReader {
 public:
  FieldReader(const Members& members, std::string prefix)
      : members_(members), prefix_(std::move(prefix)) {}

  [[nodiscard]] std::string name(std::string_view key) const {
    return fmt::format("{}{}", prefix_, key);
  }

  // A string field: nullopt when absent and not required.
  std::expected<std::optional<std::string_view>, FieldError> string(
      std::string_view key, bool required, std::string_view hint = {}) const {
    const std::optional<element> value = members_.find(key);
    if (!value) {
      if (!required) return std::nullopt;
      return fail(name(key), "is missing");
    }
    std::string_view text;
    if (value->get_string().get(text) != simdjson::SUCCESS) {
      return fail(name(key), fmt::format("must be a JSON string{}, not {}", hint,
                                         json_type_name(value->type())));
    }
    return std::optional<std::string_view>(text);
  }

  std::expected<std::optional<std::string>, FieldError> identifier(std::string_view key,
                                                                   bool required) const {
    auto text = string(key, required);
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::nullopt;
    if (auto problem = identifier_problem(**text)) return fail(name(key), *problem);
    return std::optional<std::string>(std::string(**text));
  }

  std::expected<std::optional<std::string>, FieldError> free_text(std::string_view key) const {
    auto text = string(key, false);
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::nullopt;
    if (auto problem = free_text_problem(**text)) return fail(name(key), *problem);
    return std::optional<std::string>(std::string(**text));
  }

  std::expected<TimestampMicros, FieldError> timestamp(std::string_view key) const {
    auto text = string(key, true, " such as \"2015-06-23T10:00:00Z\"");
    if (!text) return std::unexpected(text.error());
    auto parsed = parse_timestamp(**text);
    if (!parsed) return fail(name(key), parsed.error().message);
    return *parsed;
  }

  std::expected<Currency, FieldError> currency(std::string_view key) const {
    auto text = string(key, true, " such as \"USD\"");
    if (!text) return std::unexpected(text.error());
    auto found = check_currency(**text);
    if (!found) return fail(name(key), found.error());
    return *found;
  }

  std::expected<std::optional<MinorUnits>, FieldError> amount(std::string_view key, bool required,
                                                              const Currency& currency) const {
    // Amounts are strings so that no binary floating point ever holds one.
    auto text = string(key, required, " holding a decimal, such as \"25.00\"");
    if (!text) return std::unexpected(text.error());
    if (!*text) return std::nullopt;
    auto parsed = parse_amount(**text, currency);
    if (!parsed) return fail(name(key), parsed.error().message);
    return std::optional<MinorUnits>(*parsed);
  }

  template <typename Enum, size_t N>
  std::expected<Enum, FieldError> word(std::string_view key,
                                       std::optional<Enum> (*parse)(std::string_view),
                                       std::string_view what) const {
    auto text = string(key, true);
    if (!text) return std::unexpected(text.error());
    if (auto parsed = parse(**text)) return *parsed;
    return fail(name(key), fmt::format("{} is not a {}; expected {}", quoted(**text), what,
                                       word_list<Enum, N>()));
  }

  std::expected<Category, FieldError> category(std::string_view key) const {
    return word<Category, kCategoryCount>(key, parse_category, "category");
  }

 private:
  const Members& members_;
  std::string prefix_;
};

// Reads `budget` when present: nullopt when absent; lines in input order.
std::expected<std::optional<std::vector<BudgetLine>>, FieldError> read_budget(
    const Members& members, const Currency& currency) {
  const std::optional<element> value = members.find("budget");
  if (!value) return std::nullopt;
  simdjson::dom::array entries;
  if (value->get_array().get(entries) != simdjson::SUCCESS) {
    return fail("budget", fmt::format("must be a JSON array of {{\"category\", \"amount\"}} "
                                      "objects, not {}",
                                      json_type_name(value->type())));
  }
  std::vector<BudgetLine> lines;
  size_t index = 0;
  for (element item : entries) {
    const std::string entry_name = fmt::format("budget[{}]", index);
    simdjson::dom::object entry_object;
    if (item.get_object().get(entry_object) != simdjson::SUCCESS) {
      return fail(entry_name, fmt::format("must be an object with category and amount, not {}",
                                          json_type_name(item.type())));
    }
    auto entry = Members::collect(entry_object, entry_name + ".");
    if (!entry) return std::unexpected(entry.error());
    for (const auto& member : entry->items()) {
      if (member.key != "category" && member.key != "amount") {
        constexpr std::array<std::string_view, 2> kEntryFields = {"category", "amount"};
        std::string reason = "is not a field of a budget entry (only category and amount)";
        if (const auto nearest = nearest_word(member.key, kEntryFields)) {
          reason += fmt::format("; did you mean \"{}\"?", *nearest);
        }
        return fail(fmt::format("{}.{}", entry_name, member.key), std::move(reason));
      }
    }
    FieldReader reader(*entry, entry_name + ".");
    auto category = reader.category("category");
    if (!category) return std::unexpected(category.error());
    auto amount = reader.amount("amount", true, currency);
    if (!amount) return std::unexpected(amount.error());
    lines.push_back(BudgetLine{*category, **amount});
    ++index;
  }
  return std::optional<std::vector<BudgetLine>>(std::move(lines));
}

std::expected<FundingPlan, FieldError> read_plan(const Members& members, const FieldReader& reader,
                                                 EventType type) {
  auto currency = reader.currency("currency");
  if (!currency) return std::unexpected(currency.error());
  auto goal = reader.amount("goal", false, *currency);
  if (!goal) return std::unexpected(goal.error());
  auto budget = read_budget(members, *currency);
  if (!budget) return std::unexpected(budget.error());
  std::optional<int64_t> raw_goal;
  if (*goal) raw_goal = (*goal)->value();
  return make_funding_plan(to_string(type), *currency, raw_goal, std::move(*budget));
}

// The body of each type, reading its fields in the documented order.
std::expected<EventBody, FieldError> read_body(EventType type, const Members& members,
                                               const FieldReader& r) {
  switch (type) {
    case EventType::kCaseOpened: {
      auto plan = read_plan(members, r, type);
      if (!plan) return std::unexpected(plan.error());
      return CaseOpened{std::move(*plan)};
    }
    case EventType::kCaseGoalChanged: {
      auto plan = read_plan(members, r, type);
      if (!plan) return std::unexpected(plan.error());
      auto reason = r.free_text("reason");
      if (!reason) return std::unexpected(reason.error());
      return CaseGoalChanged{std::move(*plan), std::move(*reason)};
    }
    case EventType::kCaseClosed: {
      auto reason =
          r.word<CloseReason, kCloseReasonCount>("reason", parse_close_reason, "close reason");
      if (!reason) return std::unexpected(reason.error());
      return CaseClosed{*reason};
    }
    case EventType::kDonationReceived:
    case EventType::kPledgeMade: {
      auto donor_ref = r.identifier("donor_ref", true);
      if (!donor_ref) return std::unexpected(donor_ref.error());
      auto currency = r.currency("currency");
      if (!currency) return std::unexpected(currency.error());
      auto amount = r.amount("amount", true, *currency);
      if (!amount) return std::unexpected(amount.error());
      if (type == EventType::kDonationReceived) {
        return DonationReceived{std::move(**donor_ref), **amount, *currency};
      }
      return PledgeMade{std::move(**donor_ref), **amount, *currency};
    }
    case EventType::kPledgeFulfilled: {
      auto pledge_id = r.identifier("pledge_id", true);
      if (!pledge_id) return std::unexpected(pledge_id.error());
      return PledgeFulfilled{std::move(**pledge_id)};
    }
    case EventType::kPledgeCancelled: {
      auto pledge_id = r.identifier("pledge_id", true);
      if (!pledge_id) return std::unexpected(pledge_id.error());
      auto reason = r.free_text("reason");
      if (!reason) return std::unexpected(reason.error());
      return PledgeCancelled{std::move(**pledge_id), std::move(*reason)};
    }
    case EventType::kRefundIssued: {
      auto donation_id = r.identifier("donation_id", true);
      if (!donation_id) return std::unexpected(donation_id.error());
      auto currency = r.currency("currency");
      if (!currency) return std::unexpected(currency.error());
      auto amount = r.amount("amount", true, *currency);
      if (!amount) return std::unexpected(amount.error());
      auto reason =
          r.word<RefundReason, kRefundReasonCount>("reason", parse_refund_reason, "refund reason");
      if (!reason) return std::unexpected(reason.error());
      return RefundIssued{std::move(**donation_id), **amount, *currency, *reason};
    }
    case EventType::kFundsDisbursed: {
      auto category = r.category("category");
      if (!category) return std::unexpected(category.error());
      auto currency = r.currency("currency");
      if (!currency) return std::unexpected(currency.error());
      auto amount = r.amount("amount", true, *currency);
      if (!amount) return std::unexpected(amount.error());
      auto reference = r.identifier("reference", false);
      if (!reference) return std::unexpected(reference.error());
      return FundsDisbursed{*category, **amount, *currency, std::move(*reference)};
    }
  }
  // `type` came from parse_event_type, so the switch above covered it.
  ::homeward::detail::check_failed("known EventType", "every EventType has a case above", __FILE__,
                                   __LINE__);
}

bool is_field_of(EventType type, std::string_view key) {
  for (auto common : kCommonFields) {
    if (common == key) return true;
  }
  for (auto field : type_fields()[static_cast<size_t>(type)]) {
    if (field == key) return true;
  }
  return false;
}

// --- writing ---

void append_escaped(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(ch);  // ASCII, or a byte of (already validated) UTF-8
        }
    }
  }
  out.push_back('"');
}

class LineWriter {
 public:
  LineWriter() { out_.push_back('{'); }
  void string(std::string_view key, std::string_view value) {
    this->key(key);
    append_escaped(out_, value);
  }
  void optional_string(std::string_view key, const std::optional<std::string>& value) {
    if (value) string(key, *value);
  }
  void amount(std::string_view key, MinorUnits value, const Currency& currency) {
    string(key, format_amount(value, currency.exponent));
  }
  void currency(const Currency& currency) { string("currency", currency.code_view()); }
  void plan(const FundingPlan& plan) {
    currency(plan.currency);
    amount("goal", plan.goal, plan.currency);
    if (!plan.budget) return;
    key("budget");
    out_.push_back('[');
    for (size_t i = 0; i < plan.budget->size(); ++i) {
      const BudgetLine& line = (*plan.budget)[i];
      if (i > 0) out_.push_back(',');
      out_ += "{\"category\":";
      append_escaped(out_, to_string(line.category));
      out_ += ",\"amount\":";
      append_escaped(out_, format_amount(line.amount, plan.currency.exponent));
      out_.push_back('}');
    }
    out_.push_back(']');
  }
  std::string finish() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void key(std::string_view key) {
    if (out_.size() > 1) out_.push_back(',');
    append_escaped(out_, key);
    out_.push_back(':');
  }
  std::string out_;
};

}  // namespace

std::expected<Event, FieldError> parse_event_json(std::string_view line) {
  // One parser per thread: it keeps its buffers between lines, and no state
  // is shared between threads. parse(..., realloc_if_needed = true) copies
  // the line into the parser's own padded buffer, so `line` needs no padding.
  // A rare huge line gets a parser of its own, so that no thread keeps a
  // buffer of that size for the rest of its life.
  constexpr size_t kSharedParserMaxBytes = size_t{1} << 20;
  thread_local simdjson::dom::parser shared_parser;
  std::optional<simdjson::dom::parser> own_parser;  // allocates nothing until used
  simdjson::dom::parser& parser =
      line.size() <= kSharedParserMaxBytes ? shared_parser : own_parser.emplace();
  element root;
  if (auto error = parser.parse(line.data(), line.size(), true).get(root); error) {
    return fail("", fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object root_object;
  if (root.get_object().get(root_object) != simdjson::SUCCESS) {
    return fail("", fmt::format("must be a JSON object, not {}", json_type_name(root.type())));
  }
  auto members = Members::collect(root_object, "");
  if (!members) return std::unexpected(members.error());
  const FieldReader reader(*members, "");

  auto type_text = reader.string("type", true);
  if (!type_text) return std::unexpected(type_text.error());
  const auto type = parse_event_type(**type_text);
  if (!type) {
    return fail("type", fmt::format("{} is not an event type; expected {}", quoted(**type_text),
                                    word_list<EventType, kEventTypeCount>()));
  }

  for (const auto& member : members->items()) {
    if (is_field_of(*type, member.key)) continue;
    bool of_another_type = false;
    for (size_t t = 0; t < kEventTypeCount; ++t) {
      of_another_type = of_another_type || is_field_of(static_cast<EventType>(t), member.key);
    }
    if (of_another_type) {
      return fail(std::string(member.key), fmt::format("is not a field of {}", to_string(*type)));
    }
    std::vector<std::string_view> known(kCommonFields.begin(), kCommonFields.end());
    const auto& own = type_fields()[static_cast<size_t>(*type)];
    known.insert(known.end(), own.begin(), own.end());
    if (const auto nearest = nearest_word(member.key, known)) {
      return fail(std::string(member.key),
                  fmt::format("is not a known field; did you mean \"{}\"?", *nearest));
    }
    return fail(std::string(member.key), "is not a known field (check its spelling)");
  }

  Event event;
  auto event_id = reader.identifier("event_id", true);
  if (!event_id) return std::unexpected(event_id.error());
  event.event_id = std::move(**event_id);
  auto occurred_at = reader.timestamp("occurred_at");
  if (!occurred_at) return std::unexpected(occurred_at.error());
  event.occurred_at = *occurred_at;
  auto case_id = reader.identifier("case_id", true);
  if (!case_id) return std::unexpected(case_id.error());
  event.case_id = std::move(**case_id);
  auto source = reader.identifier("source", false);
  if (!source) return std::unexpected(source.error());
  event.source = std::move(*source);

  auto body = read_body(*type, *members, reader);
  if (!body) return std::unexpected(body.error());
  event.body = std::move(*body);
  HOMEWARD_CHECK(event.type() == *type, "read_body builds the body of the type it was given");
  return event;
}

std::string format_event_json(const Event& event) {
  LineWriter w;
  w.string("type", to_string(event.type()));
  w.string("event_id", event.event_id);
  w.string("occurred_at", format_timestamp(event.occurred_at));
  w.string("case_id", event.case_id);
  w.optional_string("source", event.source);
  std::visit(
      [&w](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, CaseOpened>) {
          w.plan(body.plan);
        } else if constexpr (std::is_same_v<T, CaseGoalChanged>) {
          w.plan(body.plan);
          w.optional_string("reason", body.reason);
        } else if constexpr (std::is_same_v<T, CaseClosed>) {
          w.string("reason", to_string(body.reason));
        } else if constexpr (std::is_same_v<T, DonationReceived> || std::is_same_v<T, PledgeMade>) {
          w.string("donor_ref", body.donor_ref);
          w.amount("amount", body.amount, body.currency);
          w.currency(body.currency);
        } else if constexpr (std::is_same_v<T, PledgeFulfilled>) {
          w.string("pledge_id", body.pledge_id);
        } else if constexpr (std::is_same_v<T, PledgeCancelled>) {
          w.string("pledge_id", body.pledge_id);
          w.optional_string("reason", body.reason);
        } else if constexpr (std::is_same_v<T, RefundIssued>) {
          w.string("donation_id", body.donation_id);
          w.amount("amount", body.amount, body.currency);
          w.currency(body.currency);
          w.string("reason", to_string(body.reason));
        } else {
          static_assert(std::is_same_v<T, FundsDisbursed>);
          w.string("category", to_string(body.category));
          w.amount("amount", body.amount, body.currency);
          w.currency(body.currency);
          w.optional_string("reference", body.reference);
        }
      },
      event.body);
  return w.finish();
}

}  // namespace homeward::events
