// The HTTP tests' ledger: a generated stream (every event type, duplicates,
// stage-2 rejections; bench/generator.h) followed by lines that give every
// rejection reason of SPEC section 4 once at least, and lines that stage 1
// refuses. `append_malformed_record` puts bytes on the log that are not an
// event (another producer's mistake), which stage 2 rejects `malformed`.
#pragma once

#include <filesystem>
#include <sstream>
#include <string>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "bench/generator.h"
#include "connectors/embedded_log/embedded_log.h"
#include "engine/event_log.h"

namespace homeward::testing {

inline std::string event_line(const std::string& json_fields) { return "{" + json_fields + "}\n"; }

// Every rejection reason, in case "r-usd" (USD) and "r-jpy" (JPY), and a few
// refused lines (not JSON, a missing field, an unknown field).
inline std::string every_reason_lines() {
  std::string s;
  auto add = [&s](const std::string& fields) { s += event_line(fields); };
  const std::string at = R"("occurred_at":"2015-06-01T08:00:00Z")";
  add(R"("type":"CaseOpened","event_id":"r1",)" + at +
      R"(,"case_id":"r-usd","currency":"USD","budget":[{"category":"shelter","amount":"60.00"},{"category":"medical","amount":"40.00"}])");
  add(R"("type":"CaseOpened","event_id":"r2",)" + at +
      R"(,"case_id":"r-usd","currency":"USD","goal":"5.00")");  // case_exists
  add(R"("type":"DonationReceived","event_id":"r3",)" + at +
      R"(,"case_id":"r-ghost","donor_ref":"d-1","amount":"1.00","currency":"USD")");  // unknown_case
  add(R"("type":"CaseGoalChanged","event_id":"r4",)" + at +
      R"(,"case_id":"r-usd","currency":"EUR","goal":"5.00")");  // currency_mismatch
  add(R"("type":"DonationReceived","event_id":"r5",)" + at +
      R"(,"case_id":"r-usd","donor_ref":"d-1","amount":"50.00","currency":"USD")");
  add(R"("type":"DonationReceived","event_id":"r5",)" + at +
      R"(,"case_id":"r-usd","donor_ref":"d-1","amount":"50.00","currency":"USD")");  // duplicate
  add(R"("type":"DonationReceived","event_id":"r5",)" + at +
      R"(,"case_id":"r-usd","donor_ref":"d-1","amount":"51.00","currency":"USD")");  // conflicting
  add(R"("type":"PledgeFulfilled","event_id":"r6",)" + at +
      R"(,"case_id":"r-usd","pledge_id":"nope")");  // unknown_pledge
  add(R"("type":"PledgeMade","event_id":"r7",)" + at +
      R"(,"case_id":"r-usd","donor_ref":"d-2","amount":"10.00","currency":"USD")");
  add(R"("type":"PledgeCancelled","event_id":"r8",)" + at +
      R"(,"case_id":"r-usd","pledge_id":"r7")");
  add(R"("type":"PledgeCancelled","event_id":"r9",)" + at +
      R"(,"case_id":"r-usd","pledge_id":"r7")");  // pledge_not_outstanding
  add(R"("type":"RefundIssued","event_id":"r10",)" + at +
      R"(,"case_id":"r-usd","donation_id":"nope","amount":"1.00","currency":"USD","reason":"error")");  // unknown_donation
  add(R"("type":"RefundIssued","event_id":"r11",)" + at +
      R"(,"case_id":"r-usd","donation_id":"r5","amount":"60.00","currency":"USD","reason":"error")");  // refund_exceeds_donation
  add(R"("type":"FundsDisbursed","event_id":"r12",)" + at +
      R"(,"case_id":"r-usd","category":"shelter","amount":"70.00","currency":"USD")");  // insufficient_funds
  add(R"("type":"CaseClosed","event_id":"r13",)" + at + R"(,"case_id":"r-usd","reason":"other")");
  add(R"("type":"PledgeMade","event_id":"r14",)" + at +
      R"(,"case_id":"r-usd","donor_ref":"d-2","amount":"10.00","currency":"USD")");  // case_closed
  // overflow: 9,224 gifts of 10^15 yen pass 2^63 - 1.
  add(R"("type":"CaseOpened","event_id":"j0",)" + at +
      R"(,"case_id":"r-jpy","currency":"JPY","goal":"1000")");
  for (int i = 1; i <= 9224; ++i) {
    add(fmt::format(
        R"("type":"DonationReceived","event_id":"j{}",{},"case_id":"r-jpy","donor_ref":"d-{}","amount":"1000000000000000","currency":"JPY")",
        i, at, i % 7));
  }
  s += "not json\n";
  add(R"("type":"DonationReceived","event_id":"x1",)" + at +
      R"(,"case_id":"r-usd","amount":"1.00","currency":"USD")");  // refused: no donor_ref
  add(R"("type":"CaseClosed","event_id":"x2",)" + at +
      R"(,"case_id":"r-usd","reason":"other","donor":"d")");
  return s;
}

inline std::string generated_lines(int64_t events, uint64_t seed) {
  bench::GeneratorOptions options;
  options.events = events;
  options.seed = seed;
  std::ostringstream out;
  auto summary = bench::generate(options, out);
  EXPECT_TRUE(summary.has_value());
  return out.str();
}

// Appends one record whose bytes are not an event.
inline void append_malformed_record(const std::filesystem::path& data_dir) {
  auto log = connectors::EmbeddedLog::open(data_dir / "log");
  ASSERT_TRUE(log.has_value()) << log.error().message;
  engine::AppendRequest request;
  request.key = "r-usd";
  request.value = "these bytes are not a FlatBuffers event";
  const std::vector<engine::AppendRequest> requests{request};
  auto appended = (*log)->append(requests);
  ASSERT_TRUE(appended.has_value());
}

}  // namespace homeward::testing
