#include "projections/public_view.h"

#include <optional>
#include <string>

#include "events/check.h"
#include "events/event.h"
#include "events/money.h"
#include "events/timestamp.h"

namespace homeward::projections {
namespace {

using nlohmann::ordered_json;

// A day, never a finer time (SPEC section 8).
ordered_json day_or_null(const std::optional<TimestampMicros>& t) {
  if (!t) return nullptr;
  return events::format_date(*t);
}

// Rounds toward minus infinity (a median may be negative when a case's
// money is dated before its CaseOpened).
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

int64_t percent_funded(const engine::CaseSummary& summary) {
  HOMEWARD_CHECK(summary.goal.value() > 0, "an opened case has a positive goal (SPEC section 2)");
  // 100 × net may pass the int64 range, so the product is 128-bit. The
  // quotient passes it only for a net near 2^63 over a goal of under 100
  // minor units; it is then clamped to the int64 maximum (JSON readers could
  // not take more).
  const events::WideMinorUnits hundred_net =
      static_cast<events::WideMinorUnits>(summary.net().value()) * 100;
  const events::WideMinorUnits goal = summary.goal.value();
  events::WideMinorUnits q = hundred_net / goal;
  if (hundred_net % goal != 0 && hundred_net < 0) q -= 1;
  if (q > INT64_MAX) return INT64_MAX;
  return static_cast<int64_t>(q);
}

ordered_json public_case_json(std::string_view case_id, const engine::CaseSummary& s) {
  const uint8_t exp = s.currency.exponent;
  ordered_json j = ordered_json::object();
  j["case_id"] = std::string(case_id);
  j["currency"] = std::string(s.currency.code_view());
  j["status"] = std::string(engine::to_string(s.status()));
  j["goal"] = events::format_amount(s.goal, exp);
  j["raised"] = events::format_amount(s.net(), exp);
  j["remaining"] = events::format_amount(s.remaining(), exp);
  j["percent_funded"] = percent_funded(s);
  j["supporters"] = s.donors;
  j["opened_on"] = events::format_date(s.opened_at);
  j["fully_funded_on"] = day_or_null(s.fully_funded_at);
  j["closed_on"] = day_or_null(s.closed_at);
  // What the money is for: the latest budget's planned amounts, in SPEC's
  // category order. Disbursements are not public (they carry references).
  ordered_json budget = ordered_json::object();
  if (s.has_budget) {
    for (size_t i = 0; i < events::kCategoryCount; ++i) {
      if (s.planned[i].value() == 0) continue;  // not in the latest budget
      budget[std::string(events::to_string(static_cast<events::Category>(i)))] =
          events::format_amount(s.planned[i], exp);
    }
  }
  j["budget"] = std::move(budget);
  return j;
}

ordered_json public_cases_json(const std::vector<CaseView>& cases) {
  ordered_json array = ordered_json::array();
  for (const CaseView& view : cases) array.push_back(public_case_json(view.case_id, view.summary));
  return array;
}

ordered_json public_impact_json(const engine::ImpactReport& report) {
  ordered_json j = ordered_json::object();
  ordered_json cases = ordered_json::object();
  cases["total"] = report.cases_total;
  cases["open"] = report.cases_open;
  cases["funded"] = report.cases_funded;
  cases["closed"] = report.cases_closed;
  cases["ever_fully_funded"] = report.cases_ever_fully_funded;
  j["cases"] = std::move(cases);
  j["donations"] = report.donations;
  j["donors"] = report.donors;
  ordered_json by_currency = ordered_json::object();
  for (const auto& [code, totals] : report.by_currency) {
    const std::optional<events::Currency> currency = events::find_currency(code);
    HOMEWARD_CHECK(currency.has_value(), "the impact report names an unsupported currency");
    ordered_json figures = ordered_json::object();
    figures["raised"] = events::format_amount(totals.net, currency->exponent);
    figures["goal"] = events::format_amount(totals.goal_not_closed, currency->exponent);
    by_currency[code] = std::move(figures);
  }
  j["by_currency"] = std::move(by_currency);
  if (report.median_seconds_to_fully_funded) {
    j["median_days_to_fully_funded"] = floor_div(*report.median_seconds_to_fully_funded, 86'400);
  } else {
    j["median_days_to_fully_funded"] = nullptr;
  }
  return j;
}

}  // namespace homeward::projections
