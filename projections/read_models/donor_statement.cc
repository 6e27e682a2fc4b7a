#include "projections/read_models/donor_statement.h"

#include <fmt/format.h>

#include <memory>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include "events/identifier.h"
#include "events/timestamp.h"
#include "projections/case_history.h"
#include "projections/record_codec.h"

namespace homeward::projections {
namespace {

using nlohmann::ordered_json;

std::string_view to_string(engine::PledgeState state) {
  switch (state) {
    case engine::PledgeState::kOutstanding:
      return "outstanding";
    case engine::PledgeState::kFulfilled:
      return "fulfilled";
    case engine::PledgeState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

// The case ids of the donor index, in case_id order.
Result<std::vector<std::string>> cases_of_donor(const RocksProjectionStore& store,
                                                std::string_view donor_ref) {
  const std::string range = case_records_prefix(kDonorCasePrefix, donor_ref);
  std::vector<std::string> case_ids;
  std::unique_ptr<RecordCursor> cursor = store.open_cursor(range);
  for (; cursor->valid(); cursor->next()) {
    const std::string_view case_id = cursor->key().substr(range.size());
    if (!events::is_valid_identifier(case_id) || !cursor->value().empty()) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("the stored donor index of {} has a bad record for case "
                                    "\"{}\"",
                                    donor_ref, case_id));
    }
    case_ids.emplace_back(case_id);
  }
  if (auto s = cursor->status(); !s) return std::unexpected(s.error());
  return case_ids;
}

// Picks one donor's applied events out of one case's fold.
class CaseCollector {
 public:
  CaseCollector(std::string_view donor_ref, DonorStatement& out)
      : donor_ref_(donor_ref), out_(out), first_donation_(out.donations.size()) {}

  void on_event(const engine::CaseLedger& ledger, const HistoryEvent& history,
                const engine::Outcome& outcome) {
    if (outcome.disposition == engine::Disposition::kApplied) {
      std::visit([&](const auto& body) { applied(ledger, history.event, body); },
                 history.event.body);
    }
    // The event that first made the case fully funded: did the donor give
    // before it (or with it)?
    if (!was_fully_funded_ && ledger.summary.fully_funded_at.has_value()) {
      was_fully_funded_ = true;
      helped_ = gave_;
    }
  }

  Status on_case(engine::CaseLedger& ledger) {
    DonorCase the_case;
    the_case.case_id = ledger.case_id;
    the_case.summary = ledger.summary;
    the_case.helped_fully_fund = helped_;
    int64_t given = 0;
    for (size_t i = first_donation_; i < out_.donations.size(); ++i) {
      DonorDonation& donation = out_.donations[i];
      if (const auto found = ledger.find_donation(donation.donation_id)) {
        donation.refunded = ledger.donation(*found).refunded;
      }
      // Within one case, at most the case's received total: no overflow.
      given += donation.amount.value() - donation.refunded.value();
    }
    the_case.given = MinorUnits(given);
    out_.cases.push_back(std::move(the_case));
    return {};
  }

 private:
  template <typename Body>
  void applied(const engine::CaseLedger& ledger, const events::Event& event, const Body& body) {
    if constexpr (std::is_same_v<Body, events::DonationReceived>) {
      if (body.donor_ref != donor_ref_) return;
      out_.donations.push_back(DonorDonation{ledger.case_id, event.event_id, event.occurred_at,
                                             body.currency, body.amount, MinorUnits{},
                                             std::nullopt});
      gave_ = true;
    } else if constexpr (std::is_same_v<Body, events::PledgeMade>) {
      if (body.donor_ref != donor_ref_) return;
      pledges_.emplace(event.event_id, out_.pledges.size());
      out_.pledges.push_back(DonorPledge{ledger.case_id, event.event_id, event.occurred_at,
                                         body.currency, body.amount,
                                         engine::PledgeState::kOutstanding, std::nullopt});
    } else if constexpr (std::is_same_v<Body, events::PledgeFulfilled> ||
                         std::is_same_v<Body, events::PledgeCancelled>) {
      const auto it = pledges_.find(body.pledge_id);
      if (it == pledges_.end()) return;  // someone else's pledge
      DonorPledge& pledge = out_.pledges[it->second];
      pledge.settled_at = event.occurred_at;
      if constexpr (std::is_same_v<Body, events::PledgeFulfilled>) {
        pledge.state = engine::PledgeState::kFulfilled;
        out_.donations.push_back(DonorDonation{ledger.case_id, event.event_id, event.occurred_at,
                                               pledge.currency, pledge.amount, MinorUnits{},
                                               body.pledge_id});
        gave_ = true;
      } else {
        pledge.state = engine::PledgeState::kCancelled;
      }
    } else if constexpr (std::is_same_v<Body, events::RefundIssued>) {
      const auto found = ledger.find_donation(body.donation_id);
      if (!found || ledger.donation(*found).donor_ref != donor_ref_) return;
      out_.refunds.push_back(DonorRefund{ledger.case_id, event.event_id, body.donation_id,
                                         event.occurred_at, body.currency, body.amount,
                                         body.reason});
    }
  }

