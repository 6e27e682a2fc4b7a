// `homeward audit` through the command line, in-process: exit 0 on a clean
// ledger, 4 after the log was edited, 1 when the audit cannot run.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/cli/cli.h"
#include "tests/audit/audit_test_support.h"
#include "tests/support/cli_runner.h"
#include "tests/support/file_damage.h"

namespace homeward::testing {
namespace {

constexpr const char* kScenario =
    R"({"type":"CaseOpened","event_id":"e1","occurred_at":"2015-06-01T08:00:00Z","case_id":"case-xf","currency":"USD","budget":[{"category":"repatriation","amount":"400.00"},{"category":"livelihood","amount":"1100.00"}]}
{"type":"DonationReceived","event_id":"e2","occurred_at":"2015-06-02T09:30:00Z","case_id":"case-xf","donor_ref":"d-17","amount":"25.00","currency":"USD"}
{"type":"RefundIssued","event_id":"e3","occurred_at":"2015-06-03T10:00:00Z","case_id":"case-xf","donation_id":"e2","amount":"5","currency":"USD","reason":"donor_request"}
{"type":"DonationReceived","event_id":"e4","occurred_at":"2015-06-04T09:30:00Z","case_id":"case-xf","donor_ref":"d-18","amount":"1500.00","currency":"USD"}
{"type":"FundsDisbursed","event_id":"e5","occurred_at":"2015-06-05T09:30:00Z","case_id":"case-xf","category":"repatriation","amount":"400.00","currency":"USD"}
{"type":"RefundIssued","event_id":"e6","occurred_at":"2015-06-06T10:00:00Z","case_id":"case-xf","donation_id":"nope","amount":"5","currency":"USD","reason":"donor_request"}
)";

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() / "events.ndjson") << kScenario;
    CliRun published = run_homeward({"--data", data(), "publish", file("events.ndjson")});
    ASSERT_EQ(published.code, 0) << published.err;
    CliRun projected = run_homeward({"--data", data(), "project"});
    ASSERT_EQ(projected.code, 0) << projected.err;
  }
  std::string data() const { return (dir_.path() / "data").string(); }
  std::string file(const std::string& name) const { return (dir_.path() / name).string(); }

  TempDir dir_;
};

TEST_F(AuditCliTest, CleanLedgerExitsZeroAndWritesReportJson) {
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("out")});
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("audit passed"), std::string::npos) << run.out;
  std::ifstream in(dir_.path() / "out" / "report.json");
  ASSERT_TRUE(in.good());
  const auto report = nlohmann::ordered_json::parse(in);
  EXPECT_EQ(report["result"], "pass");
  EXPECT_EQ(report["events_read"], 6);
  EXPECT_EQ(report["checks"]["event_totals"]["by_currency"]["USD"]["net"]["events"], "1520.00");
  EXPECT_EQ(report["impact"]["by_currency"]["USD"]["net"], "1520.00");
}

TEST_F(AuditCliTest, ACleanLedgerPassesTheChecksumsOfEveryFile) {
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("out"), "--json"});
  ASSERT_EQ(run.code, 0) << run.err;
  const auto report = nlohmann::ordered_json::parse(run.out);
  EXPECT_EQ(report["checks"]["checksums"]["status"], "passed");
  EXPECT_EQ(report["checks"]["checksums"]["log_files"], "verified");
  EXPECT_EQ(report["checks"]["checksums"]["live_store_files"], "verified");
}

