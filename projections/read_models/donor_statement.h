// Donor statements (`homeward donor DONOR_REF`): one donor's donations
// (fulfilled pledges included), the refunds against them, their pledges, and
// the state of every case they gave or pledged to, for receipts and "your gift
// helped fully fund a survivor's return".
//
// PERSONAL DATA: a statement ties a donor_ref to gifts, amounts and dates.
// It is for auditors and the donor portal only, never for public reports
// (docs/reports.md).
//
// The store keeps a donor index (`x donor_ref \0 case_id`, written with the
// case) so that a statement reads only the donor's cases: each one's history
// is folded with the ledger rules and the donor's applied events picked out.
// Thread-safe for reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case_ledger.h"
#include "events/error.h"
#include "events/event.h"
#include "events/money.h"
#include "events/strong_int.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

struct DonorDonation {
  std::string case_id;
  std::string donation_id;  // the DonationReceived's or the PledgeFulfilled's event_id
  TimestampMicros occurred_at;
  events::Currency currency;
  MinorUnits amount;
  MinorUnits refunded;                   // applied refunds against it, in total
  std::optional<std::string> pledge_id;  // set when the donation kept a pledge
};

struct DonorRefund {
  std::string case_id;
  std::string refund_id;  // the RefundIssued's event_id
  std::string donation_id;
  TimestampMicros occurred_at;
  events::Currency currency;
  MinorUnits amount;
  events::RefundReason reason = events::RefundReason::kError;
};

struct DonorPledge {
  std::string case_id;
  std::string pledge_id;
  TimestampMicros made_at;
  events::Currency currency;
  MinorUnits amount;
  engine::PledgeState state = engine::PledgeState::kOutstanding;
  std::optional<TimestampMicros> settled_at;  // when fulfilled or cancelled
};

struct DonorCase {
  std::string case_id;
  engine::CaseSummary summary;  // the case now (all its events)
  MinorUnits given;             // this donor's applied donations to it, less refunds
  // The donor had an applied donation in the case before the event that made
  // it fully funded (SPEC fully_funded_at).
  bool helped_fully_fund = false;
};

struct DonorStatement {
  std::string donor_ref;
  // Each list in case_id order, then log order.
  std::vector<DonorDonation> donations;
  std::vector<DonorRefund> refunds;
  std::vector<DonorPledge> pledges;
  std::vector<DonorCase> cases;
};

// The statement of `donor_ref`; kNotFound when the ledger knows no applied
// donation or pledge of it (an invalid identifier is not found either).
[[nodiscard]] Result<DonorStatement> donor_statement(const RocksProjectionStore& store,
                                                     std::string_view donor_ref);

// The JSON form: {donor_ref, donations, refunds, pledges, cases} with amounts
// as SPEC strings and timestamps in SPEC form (this is not a public report).
[[nodiscard]] nlohmann::ordered_json donor_statement_json(const DonorStatement& statement);

}  // namespace homeward::projections
