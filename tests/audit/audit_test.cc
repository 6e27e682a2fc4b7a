// The audit on an untampered ledger, on a deliberately corrupted live store,
// on a live store behind the log, and --verify-against.
#include <rocksdb/db.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "projections/audit/invariants.h"
#include "projections/record_codec.h"
#include "tests/audit/audit_test_support.h"
#include "tests/support/raw_store.h"

namespace homeward::testing {
namespace {

using audit::Check;

// Puts `value` at `key` in a closed projection store, through RocksDB.
void put_into_store(const std::filesystem::path& dir, const std::string& key,
                    const std::string& value) {
  RawStore(dir).put(key, value);
}

std::string get_from_store(const std::filesystem::path& dir, const std::string& key) {
  return RawStore(dir).get(key).value_or("");
}

// The invariant findings of the live store.
audit::Findings live_invariant_findings(LedgerDir& ledger) {
  audit::Findings findings;
  audit::InvariantContext context;
  context.store_name = "live";
  auto checked = audit::check_invariants(ledger.live(), context, findings);
  EXPECT_TRUE(checked.has_value()) << checked.error().message;
  return findings;
}

TEST(AuditTest, ProgressNamesEveryStepAndCountsTheReplay) {
  LedgerDir ledger;
  const std::vector<AppendRequest> records = rich_log_records();
  ledger.append(records);
  ledger.project();
  audit::AuditOptions options;
  options.out_dir = ledger.path() / "audit";
  options.batch_events_max = 50;  // several batches
  options.write_more_reports = [](const std::filesystem::path&, const RocksProjectionStore&,
                                  const nlohmann::ordered_json&) { return Status(); };
  std::vector<audit::AuditProgress> seen;
  options.on_progress = [&seen](const audit::AuditProgress& p) { seen.push_back(p); };
  auto result = audit::run_audit(ledger.log(), &ledger.live(), options);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const auto total = static_cast<int64_t>(records.size());
  std::vector<audit::AuditPhase> phases;
  int64_t last_read = 0;
  for (const audit::AuditProgress& p : seen) {
    EXPECT_EQ(p.records_total, total);
    EXPECT_GE(p.records_read, last_read) << "the count never goes back";
    last_read = p.records_read;
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  }
  EXPECT_EQ(last_read, total);
  EXPECT_EQ(phases, (std::vector<audit::AuditPhase>{
                        audit::AuditPhase::kReplaying, audit::AuditPhase::kComparing,
                        audit::AuditPhase::kCheckingInvariants, audit::AuditPhase::kComputingDigest,
                        audit::AuditPhase::kWritingReports}));
  EXPECT_GT(std::count_if(seen.begin(), seen.end(),
                          [](const audit::AuditProgress& p) {
                            return p.phase == audit::AuditPhase::kReplaying;
                          }),
            1)
      << "the replay reports as it goes, not once";
}

TEST(AuditTest, CleanLedgerPassesEveryCheck) {
  LedgerDir ledger;
  const std::vector<AppendRequest> records = rich_log_records();
  ledger.append(records);
  ledger.project();

  auto result = ledger.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_TRUE(result->passed()) << all_findings(result->findings);
  const auto& report = result->report;
  EXPECT_EQ(report["result"], "pass");
  EXPECT_EQ(report["exit_code"], 0);
  EXPECT_EQ(report["events_read"].get<int64_t>(), static_cast<int64_t>(records.size()));
  ASSERT_EQ(report["partitions"].size(), 1u);
  EXPECT_EQ(report["partitions"][0]["next_offset"].get<int64_t>(),
            static_cast<int64_t>(records.size()));
  EXPECT_EQ(report["state_digest"]["value"].get<std::string>().size(), 64u);
  EXPECT_EQ(report["checks"]["comparison"]["performed"], true);
  EXPECT_EQ(report["checks"]["comparison"]["differences"], 0);
  EXPECT_EQ(report["checks"]["comparison"]["live_store"], "up_to_date");
  EXPECT_EQ(report["checks"]["chain"]["records_compared"].get<int64_t>(),
            static_cast<int64_t>(records.size()));
  // The live store's chain head is the replay's.
  EXPECT_EQ(report["checks"]["comparison"]["chain_heads"][0]["live"],
            report["checks"]["comparison"]["chain_heads"][0]["replay"]);
  // The impact figures are the live store's.
  auto live_impact = ledger.live().impact_report();
  ASSERT_TRUE(live_impact.has_value());
  EXPECT_EQ(report["impact"], projections::impact_json(*live_impact));
  // Totals add up: applied + duplicates + rejected = events read.
  const auto& totals = report["checks"]["event_totals"];
  EXPECT_EQ(totals["applied"].get<int64_t>() + totals["duplicates"].get<int64_t>() +
                totals["rejected"].get<int64_t>(),
            static_cast<int64_t>(records.size()));
  EXPECT_GT(totals["rejected"].get<int64_t>(), 0);
  // report.json on disk is the same document, and the replay store is gone.
  std::ifstream in(result->report_path);
  EXPECT_EQ(nlohmann::ordered_json::parse(in), report);
  EXPECT_FALSE(std::filesystem::exists(ledger.path() / "audit" / "replay-store"));
}

TEST(AuditTest, PerCurrencySumsOverEventsMatchTheCases) {
  LedgerDir ledger;
  ledger.append(rich_log_records());
  ledger.project();
  auto result = ledger.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const auto& by_currency = result->report["checks"]["event_totals"]["by_currency"];
  // The rich stream has USD, JPY and EUR cases.
  ASSERT_TRUE(by_currency.contains("USD"));
  ASSERT_TRUE(by_currency.contains("JPY"));
  ASSERT_TRUE(by_currency.contains("EUR"));
  for (const auto& [code, figures] : by_currency.items()) {
    for (const auto& [name, pair] : figures.items()) {
      EXPECT_EQ(pair["cases"], pair["events"]) << code << " " << name;
    }
  }
  EXPECT_EQ(by_currency["USD"]["received"]["cases"],
            result->report["impact"]["by_currency"]["USD"]["received"]);
}

TEST(AuditTest, ChangedReceivedInTheLiveStoreBreaksInvariantsAndComparisonNamingTheCase) {
  LedgerDir ledger;
  ledger.append(rich_log_records());
  ledger.project();
  ledger.close();
  const std::filesystem::path store_dir = ledger.path() / "projections";
  const std::string key = projections::case_key("case-2");
  auto summary = projections::decode_summary(get_from_store(store_dir, key));
  ASSERT_TRUE(summary.has_value()) << summary.error().message;
  const int64_t received = summary->received.value();
  summary->received = MinorUnits(received + 1900);
  put_into_store(store_dir, key, projections::encode_summary(*summary));
  ledger.open();

  const audit::Findings findings = live_invariant_findings(ledger);
  ASSERT_EQ(findings.size(), 1u) << all_findings(findings);
  EXPECT_EQ(findings[0].case_id, "case-2");
  EXPECT_EQ(findings[0].store, "live");
  EXPECT_NE(findings[0].message.find("its stored summary is not what folding its stored history "
                                     "gives (received: stored "),
            std::string::npos)
      << findings[0].message;

  auto result = ledger.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_FALSE(result->passed());
  EXPECT_EQ(result->report["exit_code"], audit::kExitAuditFailed);
  const audit::Finding* invariant = find_check(result->findings, Check::kInvariants);
  ASSERT_NE(invariant, nullptr) << all_findings(result->findings);
  EXPECT_EQ(invariant->case_id, "case-2");
  const audit::Finding* difference = find_check(result->findings, Check::kComparison);
  ASSERT_NE(difference, nullptr) << all_findings(result->findings);
  EXPECT_EQ(difference->case_id, "case-2");
  // Amounts in the case's currency (case-2 is USD: variant 2).
  EXPECT_NE(difference->message.find(
                fmt::format("case case-2: summary differs (received: live {}, replay {}",
                            events::format_amount(MinorUnits(received + 1900), 2),
                            events::format_amount(MinorUnits(received), 2))),
            std::string::npos)
      << difference->message;
  // The replay itself is clean: no finding is about the replay store.
  for (const audit::Finding& finding : result->findings) EXPECT_NE(finding.store, "replay");
}

TEST(AuditTest, ADonorCountThatIsNotTheNumberOfDonorKeysBreaksInvariants) {
  LedgerDir ledger;
  ledger.append(rich_log_records());
  ledger.project();
  ledger.close();
  const std::filesystem::path store_dir = ledger.path() / "projections";
  auto count = projections::decode_donor_count(
      get_from_store(store_dir, std::string(projections::kDonorCountKey)));
  ASSERT_TRUE(count.has_value()) << count.error().message;
  put_into_store(store_dir, std::string(projections::kDonorCountKey),
                 projections::encode_donor_count(*count + 1));
  ledger.open();

  const audit::Findings findings = live_invariant_findings(ledger);
  ASSERT_EQ(findings.size(), 1u) << all_findings(findings);
  EXPECT_EQ(findings[0].message, fmt::format("the donor count is {} but the store holds {} donor "
                                             "keys",
                                             *count + 1, *count));
}

TEST(AuditTest, MissingRejectionInTheLiveStoreIsNamedByPosition) {
  LedgerDir ledger;
  ledger.append(rich_log_records());
  ledger.project();
  auto rejections = ledger.live().list_rejections();
  ASSERT_TRUE(rejections.has_value());
  ASSERT_FALSE(rejections->empty());
  const engine::RejectionRecord victim = rejections->back();
  ledger.close();
  RawStore(ledger.path() / "projections")
      .remove(projections::rejection_key(victim.case_id, victim.partition, victim.offset));
  ledger.open();
  auto result = ledger.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const audit::Finding* difference = find_check(result->findings, Check::kComparison);
  ASSERT_NE(difference, nullptr) << all_findings(result->findings);
  EXPECT_EQ(difference->message,
            fmt::format("case {}: rejection at partition 0 offset {} is missing in the live store",
                        victim.case_id, victim.offset.value()));
  EXPECT_EQ(difference->offset, victim.offset);
}

TEST(AuditTest, LiveStoreBehindTheLogIsComparedAtItsOwnPositions) {
  LedgerDir ledger;
  const std::vector<AppendRequest> records = rich_log_records();
  const size_t half = records.size() / 2;
  ledger.append({records.begin(), records.begin() + static_cast<std::ptrdiff_t>(half)});
  ledger.project();
  ledger.append({records.begin() + static_cast<std::ptrdiff_t>(half), records.end()});

  auto result = ledger.run("audit");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_TRUE(result->passed()) << all_findings(result->findings);
  const auto& comparison = result->report["checks"]["comparison"];
  EXPECT_EQ(comparison["live_store"], "behind");
  EXPECT_EQ(comparison["live_lag_records"].get<int64_t>(),
            static_cast<int64_t>(records.size() - half));
  EXPECT_EQ(comparison["performed"], true);
  EXPECT_EQ(comparison["compared_at"][0]["next_offset"].get<int64_t>(), static_cast<int64_t>(half));
  // The replay still went on to the end of the log.
  EXPECT_EQ(result->report["events_read"].get<int64_t>(), static_cast<int64_t>(records.size()));
}

TEST(AuditTest, VerifyAgainstPassesAfterAppendsAndFailsAfterAnEdit) {
  LedgerDir ledger;
  const std::vector<AppendRequest> records = rich_log_records();
  const size_t first = records.size() - 40;
  ledger.append({records.begin(), records.begin() + static_cast<std::ptrdiff_t>(first)});
  ledger.project();
  auto earlier = ledger.run("first");
  ASSERT_TRUE(earlier.has_value()) << earlier.error().message;
  ASSERT_TRUE(earlier->passed()) << all_findings(earlier->findings);

  ledger.append({records.begin() + static_cast<std::ptrdiff_t>(first), records.end()});
  ledger.project();
  auto later = ledger.run("second", earlier->report_path);
  ASSERT_TRUE(later.has_value()) << later.error().message;
  EXPECT_TRUE(later->passed()) << all_findings(later->findings);
  EXPECT_EQ(later->report["checks"]["verify_against"]["performed"], true);
  EXPECT_EQ(later->report["checks"]["verify_against"]["partitions"][0]["today"],
            earlier->report["partitions"][0]["chain_head"]);

  // An edit of one record before the earlier audit's position.
  ledger.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle*) {
    std::string value;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), offset_key(30), &value).ok());
    value.back() = static_cast<char>(value.back() ^ 0x01);
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), offset_key(30), value).ok());
  });
  auto edited = ledger.run("third", earlier->report_path, /*with_live=*/false);
  ASSERT_TRUE(edited.has_value()) << edited.error().message;
  EXPECT_FALSE(edited->passed());
  const audit::Finding* changed = find_check(edited->findings, Check::kVerifyAgainst);
  ASSERT_NE(changed, nullptr) << all_findings(edited->findings);
  EXPECT_EQ(changed->partition, Partition(0));
  const auto& range =
      edited->report["checks"]["verify_against"]["partitions"][0]["changed_between"];
  EXPECT_LE(range[0].get<int64_t>(), 30);
  EXPECT_GE(range[1].get<int64_t>(), 30);
}

