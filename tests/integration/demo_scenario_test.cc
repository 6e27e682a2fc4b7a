// The demo scenario demo/pilot.ndjson, published and projected through the
// real engine (embedded log, publisher, projector, RocksDB projection store),
// must reproduce the IOM 6Degree pilot's published figures exactly: 58
// donations from 40 donors, US$3,819 raised, one case (goal US$1,500) fully
// funded five days after it opened. The expected figures are listed in
// demo/README.md.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/embedded_log/embedded_log.h"
#include "engine/case_ledger.h"
#include "engine/impact.h"
#include "engine/projector.h"
#include "engine/publisher.h"
#include "engine/rules.h"
#include "events/money.h"
#include "projections/json_output.h"
#include "projections/rocksdb_store.h"
#include "tests/support/temp_dir.h"

#ifndef HOMEWARD_DEMO_PILOT_FILE
#error "HOMEWARD_DEMO_PILOT_FILE must name demo/pilot.ndjson"
#endif

namespace homeward {
namespace {

using engine::RejectReason;
using events::Category;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kFiveDaysSeconds = 5 * 24 * 60 * 60;  // 432000
constexpr int64_t kPilotLines = 77;

std::string usd(MinorUnits amount) { return events::format_amount(amount, 2); }
std::string usd(events::WideMinorUnits amount) { return events::format_amount(amount, 2); }

int64_t rejected(const engine::ProjectionTotals& totals, RejectReason reason) {
  return totals.rejected_by_reason[static_cast<size_t>(reason)];
}

class DemoScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream input(HOMEWARD_DEMO_PILOT_FILE);
    ASSERT_TRUE(input) << "cannot read " << HOMEWARD_DEMO_PILOT_FILE;

    auto log = connectors::EmbeddedLog::open(dir_.path() / "log");
    ASSERT_TRUE(log.has_value()) << log.error().message;
    log_ = std::move(*log);
    engine::Publisher publisher(*log_);
    auto report = publisher.publish_ndjson(input);
    ASSERT_TRUE(report.has_value()) << report.error().message;
    publish_ = std::move(*report);

    auto store = projections::RocksProjectionStore::open(dir_.path() / "projections");
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    engine::Projector projector(*log_, *store_);
    auto caught_up = projector.catch_up();
    ASSERT_TRUE(caught_up.has_value()) << caught_up.error().message;
    ASSERT_EQ(caught_up->events_read, kPilotLines);

    auto impact = store_->impact_report();
    ASSERT_TRUE(impact.has_value()) << impact.error().message;
    impact_ = std::move(*impact);
  }

  engine::CaseSummary find_case(std::string_view case_id) {
    auto found = store_->find_case(case_id);
    EXPECT_TRUE(found.has_value()) << found.error().message;
    if (!found.has_value() || !found->has_value()) {
      ADD_FAILURE() << "case " << case_id << " is missing";
      return {};
    }
    return **found;
  }

  testing::TempDir dir_;
  std::unique_ptr<connectors::EmbeddedLog> log_;
  std::unique_ptr<projections::RocksProjectionStore> store_;
  engine::PublishReport publish_;
  engine::ImpactReport impact_;
};

TEST_F(DemoScenarioTest, EveryLinePassesStageOne) {
  EXPECT_EQ(publish_.lines_read, kPilotLines);
  EXPECT_EQ(publish_.appended, kPilotLines);
  EXPECT_TRUE(publish_.refused.empty())
      << publish_.refused.front().line << ": " << publish_.refused.front().field << ": "
      << publish_.refused.front().reason;
  EXPECT_TRUE(publish_.failed.empty());
}

TEST_F(DemoScenarioTest, ReproducesThePilotsPublishedFigures) {
  EXPECT_EQ(impact_.donations, 58);
  EXPECT_EQ(impact_.donors, 40);
  ASSERT_EQ(impact_.by_currency.size(), 1u);
  ASSERT_TRUE(impact_.by_currency.contains("USD"));
  EXPECT_EQ(usd(impact_.by_currency.at("USD").received), "3819.00");
  EXPECT_EQ(impact_.cases_ever_fully_funded, 1);
  ASSERT_TRUE(impact_.median_seconds_to_fully_funded.has_value());
  EXPECT_EQ(*impact_.median_seconds_to_fully_funded, kFiveDaysSeconds);
  EXPECT_EQ(rejected(impact_.events, RejectReason::kMalformed), 0);
}

