// The order of work in run_audit, and why:
//  1. Read the earlier report first: a bad --verify-against file should stop
//     the audit before an hour of replay.
//  2. Replay. When the live store is behind the log (events appended since it
//     last projected), the replay first stops at the live store's positions,
//     so that the two are compared at the same point, then goes on to the end.
//     When the live store is ahead of the log, the log lost records: that is
//     a finding, and the state is not compared.
//  3. Chain checks, invariants, per-currency sums, digest, report.
#include "projections/audit/audit.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>
#include <system_error>
#include <utility>

#include "engine/durable_file.h"
#include "events/money.h"
#include "events/timestamp.h"
#include "projections/audit/invariants.h"
#include "projections/audit/log_replay.h"
#include "projections/audit/state_digest.h"
#include "projections/audit/store_compare.h"
#include "projections/audit/store_keys.h"
#include "projections/json_output.h"

namespace homeward::projections::audit {
namespace {

using nlohmann::ordered_json;

std::string head_hex(const engine::ChainHead& head) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(head.data()), head.size()));
}

Result<engine::ChainHead> parse_head(const std::string& hex) {
  engine::ChainHead head{};
  if (hex.size() != head.size() * 2) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("chain head \"{}\" is not 64 hex digits", hex));
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < head.size(); ++i) {
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("chain head \"{}\" is not 64 hex digits", hex));
    }
    head[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return head;
}

std::string wide_amount(events::WideMinorUnits minor, uint8_t exponent) {
  return events::format_amount(minor, exponent);
}

std::string now_utc() {
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  // Whole seconds: the report's own time needs no microseconds.
  const int64_t micros = now.time_since_epoch().count();
  return events::format_timestamp(TimestampMicros(micros - micros % 1'000'000));
}

Finding make_finding(Check check, std::string message, std::optional<Partition> partition = {},
                     std::optional<Offset> offset = {}, std::string store = {}) {
  Finding finding;
  finding.check = check;
  finding.message = std::move(message);
  finding.partition = partition;
  finding.offset = offset;
  finding.store = std::move(store);
  return finding;
}

ordered_json positions_json(const engine::Checkpoints& checkpoints) {
  ordered_json list = ordered_json::array();
  for (const auto& [partition, checkpoint] : checkpoints) {
    list.push_back({{"partition", partition.value()},
                    {"next_offset", checkpoint.next_offset.value()},
                    {"chain_head", head_hex(checkpoint.chain_head)}});
  }
  return list;
}

ordered_json offsets_json(const engine::OffsetMap& offsets) {
  ordered_json list = ordered_json::array();
  for (const auto& [partition, offset] : offsets) {
    list.push_back({{"partition", partition.value()}, {"next_offset", offset.value()}});
  }
  return list;
}

// Offsets only: the chain heads of two checkpoint maps may differ.
bool same_positions(const engine::Checkpoints& a, const engine::Checkpoints& b) {
  auto nonzero = [](const engine::Checkpoints& c) {
    std::map<Partition, Offset> m;
    for (const auto& [p, cp] : c) {
      if (cp.next_offset.value() != 0) m.emplace(p, cp.next_offset);
    }
    return m;
  };
  return nonzero(a) == nonzero(b);
}

// An audit writes its evidence only into a new or empty directory, so that
// no earlier report (in particular the one given to --verify-against) and
// nothing else is ever overwritten.
Status check_out_dir(const AuditOptions& options) {
  const std::filesystem::path& dir = options.out_dir;
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot inspect {}: {}", dir.string(), ec.message()));
  }
  if (!std::filesystem::exists(status)) return {};
  if (!std::filesystem::is_directory(status)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("the audit directory {} exists and is not a directory; an audit "
                                  "writes only into a new or empty directory",
                                  dir.string()));
  }
  const bool empty = std::filesystem::is_empty(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot inspect {}: {}", dir.string(), ec.message()));
  }
  if (empty) return {};
  if (options.verify_against) {
    const std::filesystem::path parent = options.verify_against->parent_path().empty()
                                             ? std::filesystem::path(".")
                                             : options.verify_against->parent_path();
    if (std::filesystem::equivalent(parent, dir, ec)) {
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("the audit directory {} holds the earlier report given to "
                                    "--verify-against ({}): an audit never overwrites the evidence "
                                    "it checks against; choose a new or empty directory",
                                    dir.string(), options.verify_against->string()));
    }
  }
  return make_error(ErrorCode::kInvalidArgument,
                    fmt::format("the audit directory {} is not empty: an audit never overwrites "
                                "earlier evidence; choose a new or empty directory",
                                dir.string()));
}