  std::string_view donor_ref_;
  DonorStatement& out_;
  size_t first_donation_;
  std::unordered_map<std::string, size_t> pledges_;  // this case's pledges of the donor
  bool gave_ = false;
  bool was_fully_funded_ = false;
  bool helped_ = false;
};

ordered_json time_or_null(const std::optional<TimestampMicros>& t) {
  if (!t) return nullptr;
  return events::format_timestamp(*t);
}

}  // namespace

Result<DonorStatement> donor_statement(const RocksProjectionStore& store,
                                       std::string_view donor_ref) {
  auto not_found = [&] {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("no donation or pledge of donor {} is in the ledger", donor_ref));
  };
  if (!events::is_valid_identifier(donor_ref)) return not_found();
  auto case_ids = cases_of_donor(store, donor_ref);
  if (!case_ids) return std::unexpected(case_ids.error());
  if (case_ids->empty()) return not_found();

  DonorStatement statement;
  statement.donor_ref = std::string(donor_ref);
  for (const std::string& case_id : *case_ids) {
    CaseCollector collector(donor_ref, statement);
    HistoryFoldVisitor visitor;
    visitor.on_event = [&](const engine::CaseLedger& ledger, const HistoryEvent& event,
                           const engine::Outcome& outcome) {
      collector.on_event(ledger, event, outcome);
    };
    visitor.on_case = [&](engine::CaseLedger& ledger) { return collector.on_case(ledger); };
    if (auto s = fold_histories(store, HistoryFilter{case_id, std::nullopt}, visitor); !s) {
      return std::unexpected(s.error());
    }
  }
  return statement;
}

ordered_json donor_statement_json(const DonorStatement& statement) {
  auto amount = [](MinorUnits m, const events::Currency& c) {
    return events::format_amount(m, c.exponent);
  };
  ordered_json j = ordered_json::object();
  j["donor_ref"] = statement.donor_ref;

  ordered_json donations = ordered_json::array();
  for (const DonorDonation& d : statement.donations) {
    ordered_json row = ordered_json::object();
    row["case_id"] = d.case_id;
    row["donation_id"] = d.donation_id;
    row["occurred_at"] = events::format_timestamp(d.occurred_at);
    row["currency"] = std::string(d.currency.code_view());
    row["amount"] = amount(d.amount, d.currency);
    row["refunded"] = amount(d.refunded, d.currency);
    row["pledge_id"] = d.pledge_id ? ordered_json(*d.pledge_id) : ordered_json(nullptr);
    donations.push_back(std::move(row));
  }
  j["donations"] = std::move(donations);

  ordered_json refunds = ordered_json::array();
  for (const DonorRefund& r : statement.refunds) {
    ordered_json row = ordered_json::object();
    row["case_id"] = r.case_id;
    row["refund_id"] = r.refund_id;
    row["donation_id"] = r.donation_id;
    row["occurred_at"] = events::format_timestamp(r.occurred_at);
    row["currency"] = std::string(r.currency.code_view());
    row["amount"] = amount(r.amount, r.currency);
    row["reason"] = std::string(events::to_string(r.reason));
    refunds.push_back(std::move(row));
  }
  j["refunds"] = std::move(refunds);

  ordered_json pledges = ordered_json::array();
  for (const DonorPledge& p : statement.pledges) {
    ordered_json row = ordered_json::object();
    row["case_id"] = p.case_id;
    row["pledge_id"] = p.pledge_id;
    row["made_at"] = events::format_timestamp(p.made_at);
    row["currency"] = std::string(p.currency.code_view());
    row["amount"] = amount(p.amount, p.currency);
    row["state"] = std::string(to_string(p.state));
    row["settled_at"] = time_or_null(p.settled_at);
    pledges.push_back(std::move(row));
  }
  j["pledges"] = std::move(pledges);

  ordered_json cases = ordered_json::array();
  for (const DonorCase& c : statement.cases) {
    const engine::CaseSummary& s = c.summary;
    ordered_json row = ordered_json::object();
    row["case_id"] = c.case_id;
    row["opened"] = s.opened;
    if (s.opened) {
      row["currency"] = std::string(s.currency.code_view());
      row["status"] = std::string(engine::to_string(s.status()));
      row["goal"] = amount(s.goal, s.currency);
      row["net"] = amount(s.net(), s.currency);
      row["remaining"] = amount(s.remaining(), s.currency);
      row["fully_funded"] = s.fully_funded_at.has_value();
      row["fully_funded_at"] = time_or_null(s.fully_funded_at);
      row["closed_at"] = time_or_null(s.closed_at);
      row["given"] = amount(c.given, s.currency);
    }
    row["helped_fully_fund"] = c.helped_fully_fund;
    cases.push_back(std::move(row));
  }
  j["cases"] = std::move(cases);
  return j;
}

}  // namespace homeward::projections