TEST_F(DemoScenarioTest, StatsJsonShowsThePilotsFigures) {
  const nlohmann::ordered_json stats = projections::impact_json(impact_);
  EXPECT_EQ(stats["donations"], 58);
  EXPECT_EQ(stats["donors"], 40);
  EXPECT_EQ(stats["by_currency"]["USD"]["received"], "3819.00");
  EXPECT_EQ(stats["cases"]["ever_fully_funded"], 1);
  EXPECT_EQ(stats["median_seconds_to_fully_funded"], kFiveDaysSeconds);
}

TEST_F(DemoScenarioTest, OtherUsdFiguresMatchTheReadme) {
  const engine::CurrencyTotals& totals = impact_.by_currency.at("USD");
  EXPECT_EQ(usd(totals.refunded), "120.00");
  EXPECT_EQ(usd(totals.net), "3699.00");
  EXPECT_EQ(usd(totals.pledged), "75.00");
  EXPECT_EQ(usd(totals.disbursed), "1300.00");
  EXPECT_EQ(usd(totals.surplus), "0.00");
  EXPECT_EQ(impact_.refunds, 2);
  EXPECT_EQ(impact_.cases_total, 4);
  EXPECT_EQ(impact_.cases_funded, 1);
  EXPECT_EQ(impact_.cases_open, 3);
  EXPECT_EQ(impact_.cases_closed, 0);
}

TEST_F(DemoScenarioTest, TheFundedCaseReachedItsGoalFiveDaysAfterOpening) {
  const engine::CaseSummary funded = find_case("case-2015-001");
  EXPECT_EQ(usd(funded.goal), "1500.00");
  EXPECT_EQ(usd(funded.received), "1500.00");
  EXPECT_EQ(funded.donations, 20);
  EXPECT_EQ(funded.status(), engine::CaseStatus::kFunded);
  ASSERT_TRUE(funded.fully_funded_at.has_value());
  EXPECT_EQ(funded.fully_funded_at->value() - funded.opened_at.value(),
            kFiveDaysSeconds * kMicrosPerSecond);
  // The budget: shelter, repatriation and education (vocational training).
  EXPECT_TRUE(funded.has_budget);
  EXPECT_EQ(usd(funded.planned[static_cast<size_t>(Category::kShelter)]), "600.00");
  EXPECT_EQ(usd(funded.planned[static_cast<size_t>(Category::kRepatriation)]), "400.00");
  EXPECT_EQ(usd(funded.planned[static_cast<size_t>(Category::kEducation)]), "500.00");
  EXPECT_EQ(usd(funded.disbursed), "700.00");
}

TEST_F(DemoScenarioTest, NoOtherCaseWasEverFullyFunded) {
  for (const char* case_id : {"case-2015-002", "case-2015-003", "case-2015-004"}) {
    const engine::CaseSummary summary = find_case(case_id);
    EXPECT_FALSE(summary.fully_funded_at.has_value()) << case_id;
    EXPECT_LT(summary.net().value(), summary.goal.value()) << case_id;
    EXPECT_EQ(summary.status(), engine::CaseStatus::kOpen) << case_id;
  }
  // The officer raised case 3's goal from 800.00 to 1,100.00.
  EXPECT_EQ(usd(find_case("case-2015-003").goal), "1100.00");
}

TEST_F(DemoScenarioTest, AuditTrailShowsTheRetryAndTheTwoRejections) {
  EXPECT_EQ(impact_.events.applied, 74);
  EXPECT_EQ(impact_.events.duplicates, 1);
  EXPECT_EQ(impact_.events.rejected, 2);
  EXPECT_EQ(rejected(impact_.events, RejectReason::kRefundExceedsDonation), 1);
  EXPECT_EQ(rejected(impact_.events, RejectReason::kInsufficientFunds), 1);

  auto rejections = store_->list_rejections();
  ASSERT_TRUE(rejections.has_value()) << rejections.error().message;
  ASSERT_EQ(rejections->size(), 2u);
  EXPECT_EQ((*rejections)[0].case_id, "case-2015-002");
  EXPECT_EQ((*rejections)[0].event_id, "pilot-0028");
  EXPECT_EQ((*rejections)[0].reason, RejectReason::kRefundExceedsDonation);
  EXPECT_EQ((*rejections)[1].case_id, "case-2015-004");
  EXPECT_EQ((*rejections)[1].event_id, "pilot-0076");
  EXPECT_EQ((*rejections)[1].reason, RejectReason::kInsufficientFunds);

  EXPECT_EQ(find_case("case-2015-003").duplicates, 1);
}

}  // namespace
}  // namespace homeward
