// `homeward audit`: prove, without trusting the running system, that the
// projections are what the log says and that the log was only appended to
// (docs/audit.md is the auditor's guide).
//
// run_audit replays the WHOLE log into a fresh store of its own (in
// out_dir/replay-store, removed afterwards) with a fresh Projector; nothing it
// reports is computed from the live projections, which are only compared
// with. Then it checks the invariants, the figures per currency against a
// second fold of the events, the live store record by record and its chain
// index record by record, an earlier report's chain heads, and computes the
// state digest; it writes out_dir/report.json. Every check that fails becomes
// a Finding that names the partition, offset and case.
//
// The caller owns the log reader and the live store; run_audit uses them from
// its own thread only and never writes to the live store. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/event_log.h"
#include "engine/projection_store.h"
#include "events/error.h"
#include "projections/audit/findings.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

// Exit codes of `homeward audit` beyond the CLI's own (0 ok, 1 error).
inline constexpr int kExitAuditFailed = 4;

// The version of report.json's layout. Version 2 gave every check a
// `status` and made `passed` null for a check that was not performed.
inline constexpr int kReportFormatVersion = 2;

// What the audit is doing, for a progress line: the replay reports as it
// reads; each later step once, as it starts.
enum class AuditPhase : uint8_t {
  kReplaying,
  kComparing,  // the live store, record by record, and its chain index
  kCheckingInvariants,
  kComputingDigest,
  kWritingReports,
};
struct AuditProgress {
  AuditPhase phase = AuditPhase::kReplaying;
  int64_t records_read = 0;   // by the replay so far
  int64_t records_total = 0;  // in the log when the audit began (its end offsets)
};

struct AuditOptions {
  // Must be new or empty: an audit never overwrites evidence, an earlier
  // audit's or anything else (kInvalidArgument before any work).
  std::filesystem::path out_dir;
  // An earlier report.json whose chain heads today's log must reproduce.
  std::optional<std::filesystem::path> verify_against;
  // For the report: "the embedded log in DIR/log", "Kafka topic T at B".
  std::string log_description;
  // The replay's smallest batch (batches grow with the cases held) and the
  // most records read one at a time to locate a fault in the log.
  size_t batch_events_max = 100'000;
  // Differences listed one by one (all are counted).
  int64_t max_listed_differences = 1'000;
  // Also write out_dir/state.txt, the canonical state the digest is over.
  bool write_canonical_state = false;
  // Keep out_dir/replay-store (for inspection) instead of deleting it.
  bool keep_replay_store = false;
  // Called after report.json is written, with the replayed store (the CSV
  // and HTML reports). Its error is an operational error of the audit.
  std::function<Status(const std::filesystem::path& out_dir, const RocksProjectionStore& replayed,
                       const nlohmann::ordered_json& report)>
      write_more_reports;
  // Checks the checksum of every block of every file of the log (the
  // `checksums` check with the live store's): kCorruption is a finding,
  // another error an operational one. Empty when the log has no files to
  // check here (Kafka): the check then covers the live store only.
  std::function<Status()> verify_log_checksums;
  // Progress, from the audit's own thread; may be empty.
  std::function<void(const AuditProgress&)> on_progress;
};

struct AuditResult {
  nlohmann::ordered_json report;
  Findings findings;
  std::filesystem::path report_path;
  [[nodiscard]] bool passed() const { return findings.empty(); }
};

// `live` may be null (no projections to compare with). An error means the
// audit could not be done (I/O, an unreadable earlier report, a store that
// cannot be opened); what the audit found is in the result.
[[nodiscard]] Result<AuditResult> run_audit(engine::EventLogReader& log, RocksProjectionStore* live,
                                            const AuditOptions& options);

// The chain heads of an earlier report.json, for --verify-against.
struct ReportedPartition {
  Partition partition;
  Offset next_offset;
  engine::ChainHead chain_head{};
  // Heads at multiples of kChainWindowRecords, in offset order.
  std::vector<std::pair<Offset, engine::ChainHead>> checkpoints;
};
[[nodiscard]] Result<std::vector<ReportedPartition>> read_reported_partitions(
    const std::filesystem::path& report_json);

}  // namespace homeward::projections::audit
