#include "projections/json_output.h"

#include <optional>

#include "events/check.h"
#include "events/event.h"
#include "events/money.h"
#include "events/timestamp.h"

namespace homeward::projections {
namespace {

using nlohmann::ordered_json;

ordered_json time_or_null(const std::optional<TimestampMicros>& t) {
  if (!t) return nullptr;
  return events::format_timestamp(*t);
}

// Category order is the enum's order (shelter ... other), which is the
// order SPEC section 2 lists the categories in.
ordered_json budget_json(const engine::CaseSummary& s) {
  ordered_json budget = ordered_json::object();
  for (size_t i = 0; i < events::kCategoryCount; ++i) {
    const auto category = static_cast<events::Category>(i);
    if (!s.shows_in_budget(category)) continue;
    ordered_json line = ordered_json::object();
    line["planned"] = events::format_amount(s.planned[i], s.currency.exponent);
    line["disbursed"] = events::format_amount(s.disbursed_by_category[i], s.currency.exponent);
    budget[std::string(events::to_string(category))] = std::move(line);
  }
  return budget;
}

}  // namespace

ordered_json case_json(std::string_view case_id, const engine::CaseSummary& s) {
  const uint8_t exp = s.currency.exponent;
  auto amount = [exp](MinorUnits m) { return events::format_amount(m, exp); };
  ordered_json j = ordered_json::object();
  j["case_id"] = std::string(case_id);
  j["currency"] = std::string(s.currency.code_view());
  j["status"] = std::string(engine::to_string(s.status()));
  j["goal"] = amount(s.goal);
  j["received"] = amount(s.received);
  j["refunded"] = amount(s.refunded);
  j["net"] = amount(s.net());
  j["pledged"] = amount(s.pledged);
  j["disbursed"] = amount(s.disbursed);
  j["available"] = amount(s.available());
  j["remaining"] = amount(s.remaining());
  j["surplus"] = amount(s.surplus());
  j["donations"] = s.donations;
  j["donors"] = s.donors;
  j["refunds"] = s.refunds;
  j["opened_at"] = events::format_timestamp(s.opened_at);
  j["fully_funded_at"] = time_or_null(s.fully_funded_at);
  j["closed_at"] = time_or_null(s.closed_at);
  if (s.close_reason) {
    j["close_reason"] = std::string(events::to_string(*s.close_reason));
  } else {
    j["close_reason"] = nullptr;
  }
  j["budget"] = budget_json(s);
  j["events_applied"] = s.events_applied;
  j["duplicates"] = s.duplicates;
  j["events_rejected"] = s.events_rejected;
  return j;
}

ordered_json cases_json(const std::vector<CaseView>& cases) {
  ordered_json array = ordered_json::array();
  for (const CaseView& view : cases) array.push_back(case_json(view.case_id, view.summary));
  return array;
}

ordered_json impact_json(const engine::ImpactReport& report) {
  ordered_json j = ordered_json::object();
  ordered_json cases = ordered_json::object();
  cases["total"] = report.cases_total;
  cases["open"] = report.cases_open;
  cases["funded"] = report.cases_funded;
  cases["closed"] = report.cases_closed;
  cases["ever_fully_funded"] = report.cases_ever_fully_funded;
  j["cases"] = std::move(cases);
  j["donations"] = report.donations;
  j["refunds"] = report.refunds;
  j["donors"] = report.donors;

  // std::map keeps the codes sorted, which is the documented order.
  ordered_json by_currency = ordered_json::object();
  for (const auto& [code, totals] : report.by_currency) {
    const std::optional<events::Currency> currency = events::find_currency(code);
    // The codes come from stored summaries, whose decoder accepts only
    // supported currencies.
    HOMEWARD_CHECK(currency.has_value(), "the impact report names an unsupported currency");
    const uint8_t exp = currency->exponent;
    ordered_json figures = ordered_json::object();
    figures["received"] = events::format_amount(totals.received, exp);
    figures["refunded"] = events::format_amount(totals.refunded, exp);
    figures["net"] = events::format_amount(totals.net, exp);
    figures["pledged"] = events::format_amount(totals.pledged, exp);
    figures["disbursed"] = events::format_amount(totals.disbursed, exp);
    figures["surplus"] = events::format_amount(totals.surplus, exp);
    by_currency[code] = std::move(figures);
  }
  j["by_currency"] = std::move(by_currency);

  if (report.median_seconds_to_fully_funded) {
    j["median_seconds_to_fully_funded"] = *report.median_seconds_to_fully_funded;
  } else {
    j["median_seconds_to_fully_funded"] = nullptr;
  }

  ordered_json events_json = ordered_json::object();
  events_json["applied"] = report.events.applied;
  events_json["duplicates"] = report.events.duplicates;
  events_json["rejected"] = report.events.rejected;
  // Only reasons that occurred, in RejectReason order (the order of the
  // table in SPEC section 4, malformed and conflicting_duplicate first).
  ordered_json by_reason = ordered_json::object();
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    const int64_t count = report.events.rejected_by_reason[i];
    if (count == 0) continue;
    by_reason[std::string(engine::to_string(static_cast<engine::RejectReason>(i)))] = count;
  }
  events_json["rejected_by_reason"] = std::move(by_reason);
  j["events"] = std::move(events_json);
  return j;
}

ordered_json rejections_json(const std::vector<engine::RejectionRecord>& rejections) {
  ordered_json array = ordered_json::array();
  for (const engine::RejectionRecord& r : rejections) {
    ordered_json j = ordered_json::object();
    j["case_id"] = r.case_id.empty() ? ordered_json(nullptr) : ordered_json(r.case_id);
    j["event_id"] = r.event_id.empty() ? ordered_json(nullptr) : ordered_json(r.event_id);
    j["type"] =
        r.type ? ordered_json(std::string(events::to_string(*r.type))) : ordered_json(nullptr);
    j["reason"] = std::string(engine::to_string(r.reason));
    j["partition"] = r.partition.value();
    j["offset"] = r.offset.value();
    array.push_back(std::move(j));
  }
  return array;
}

ordered_json case_page_json(const CasePage& page) {
  ordered_json j = ordered_json::object();
  j["cases"] = cases_json(page.cases);
  j["next"] = page.next ? ordered_json(*page.next) : ordered_json(nullptr);
  return j;
}

ordered_json rejection_page_json(const RejectionPage& page) {
  ordered_json j = ordered_json::object();
  j["rejections"] = rejections_json(page.rejections);
  j["next"] = page.next ? ordered_json(format_rejection_cursor(*page.next)) : ordered_json(nullptr);
  return j;
}

std::string json_text(const ordered_json& document, bool pretty) {
  std::string text =
      document.dump(pretty ? 2 : -1, ' ', false, ordered_json::error_handler_t::replace);
  text.push_back('\n');
  return text;
}

}  // namespace homeward::projections
