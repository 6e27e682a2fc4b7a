// Money raised per day: per currency and UTC day of occurred_at, the net of
// the applied donations (DonationReceived and PledgeFulfilled) and refunds
// of every case, the series behind the public dashboard's chart
// (GET /v1/public/raised). Summed over its days, a currency's series gives
// the impact report's `net` of that currency (SPEC section 6), which is the
// public `raised` (SPEC section 8).
//
// Days are the finest time it holds (SPEC section 8: no public time finer
// than a day). Computed on demand by folding the case histories
// (case_history.h), as monthly_flows.h does, so the projector's hot path is
// untouched; callers cache it per projection position. Thread-safe for reads.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "events/error.h"
#include "events/money.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections {

struct DailyRaised {
  // currency -> day ("YYYY-MM-DD", UTC) -> donations minus refunds applied
  // that day (negative on a day of more refunds than gifts). Only days with
  // an applied donation or refund; every currency an opened case uses has an
  // entry, empty when no money moved in it.
  std::map<std::string, std::map<std::string, events::WideMinorUnits>> by_currency;
  std::map<std::string, uint8_t> exponents;  // currency -> minor-unit exponent
};

[[nodiscard]] Result<DailyRaised> daily_raised(const RocksProjectionStore& store);

// {"by_currency": {CODE: [{"day", "raised", "total"}, ...]}}: per currency,
// its days in order, each with that day's `raised` and the running `total`
// (the currency's raised up to and including that day), amounts as the API
// writes them (the currency's exponent, no floating point).
[[nodiscard]] nlohmann::ordered_json public_raised_json(const DailyRaised& raised);

}  // namespace homeward::projections