// A byte flipped in a data block of a table file of the live store: the
// audit fails (exit 4) with a `checksums` finding that names the file, and
// does nothing else. (The log's files are verified the same way; a damaged
// block of the 6-event log is read by opening the log, which then fails
// naming the file, exit 1, before the audit starts.)
TEST_F(AuditCliTest, ADamagedBlockOfTheLiveStoreFailsTheChecksumsNamingTheFile) {
  for (const char* where : {"projections"}) {
    SCOPED_TRACE(where);
    const std::filesystem::path table = largest_table_file(dir_.path() / "data" / where);
    ASSERT_FALSE(table.empty()) << "no table file in " << where;
    flip_byte(table, 8);  // inside the first data block, which starts the file
    const std::string out = file(std::string("out-") + where);
    CliRun run = run_homeward({"--data", data(), "audit", "--out", out});
    EXPECT_EQ(run.code, 4) << run.out << run.err;
    EXPECT_NE(run.out.find("checksums       FAILED"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find(table.filename().string()), std::string::npos) << run.out;
    std::ifstream in(std::filesystem::path(out) / "report.json");
    ASSERT_TRUE(in.good());
    const auto report = nlohmann::ordered_json::parse(in);
    EXPECT_EQ(report["result"], "fail");
    EXPECT_EQ(report["checks"]["checksums"]["status"], "failed");
    EXPECT_EQ(report["checks"]["checksums"]
                    [std::string(where) == "log" ? "log_files" : "live_store_files"],
              "damaged");
    ASSERT_FALSE(report["findings"].empty());
    EXPECT_EQ(report["findings"][0]["check"], "checksums");
    EXPECT_NE(report["findings"][0]["message"].get<std::string>().find(table.filename().string()),
              std::string::npos)
        << report["findings"][0];
    flip_byte(table, 8);  // mended, so that the log's turn finds the log's damage only
  }
}

TEST_F(AuditCliTest, JsonPrintsTheReportAndVerifyAgainstPasses) {
  CliRun first = run_homeward({"--data", data(), "audit", "--out", file("a"), "--json"});
  ASSERT_EQ(first.code, 0) << first.err;
  const auto report = nlohmann::ordered_json::parse(first.out);
  EXPECT_EQ(report["partitions"][0]["next_offset"], 6);
  CliRun second = run_homeward(
      {"--data", data(), "audit", "--out", file("b"), "--verify-against", file("a/report.json")});
  EXPECT_EQ(second.code, 0) << second.out << second.err;
}

TEST_F(AuditCliTest, EditedLogExitsFourAndNamesTheOffset) {
  tamper_log(dir_.path() / "data" / "log", [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle*) {
    std::string value;
    ASSERT_TRUE(db.Get(rocksdb::ReadOptions(), offset_key(3), &value).ok());
    auto event = events::decode_event(value);
    ASSERT_TRUE(event.has_value());
    std::get<events::DonationReceived>(event->body).amount = MinorUnits(15000);
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), offset_key(3), events::encode_event(*event)).ok());
  });
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("out")});
  EXPECT_EQ(run.code, 4) << run.out << run.err;
  EXPECT_NE(run.out.find("[chain] partition 0 offset 3:"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("case case-xf: summary differs (status: live funded, replay open; "
                         "received: live 1525.00, replay 175.00;"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("[comparison] partition 0 offset 3: live store: case case-xf: history "
                         "event 3 (partition 0 offset 3) differs (DonationReceived e4: amount: "
                         "live \"1500.00\", replay \"150.00\")"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("audit FAILED"), std::string::npos) << run.out;
}

TEST_F(AuditCliTest, MissingLogExitsOne) {
  CliRun run = run_homeward({"--data", file("nowhere"), "audit", "--out", file("out")});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("no ledger"), std::string::npos) << run.err;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(AuditCliTest, AnAuditIntoANonEmptyDirectoryIsRefusedAndTouchesNothing) {
  std::filesystem::create_directories(dir_.path() / "out");
  std::ofstream(dir_.path() / "out" / "notes.txt") << "the auditor's notes\n";
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("out")});
  EXPECT_EQ(run.code, 1) << run.out << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find("is not empty: an audit never overwrites earlier evidence"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(read_file(dir_.path() / "out" / "notes.txt"), "the auditor's notes\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "out" / "report.json"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "out" / "replay-store"));
  // A second audit into the directory of the first is refused the same way.
  ASSERT_EQ(run_homeward({"--data", data(), "audit", "--out", file("first")}).code, 0);
  const std::string first = read_file(dir_.path() / "first" / "report.json");
  run = run_homeward({"--data", data(), "audit", "--out", file("first")});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(read_file(dir_.path() / "first" / "report.json"), first);
  // A file is not a directory to write into.
  run = run_homeward({"--data", data(), "audit", "--out", file("out/notes.txt")});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("is not a directory"), std::string::npos) << run.err;
}

TEST_F(AuditCliTest, AnAuditNeverOverwritesTheReportItVerifiesAgainst) {
  ASSERT_EQ(run_homeward({"--data", data(), "audit", "--out", file("a")}).code, 0);
  const std::string earlier = read_file(dir_.path() / "a" / "report.json");
  // Also when the directory is named another way than the report's.
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("a/../a"), "--verify-against",
                             file("a/report.json")});
  EXPECT_EQ(run.code, 1) << run.out;
  EXPECT_NE(run.err.find("holds the earlier report given to --verify-against"), std::string::npos)
      << run.err;
  EXPECT_EQ(read_file(dir_.path() / "a" / "report.json"), earlier);
}

