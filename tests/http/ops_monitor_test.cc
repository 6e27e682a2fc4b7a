// OpsMonitor (connectors/http/ops_monitor.h), the figures behind GET /v1/ops,
// on a clock the test sets: rates over the last 10 whole seconds, the
// nearest-rank p99 over the window's requests, counts by outcome and reason,
// the 20 latest rejected events newest first, the lag per partition with its
// seconds since caught up.
#include <gtest/gtest.h>

#include <chrono>

#include "connectors/http/ops_monitor.h"

namespace homeward {
namespace {

using connectors::http::OpsMonitor;
using std::chrono::milliseconds;
using std::chrono::seconds;

engine::LogRecord record_at(int64_t offset) {
  return engine::LogRecord{Partition(0), Offset(offset), "case-a", ""};
}

TEST(OpsMonitorTest, RatesCountTheLastTenSecondsAndThenFade) {
  OpsMonitor ops;
  const auto t0 = OpsMonitor::Clock::now();
  for (int i = 0; i < 50; ++i) ops.on_record(record_at(i), nullptr, engine::Outcome::applied(), t0);
  auto figures = ops.snapshot("0:50", t0);
  EXPECT_EQ(figures["position"], "0:50");
  EXPECT_DOUBLE_EQ(figures["events_per_second"].get<double>(), 5.0);  // 50 over 10 s
  EXPECT_EQ(figures["handled"]["applied"], 50);
  figures = ops.snapshot("0:50", t0 + seconds(11));
  EXPECT_DOUBLE_EQ(figures["events_per_second"].get<double>(), 0.0);
  EXPECT_EQ(figures["handled"]["applied"], 50);  // counts stay
}

TEST(OpsMonitorTest, P99IsTheNearestRankOverTheWindowsRequests) {
  OpsMonitor ops;
  const auto t0 = OpsMonitor::Clock::now();
  EXPECT_TRUE(ops.snapshot("", t0)["http"]["p99_ms"].is_null());
  // 200 requests of 1..200 ms: the nearest-rank p99 is the 198th, 198 ms.
  for (int i = 1; i <= 200; ++i) ops.on_request(i / 1000.0, t0);
  auto http = ops.snapshot("", t0 + milliseconds(500))["http"];
  EXPECT_NEAR(http["p99_ms"].get<double>(), 198.0, 1e-9);
  EXPECT_EQ(http["requests_in_window"], 200);
  EXPECT_DOUBLE_EQ(http["requests_per_second"].get<double>(), 20.0);
  // A slow request 11 s later: the window holds it alone.
  ops.on_request(2.5, t0 + seconds(11));
  http = ops.snapshot("", t0 + seconds(11))["http"];
  EXPECT_EQ(http["requests_in_window"], 1);
  EXPECT_NEAR(http["p99_ms"].get<double>(), 2500.0, 1e-9);
}

TEST(OpsMonitorTest, KeepsTheTwentyLatestRejectionsNewestFirstAndCountsEveryReason) {
  OpsMonitor ops;
  events::Event refund;
  refund.event_id = "ev-x";
  refund.case_id = "case-a";
  refund.body = events::RefundIssued{};
  for (int i = 0; i < 25; ++i) {
    ops.on_record(record_at(i), &refund,
                  engine::Outcome::rejected(engine::RejectReason::kUnknownDonation));
  }
  ops.on_record(record_at(25), nullptr,
                engine::Outcome::rejected(engine::RejectReason::kMalformed));
  ops.on_record(record_at(26), &refund, engine::Outcome::duplicate());
  const auto figures = ops.snapshot("0:27");
  EXPECT_EQ(figures["handled"]["rejected"], 26);
  EXPECT_EQ(figures["handled"]["duplicate"], 1);
  EXPECT_EQ(figures["rejections"]["unknown_donation"], 25);
  EXPECT_EQ(figures["rejections"]["malformed"], 1);
  EXPECT_EQ(figures["rejections"].size(), engine::kRejectReasonCount);
  const auto& latest = figures["latest_rejections"];
  ASSERT_EQ(latest.size(), 20u);
  EXPECT_EQ(latest[0]["position"], "0:25");
  EXPECT_EQ(latest[0]["case_id"], "");  // a malformed record reveals nothing
  EXPECT_EQ(latest[0]["reason"], "malformed");
  EXPECT_EQ(latest[1]["position"], "0:24");
  EXPECT_EQ(latest[1]["event_id"], "ev-x");
  EXPECT_EQ(latest[1]["type"], "RefundIssued");
  EXPECT_EQ(latest[19]["position"], "0:6");
  EXPECT_TRUE(figures["audit"].is_null());  // no --audit-dir
}

TEST(OpsMonitorTest, LagIsPerPartitionWithSecondsSinceItWasCaughtUp) {
  OpsMonitor ops;
  const auto t0 = OpsMonitor::Clock::now();
  engine::Checkpoints at;
  at[Partition(0)].next_offset = Offset(10);
  at[Partition(1)].next_offset = Offset(4);
  const engine::OffsetMap ends{{Partition(0), Offset(10)}, {Partition(1), Offset(4)}};
  ops.on_round(at, ends, t0);  // both caught up at t0
  const engine::OffsetMap later{
      {Partition(0), Offset(10)}, {Partition(1), Offset(9)}, {Partition(2), Offset(3)}};
  ops.on_round(at, later, t0 + seconds(2));
  const auto lag = ops.snapshot("", t0 + seconds(5))["lag"];
  ASSERT_EQ(lag.size(), 3u);
  EXPECT_EQ(lag[0]["events"], 0);
  EXPECT_DOUBLE_EQ(lag[0]["seconds"].get<double>(), 0.0);
  EXPECT_EQ(lag[1]["events"], 5);
  EXPECT_NEAR(lag[1]["seconds"].get<double>(), 5.0, 1e-6);  // caught up last at t0
  EXPECT_EQ(lag[2]["partition"], 2);
  EXPECT_EQ(lag[2]["events"], 3);  // first seen behind: counted from then
  EXPECT_NEAR(lag[2]["seconds"].get<double>(), 3.0, 1e-6);
}

}  // namespace
}  // namespace homeward