TEST(AuditTest, VerifyAgainstNamesTheWindowOfTheFirstChangeInALongLog) {
  LedgerDir ledger;
  std::vector<AppendRequest> records;
  records.push_back(request_for(opened("open", 1'000'000)));
  for (int i = 0; i < 2500; ++i) {
    // Ids built with fmt: GCC 12 warns falsely on string + to_string (GCC 105329).
    records.push_back(
        request_for(donation(fmt::format("d{}", i), fmt::format("donor-{}", i % 7), 100 + i)));
  }
  ledger.append(records);
  ledger.project(1000);
  auto earlier = ledger.run("first");
  ASSERT_TRUE(earlier.has_value()) << earlier.error().message;
  ASSERT_TRUE(earlier->passed()) << all_findings(earlier->findings);
  EXPECT_EQ(earlier->report["partitions"][0]["checkpoints"].size(), 2u);  // 1024 and 2048

  ledger.tamper([](rocksdb::DB& db, rocksdb::ColumnFamilyHandle*) {
    const events::Event replaced = donation("d1499", "donor-1", 999'999);
    ASSERT_TRUE(
        db.Put(rocksdb::WriteOptions(), offset_key(1500), events::encode_event(replaced)).ok());
  });
  auto edited = ledger.run("second", earlier->report_path);
  ASSERT_TRUE(edited.has_value()) << edited.error().message;
  const auto& range =
      edited->report["checks"]["verify_against"]["partitions"][0]["changed_between"];
  EXPECT_EQ(range[0].get<int64_t>(), 1024);
  EXPECT_EQ(range[1].get<int64_t>(), 2047);
  // The live store's chain index names the exact record.
  EXPECT_NE(find_at(edited->findings, Check::kChain, 1500), nullptr)
      << all_findings(edited->findings);
}

TEST(AuditTest, UnreadableEarlierReportIsAnOperationalError) {
  LedgerDir ledger;
  ledger.append(rich_log_records());
  {
    std::ofstream out(ledger.path() / "bad.json");
    out << "{\"partitions\": [{\"partition\": 0}]}";
  }
  auto result = ledger.run("audit", ledger.path() / "bad.json");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("not a homeward audit report"), std::string::npos);
}

}  // namespace
}  // namespace homeward::testing