TEST_F(AuditCliTest, AnEmptyExistingDirectoryIsUsed) {
  std::filesystem::create_directories(dir_.path() / "empty");
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("empty")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "empty" / "report.json"));
}

TEST_F(AuditCliTest, TheSummaryNeverClaimsACheckThatWasNotDone) {
  // A data directory with a log and no projections.
  const std::string bare = file("bare");
  ASSERT_EQ(run_homeward({"--data", bare, "publish", file("events.ndjson")}).code, 0);
  CliRun run = run_homeward({"--data", bare, "audit", "--out", file("out")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("  comparison      skipped: no live projections\n"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  chain           skipped: no live projections\n"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  verify_against  not performed\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  invariants      passed\n"), std::string::npos) << run.out;
  std::ifstream in(dir_.path() / "out" / "report.json");
  const auto report = nlohmann::ordered_json::parse(in);
  EXPECT_EQ(report["homeward_audit_report"], 2);
  EXPECT_EQ(report["checks"]["comparison"]["status"], "skipped: no live projections");
  EXPECT_TRUE(report["checks"]["comparison"]["passed"].is_null());
  EXPECT_TRUE(report["checks"]["chain"]["passed"].is_null());
  EXPECT_EQ(report["checks"]["verify_against"]["status"], "not performed");
  EXPECT_TRUE(report["checks"]["verify_against"]["passed"].is_null());
  EXPECT_EQ(report["checks"]["log"]["status"], "passed");
  EXPECT_EQ(report["checks"]["log"]["passed"], true);
  EXPECT_EQ(report["result"], "pass");  // nothing that was checked failed
}

TEST_F(AuditCliTest, TheSummarySaysHowFarTheLiveStoreIsBehindTheLog) {
  // Two more events after the projections were last brought up to date.
  std::ofstream(dir_.path() / "more.ndjson")
      << R"({"type":"DonationReceived","event_id":"e7","occurred_at":"2015-06-07T09:30:00Z","case_id":"case-xf","donor_ref":"d-19","amount":"10.00","currency":"USD"})"
         "\n"
         R"({"type":"DonationReceived","event_id":"e8","occurred_at":"2015-06-08T09:30:00Z","case_id":"case-xf","donor_ref":"d-20","amount":"10.00","currency":"USD"})"
         "\n";
  ASSERT_EQ(run_homeward({"--data", data(), "publish", file("more.ndjson")}).code, 0);
  CliRun run = run_homeward({"--data", data(), "audit", "--out", file("out")});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("  comparison      passed (live store 2 records behind the log: "
                         "compared at its positions)\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  chain           passed\n"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace homeward::testing