// The replay's own store: opened fresh in out_dir/replay-store, deleted at
// the end unless kept.
class ReplayStore {
 public:
  static Result<ReplayStore> create(const std::filesystem::path& dir) {
    // A replay store left by an audit that crashed is ours to replace.
    if (auto destroyed = RocksProjectionStore::destroy(dir); !destroyed) {
      return std::unexpected(destroyed.error());
    }
    auto store = RocksProjectionStore::open(dir);
    if (!store) return std::unexpected(store.error());
    ReplayStore replay;
    replay.dir_ = dir;
    replay.store_ = std::move(*store);
    return replay;
  }
  RocksProjectionStore& store() { return *store_; }
  Status close_and_remove(bool keep) {
    store_.reset();
    if (keep) return {};
    return RocksProjectionStore::destroy(dir_);
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<RocksProjectionStore> store_;
};

}  // namespace

Result<std::vector<ReportedPartition>> read_reported_partitions(
    const std::filesystem::path& report_json) {
  std::ifstream in(report_json, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("cannot read the earlier report {}", report_json.string()));
  }
  const ordered_json report = ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](std::string_view why) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{} is not a homeward audit report: {}", report_json.string(), why));
  };
  if (report.is_discarded()) return bad("not JSON");
  if (!report.is_object() || !report.contains("partitions") || !report["partitions"].is_array()) {
    return bad("no \"partitions\" array");
  }
  std::vector<ReportedPartition> partitions;
  for (const ordered_json& entry : report["partitions"]) {
    if (!entry.is_object() || !entry.contains("partition") ||
        !entry["partition"].is_number_integer() || !entry.contains("next_offset") ||
        !entry["next_offset"].is_number_integer() || !entry.contains("chain_head") ||
        !entry["chain_head"].is_string()) {
      return bad("a partition entry lacks partition, next_offset or chain_head");
    }
    ReportedPartition partition;
    const int64_t number = entry["partition"].get<int64_t>();
    const int64_t next = entry["next_offset"].get<int64_t>();
    if (number < 0 || number > INT32_MAX || next < 0) return bad("a position is out of range");
    partition.partition = Partition(static_cast<int32_t>(number));
    partition.next_offset = Offset(next);
    auto head = parse_head(entry["chain_head"].get<std::string>());
    if (!head) return bad(head.error().message);
    partition.chain_head = *head;
    if (entry.contains("checkpoints")) {
      if (!entry["checkpoints"].is_array()) return bad("\"checkpoints\" is not an array");
      for (const ordered_json& checkpoint : entry["checkpoints"]) {
        if (!checkpoint.is_object() || !checkpoint.contains("next_offset") ||
            !checkpoint["next_offset"].is_number_integer() || !checkpoint.contains("chain_head") ||
            !checkpoint["chain_head"].is_string()) {
          return bad("a checkpoint lacks next_offset or chain_head");
        }
        auto at = parse_head(checkpoint["chain_head"].get<std::string>());
        if (!at) return bad(at.error().message);
        partition.checkpoints.emplace_back(Offset(checkpoint["next_offset"].get<int64_t>()), *at);
      }
      std::sort(partition.checkpoints.begin(), partition.checkpoints.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    partitions.push_back(std::move(partition));
  }
  return partitions;
}

Result<AuditResult> run_audit(engine::EventLogReader& log, RocksProjectionStore* live,
                              const AuditOptions& options) {
  AuditResult result;
  Findings& findings = result.findings;
  ordered_json checks = ordered_json::object();
  if (auto usable = check_out_dir(options); !usable) return std::unexpected(usable.error());

  // 1. The earlier report.
  std::vector<ReportedPartition> earlier;
  if (options.verify_against) {
    auto read = read_reported_partitions(*options.verify_against);
    if (!read) return std::unexpected(read.error());
    earlier = std::move(*read);
  }

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot create {}: {}", options.out_dir.string(), ec.message()));
  }

  // 2. Positions.
  auto log_end = log.end_offsets();
  if (!log_end) return std::unexpected(log_end.error());
  engine::Checkpoints live_positions;
  if (live != nullptr) {
    auto loaded = live->load_checkpoints();
    if (!loaded) return std::unexpected(loaded.error());
    live_positions = std::move(*loaded);
  }

  // 3. The checksums of every block of every file of the log and of the
  // live store: RocksDB reads a block's checksum only when a read needs the
  // block, so a damaged block that nothing reads (a compacted file, a part
  // of the store no query touched) would otherwise pass unseen.
  ordered_json checksums = ordered_json::object();
  auto checksum_finding = [&](const Status& verified, std::string_view store,
                              std::string_view what) -> Status {
    if (verified) return {};
    if (verified.error().code != ErrorCode::kCorruption) return verified;
    Finding finding;
    finding.check = Check::kChecksums;
    finding.store = std::string(store);
    finding.message = fmt::format("{}: {}", what, verified.error().message);
    findings.push_back(std::move(finding));
    return {};
  };
  if (options.verify_log_checksums) {
    if (auto checked = checksum_finding(options.verify_log_checksums(), "log", "the log's files");
        !checked) {
      return std::unexpected(checked.error());
    }
    checksums["log_files"] = "verified";
  } else {
    checksums["log_files"] = "not performed: the log has no files here (Kafka)";
  }
  if (live != nullptr) {
    if (auto checked =
            checksum_finding(live->verify_checksums(), "live", "the live projections' files");
        !checked) {
      return std::unexpected(checked.error());
    }
    checksums["live_store_files"] = "verified";
  } else {
    checksums["live_store_files"] = "skipped: no live projections";
  }
  if (!findings.empty()) {
    // A damaged file: the replay and the comparison would stop at its block
    // with a read error, or (a block nothing reads) pass over it. Either way
    // the audit fails here, naming the file; the other checks are not done
    // (their figures would rest on a damaged file).
    const bool log_damaged =
        std::ranges::any_of(findings, [](const Finding& f) { return f.store == "log"; });
    const bool live_damaged =
        std::ranges::any_of(findings, [](const Finding& f) { return f.store == "live"; });
    if (log_damaged) checksums["log_files"] = "damaged";
    if (live_damaged) checksums["live_store_files"] = "damaged";
    checksums["status"] = "failed";
    checksums["passed"] = false;
    for (const char* name :
         {"log", "invariants", "event_totals", "comparison", "chain", "verify_against", "replay"}) {
      checks[name] = {{"status", "not performed: a file failed its checksum (see checksums)"},
                      {"passed", nullptr}};
    }
    checks["checksums"] = std::move(checksums);
    ordered_json report = ordered_json::object();
    report["homeward_audit_report"] = kReportFormatVersion;
    report["generated_at"] = now_utc();
    report["log"] = options.log_description;
    report["result"] = "fail";
    report["exit_code"] = kExitAuditFailed;
    report["events_read"] = 0;
    report["partitions"] = ordered_json::array();
    report["state_digest"] = nullptr;
    report["checks"] = std::move(checks);
    ordered_json finding_list = ordered_json::array();
    for (const Finding& finding : findings) finding_list.push_back(finding_json(finding));
    report["findings"] = std::move(finding_list);
    report["impact"] = nullptr;
    result.report_path = options.out_dir / "report.json";
    if (auto written = engine::write_file_durably(result.report_path, report.dump(2) + "\n");
        !written) {
      return std::unexpected(written.error());
    }
    result.report = std::move(report);
    return result;
  }

  auto replay_store = ReplayStore::create(options.out_dir / "replay-store");
  if (!replay_store) return std::unexpected(replay_store.error());
  RocksProjectionStore& replayed = replay_store->store();
  LogReplay replay(log, replayed, options.batch_events_max);
  int64_t records_total = 0;
  for (const auto& [partition, end] : *log_end) records_total += end.value();
  auto report_phase = [&](AuditPhase phase) {
    if (options.on_progress) options.on_progress({phase, replay.records_read(), records_total});
  };
  if (options.on_progress) {
    replay.on_progress([&options, records_total](int64_t records_read) {
      options.on_progress({AuditPhase::kReplaying, records_read, records_total});
    });
  }
  for (const auto& [partition, checkpoint] : live_positions) {
    replay.watch(partition, checkpoint.next_offset);
  }
  for (const ReportedPartition& partition : earlier) {
    replay.watch(partition.partition, partition.next_offset);
  }

  // Where the live store stands against the log.
  bool live_ahead = false;
  bool live_behind = false;
  int64_t live_lag = 0;
  if (live != nullptr) {
    for (const auto& [partition, checkpoint] : live_positions) {
      const auto end = log_end->find(partition);
      const Offset log_next = end == log_end->end() ? Offset(0) : end->second;
      if (checkpoint.next_offset > log_next) {
        live_ahead = true;
        findings.push_back(make_finding(
            Check::kChain,
            fmt::format("the log ends at offset {} but the live projections read up to offset "
                        "{}: records {} to {} were removed from the log",
                        log_next.value(), checkpoint.next_offset.value() - 1, log_next.value(),
                        checkpoint.next_offset.value() - 1),
            partition, log_next));
      }
    }
    for (const auto& [partition, end] : *log_end) {
      const auto it = live_positions.find(partition);
      const Offset live_next = it == live_positions.end() ? Offset(0) : it->second.next_offset;
      if (live_next < end) {
        live_behind = true;
        live_lag += end.value() - live_next.value();
      }
    }
  }

  ordered_json comparison = ordered_json::object();
  comparison["performed"] = false;
  comparison["live_positions"] = positions_json(live_positions);
  auto compare_now = [&]() -> Status {
    auto replay_positions = replay.checkpoints();
    if (!replay_positions) return std::unexpected(replay_positions.error());
    comparison["compared_at"] = positions_json(*replay_positions);
    if (!same_positions(*replay_positions, live_positions)) {
      comparison["note"] =
          "the replay could not reach the live store's positions (see the log check)";
      return {};
    }
    report_phase(AuditPhase::kComparing);
    auto compared = compare_stores(*live, replayed, options.max_listed_differences, findings);
    if (!compared) return std::unexpected(compared.error());
    comparison["performed"] = true;
    comparison["records_compared"] = compared->records_compared;
    comparison["differences"] = compared->differences;
    // The chain heads at the live store's positions.
    ordered_json heads = ordered_json::array();
    for (const auto& [partition, checkpoint] : live_positions) {
      const auto replay_checkpoint = replay_positions->find(partition);
      const engine::ChainHead replay_head = replay_checkpoint == replay_positions->end()
                                                ? engine::ChainHead{}
                                                : replay_checkpoint->second.chain_head;
      heads.push_back({{"partition", partition.value()},
                       {"next_offset", checkpoint.next_offset.value()},
                       {"live", head_hex(checkpoint.chain_head)},
                       {"replay", head_hex(replay_head)}});
      if (replay_head != checkpoint.chain_head) {
        findings.push_back(make_finding(
            Check::kChain,
            fmt::format("the chain head after the first {} records differs: the live "
                        "projections read {}, the log today gives {}: a record before this "
                        "offset was changed (the chain index check names which)",
                        checkpoint.next_offset.value(), head_hex(checkpoint.chain_head),
                        head_hex(replay_head)),
            partition, checkpoint.next_offset));
      }
    }
    comparison["chain_heads"] = std::move(heads);
    return {};
  };

  if (live != nullptr && !live_ahead && live_behind) {
    engine::OffsetMap limit;
    for (const auto& [partition, end] : *log_end) {
      const auto it = live_positions.find(partition);
      limit[partition] = it == live_positions.end() ? Offset(0) : it->second.next_offset;
    }
    if (auto ran = replay.run(limit); !ran) return std::unexpected(ran.error());
    comparison["live_store"] = "behind";
    comparison["live_lag_records"] = live_lag;
    if (auto compared = compare_now(); !compared) return std::unexpected(compared.error());
  }
  if (auto ran = replay.run(); !ran) return std::unexpected(ran.error());
  if (live == nullptr) {
    comparison["note"] = "no live projections to compare with";
  } else if (live_ahead) {
    comparison["live_store"] = "ahead";
    comparison["note"] = "the live store read more than the log holds: not compared";
  } else if (!live_behind) {
    comparison["live_store"] = "up_to_date";
    if (auto compared = compare_now(); !compared) return std::unexpected(compared.error());
  }

  auto replay_positions = replay.checkpoints();
  if (!replay_positions) return std::unexpected(replay_positions.error());

  // The log check.
  ordered_json log_check = ordered_json::object();
  log_check["end_offsets"] = offsets_json(*log_end);
  log_check["records_read"] = replay.records_read();
  if (const auto& fault = replay.fault()) {
    findings.push_back(make_finding(
        Check::kLog,
        fmt::format("the log cannot deliver the record at this offset ({}); the replay stopped "
                    "here, so nothing after it was checked",
                    fault->message),
        fault->partition, fault->offset));
    log_check["fault"] = {
        {"partition", fault->partition ? ordered_json(fault->partition->value()) : nullptr},
        {"offset", fault->offset ? ordered_json(fault->offset->value()) : nullptr},
        {"message", fault->message}};
  } else {
    log_check["fault"] = nullptr;
  }

  // The replay agrees with itself: the Projector's chain and the fold's.
  for (const auto& [partition, own] : replay.own_chain()) {
    const auto it = replay_positions->find(partition);
    if (it == replay_positions->end() || it->second != own) {
      findings.push_back(make_finding(
          Check::kReplay,
          "the replay's projector and its second fold reached different chain heads or "
          "positions (a bug in Homeward)",
          partition, own.next_offset));
    }
  }
  for (const std::string& problem : replay.fold_problems()) {
    findings.push_back(make_finding(Check::kReplay, problem));
  }

  // 3. The chain index, record by record.
  ordered_json chain = ordered_json::object();
  if (live != nullptr) {
    report_phase(AuditPhase::kComparing);
    auto indexed =
        compare_chain_index(*live, replayed, live_positions, *replay_positions, findings);
    if (!indexed) return std::unexpected(indexed.error());
    chain["records_compared"] = indexed->records_compared;
    chain["partitions_with_differences"] = indexed->partitions_with_differences;
  } else {
    chain["records_compared"] = 0;
    chain["note"] = "no live projections to compare with";
  }

  // Invariants on the replay, then on the live store.
  report_phase(AuditPhase::kCheckingInvariants);
  ordered_json invariants = ordered_json::object();
  {
    InvariantContext context;
    context.store_name = "replay";
    context.chargebacks_by_case = &replay.chargebacks_by_case();
    context.events_read = replay.records_read();
    auto checked = check_invariants(replayed, context, findings);
    if (!checked) return std::unexpected(checked.error());
    invariants["replay"] = {{"cases", checked->cases_checked},
                            {"donations", checked->donations_checked},
                            {"pledges", checked->pledges_checked}};
  }
  if (live != nullptr) {
    InvariantContext context;
    context.store_name = "live";
    context.chargebacks_by_case = &replay.chargebacks_by_case();
    auto checked = check_invariants(*live, context, findings);
    if (!checked) return std::unexpected(checked.error());
    invariants["live"] = {{"cases", checked->cases_checked},
                          {"donations", checked->donations_checked},
                          {"pledges", checked->pledges_checked}};
  } else {
    invariants["live"] = nullptr;
  }

  // Per currency: the sums over the replayed cases against the sums over the
  // events.
  auto impact = replayed.impact_report();
  if (!impact) return std::unexpected(impact.error());
  ordered_json event_totals = ordered_json::object();
  {
    const std::map<std::string, CurrencyFlows> flows = replay.flows_by_currency();
    std::map<std::string, std::pair<const engine::CurrencyTotals*, const CurrencyFlows*>> both;
    for (const auto& [code, totals] : impact->by_currency) both[code].first = &totals;
    for (const auto& [code, figures] : flows) both[code].second = &figures;
    ordered_json by_currency = ordered_json::object();
    for (const auto& [code, pair] : both) {
      const engine::CurrencyTotals zero_cases;
      const CurrencyFlows zero_events;
      const engine::CurrencyTotals& c = pair.first != nullptr ? *pair.first : zero_cases;
      const CurrencyFlows& e = pair.second != nullptr ? *pair.second : zero_events;
      const uint8_t exponent =
          pair.second != nullptr ? e.exponent : events::find_currency(code)->exponent;
      const events::WideMinorUnits event_net = e.received - e.refunded;
      ordered_json entry = ordered_json::object();
      auto figure = [&](std::string_view name, events::WideMinorUnits cases,
                        events::WideMinorUnits summed) {
        entry[std::string(name)] = {{"cases", wide_amount(cases, exponent)},
                                    {"events", wide_amount(summed, exponent)}};
        if (cases != summed) {
          Finding finding = make_finding(
              Check::kEventTotals,
              fmt::format("{} {}: the cases sum to {} but the applied events to {}", code, name,
                          wide_amount(cases, exponent), wide_amount(summed, exponent)));
          finding.store = "replay";
          findings.push_back(std::move(finding));
        }
      };
      figure("received", c.received, e.received);
      figure("refunded", c.refunded, e.refunded);
      figure("net", c.net, event_net);
      figure("pledged", c.pledged, e.pledged);
      figure("disbursed", c.disbursed, e.disbursed);
      if (pair.first == nullptr || pair.second == nullptr) {
        findings.push_back(make_finding(Check::kEventTotals,
                                        fmt::format("currency {} appears in the {} only", code,
                                                    pair.first == nullptr ? "events" : "cases")));
      }
      by_currency[code] = std::move(entry);
    }
    event_totals["by_currency"] = std::move(by_currency);
    event_totals["events_read"] = replay.records_read();
    event_totals["applied"] = impact->events.applied;
    event_totals["duplicates"] = impact->events.duplicates;
    event_totals["rejected"] = impact->events.rejected;
  }

  // --verify-against: the earlier heads are prefixes of today's log.
  ordered_json verify = ordered_json::object();
  verify["performed"] = options.verify_against.has_value();
  if (options.verify_against) {
    verify["file"] = options.verify_against->string();
    ordered_json list = ordered_json::array();
    for (const ReportedPartition& partition : earlier) {
      const std::optional<engine::ChainHead> today =
          replay.head_at(partition.partition, partition.next_offset);
      ordered_json entry = {{"partition", partition.partition.value()},
                            {"next_offset", partition.next_offset.value()},
                            {"earlier", head_hex(partition.chain_head)},
                            {"today", today ? ordered_json(head_hex(*today)) : nullptr}};
      if (!today) {
        const auto own = replay.own_chain().find(partition.partition);
        const int64_t reached =
            own == replay.own_chain().end() ? 0 : own->second.next_offset.value();
        findings.push_back(make_finding(
            Check::kVerifyAgainst,
            fmt::format("the earlier audit read {} records of this partition, but the log now "
                        "delivers only {}: records were removed",
                        partition.next_offset.value(), reached),
            partition.partition, Offset(reached)));
      } else if (*today != partition.chain_head) {
        // The first window of the earlier report whose head today's log does
        // not reproduce bounds where history changed.
        int64_t from = 0;
        int64_t to = partition.next_offset.value();
        const auto windows = replay.window_heads().find(partition.partition);
        for (const auto& [next_offset, head] : partition.checkpoints) {
          if (next_offset > partition.next_offset) break;
          std::optional<engine::ChainHead> now;
          if (windows != replay.window_heads().end()) {
            const auto it = windows->second.find(next_offset);
            if (it != windows->second.end()) now = it->second;
          }
          if (now && *now == head) {
            from = next_offset.value();
          } else {
            to = next_offset.value();
            break;
          }
        }
        findings.push_back(make_finding(
            Check::kVerifyAgainst,
            fmt::format("history changed since the earlier audit: the chain head after the first "
                        "{} records was {} and is now {}; the first changed record is at an "
                        "offset from {} to {}",
                        partition.next_offset.value(), head_hex(partition.chain_head),
                        head_hex(*today), from, to - 1),
            partition.partition, Offset(from)));
        entry["changed_between"] = {from, to - 1};
      }
      list.push_back(std::move(entry));
    }
    verify["partitions"] = std::move(list);
  }

  // The digest, over the replay at the end of the log.
  report_phase(AuditPhase::kComputingDigest);
  std::ofstream canonical;
  if (options.write_canonical_state) {
    canonical.open(options.out_dir / "state.txt", std::ios::binary | std::ios::trunc);
    if (!canonical) {
      return make_error(ErrorCode::kIo,
                        fmt::format("cannot write {}", (options.out_dir / "state.txt").string()));
    }
  }
  auto digest =
      compute_state_digest(replayed, options.write_canonical_state ? &canonical : nullptr);
  if (!digest) return std::unexpected(digest.error());
  if (options.write_canonical_state) {
    canonical.close();
    if (!canonical) return make_error(ErrorCode::kIo, "cannot write state.txt");
  }

  // The report.
  auto passed_check = [&](Check check) {
    for (const Finding& finding : findings) {
      if (finding.check == check) return false;
    }
    return true;
  };
  // A check that was not done says so, and neither passes nor fails: the
  // report never claims what the audit did not check.
  auto verdict = [&](ordered_json& check, Check kind, std::optional<std::string> not_done) {
    if (not_done) {
      check["status"] = *not_done;
      check["passed"] = nullptr;
      return;
    }
    const bool passed = passed_check(kind);
    check["status"] = passed ? "passed" : "failed";
    check["passed"] = passed;
  };
  const std::optional<std::string> no_live =
      live == nullptr ? std::optional<std::string>("skipped: no live projections") : std::nullopt;
  verdict(log_check, Check::kLog, std::nullopt);
  verdict(invariants, Check::kInvariants, std::nullopt);
  verdict(event_totals, Check::kEventTotals, std::nullopt);
  std::optional<std::string> comparison_not_done = no_live;
  if (!no_live && !comparison["performed"].get<bool>()) {
    comparison_not_done =
        live_ahead ? "not performed: the live store read more than the log holds"
                   : "not performed: the replay could not reach the live store's positions";
  }
  // A comparison that found differences failed, even if it stopped short.
  if (comparison_not_done && !passed_check(Check::kComparison)) comparison_not_done.reset();
  verdict(comparison, Check::kComparison, comparison_not_done);
  verdict(chain, Check::kChain, no_live && passed_check(Check::kChain) ? no_live : std::nullopt);
  verdict(verify, Check::kVerifyAgainst,
          options.verify_against ? std::nullopt : std::optional<std::string>("not performed"));
  checks["log"] = std::move(log_check);
  checks["invariants"] = std::move(invariants);
  checks["event_totals"] = std::move(event_totals);
  checks["comparison"] = std::move(comparison);
  checks["chain"] = std::move(chain);
  checks["verify_against"] = std::move(verify);
  checks["replay"] = ordered_json::object();
  verdict(checks["replay"], Check::kReplay, std::nullopt);
  verdict(checksums, Check::kChecksums,
          !options.verify_log_checksums && live == nullptr
              ? std::optional<std::string>("not performed: no files here to check")
              : std::nullopt);
  checks["checksums"] = std::move(checksums);

  ordered_json partitions = ordered_json::array();
  for (const auto& [partition, checkpoint] : *replay_positions) {
    ordered_json windows = ordered_json::array();
    if (const auto it = replay.window_heads().find(partition); it != replay.window_heads().end()) {
      for (const auto& [next_offset, head] : it->second) {
        windows.push_back({{"next_offset", next_offset.value()}, {"chain_head", head_hex(head)}});
      }
    }
    partitions.push_back({{"partition", partition.value()},
                          {"next_offset", checkpoint.next_offset.value()},
                          {"chain_head", head_hex(checkpoint.chain_head)},
                          {"checkpoints", std::move(windows)}});
  }

  ordered_json report = ordered_json::object();
  report["homeward_audit_report"] = kReportFormatVersion;
  report["generated_at"] = now_utc();
  report["log"] = options.log_description;
  report["result"] = findings.empty() ? "pass" : "fail";
  report["exit_code"] = findings.empty() ? 0 : kExitAuditFailed;
  report["events_read"] = replay.records_read();
  report["partitions"] = std::move(partitions);
  report["state_digest"] = {{"algorithm", "sha256"},
                            {"canonical_form", kStateDigestVersion},
                            {"lines", digest->lines},
                            {"value", digest->sha256_hex}};
  report["checks"] = std::move(checks);
  ordered_json finding_list = ordered_json::array();
  for (const Finding& finding : findings) finding_list.push_back(finding_json(finding));
  report["findings"] = std::move(finding_list);
  report["impact"] = impact_json(*impact);

  result.report_path = options.out_dir / "report.json";
  if (auto written = engine::write_file_durably(result.report_path, report.dump(2) + "\n");
      !written) {
    return std::unexpected(written.error());
  }
  if (options.write_more_reports) {
    report_phase(AuditPhase::kWritingReports);
    if (auto more = options.write_more_reports(options.out_dir, replayed, report); !more) {
      return std::unexpected(more.error());
    }
  }
  if (auto removed = replay_store->close_and_remove(options.keep_replay_store); !removed) {
    return std::unexpected(removed.error());
  }
  result.report = std::move(report);
  return result;
}

}  // namespace homeward::projections::audit
