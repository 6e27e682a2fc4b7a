// The crash-recovery loop (issue 14 item 1), on the embedded log.
//
// Round after round, the real `homeward` binary (fork + exec) runs `publish`
// of a new NDJSON file, `project --rebuild`, `project` and `audit`
// each SIGKILLed at a random moment (seeded: the seed is printed), and is then
// restarted as an operator would: the killed publish is run again on the same
// file until one run completes, a killed rebuild is followed by `project`.
// (`project --follow` and `serve` are not in it yet: follow is Kafka-only and
// the loop runs on the embedded log.)
// After every round, with nothing killed, the test checks against what it
// knows independently of the engine:
//   - the log (`export`) holds only lines that some publish was given, and
//     each line as many times as the publishes of a file holding it that
//     completed, plus at most one per killed publish of such a file: every
//     line a completed publish answered `appended` is there, once per publish
//     that appended it, and nothing is half there;
//   - the figures of every case (`cases --json`) and the event counts
//     (`stats --json`) equal the fold of the exported log by the reference
//     fold written from SPEC (tests/support/reference_fold.h), so a retried
//     event is a duplicate and money is never counted twice;
//   - `audit` passes: the live store equals a clean replay record by record
//     (and the log's chain heads and checksums hold).
// The ctest run stops after 50 SIGKILLs that landed while the command ran;
// HOMEWARD_CRASH_MINUTES=N (./run crashtest --minutes N) runs for N minutes
// instead, HOMEWARD_CRASH_SEED=S replays one seed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "events/event.h"
#include "events/money.h"
#include "events/ndjson.h"
#include "tests/crash/child_process.h"
#include "tests/support/reference_fold.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

namespace fs = std::filesystem;
using events::Event;
using testing::ChildRun;
using testing::Clock;
using testing::run_binary;

// ------------------------------------------------------------ the input

// Event files over a few cases that live through every round: openings (and
// openings again: case_exists), donations, pledges and their fulfilment or
// cancellation, refunds (chargebacks too), disbursements, now and then a
// closing, and repeats of earlier events (duplicates, or conflicting ones
// under a changed source). Every line passes stage 1; the rules decide the rest.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::vector<std::string> file(int round, int length) {
    std::vector<std::string> lines;
    for (int n = 0; n < length; ++n) {
      if (!history_.empty() && pick(20) == 0) {
        Event again = history_[pick(static_cast<int>(history_.size()))];
        if (pick(3) == 0) again.source = "retry-portal";
        lines.push_back(events::format_event_json(again));
        continue;
      }
      Event e;
      e.event_id = fmt::format("r{}-{}", round, n);
      e.case_id = fmt::format("case-{}", pick(kCases));
      clock_ += 60'000'000LL * (1 + pick(600));
      e.occurred_at = TimestampMicros(clock_);
      e.source = "portal";
      e.body = body(e.case_id);
      if (e.type() == events::EventType::kDonationReceived) donations_.push_back(e.event_id);
      if (e.type() == events::EventType::kPledgeMade) pledges_.push_back(e.event_id);
      history_.push_back(e);
      lines.push_back(events::format_event_json(e));
    }
    return lines;
  }

 private:
  static constexpr int kCases = 6;
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  MinorUnits amount() { return MinorUnits(100 * (1 + pick(500))); }
  std::string earlier(const std::vector<std::string>& ids) {
    if (ids.empty() || pick(10) == 0) return fmt::format("nope-{}", pick(100));
    return ids[pick(static_cast<int>(ids.size()))];
  }

  events::EventBody body(const std::string& case_id) {
    const events::Currency usd = *events::find_currency("USD");
    if (!opened_.contains(case_id) || pick(60) == 0) {
      opened_.insert(case_id);
      const MinorUnits goal(100 * (1000 + pick(20'000)));
      return events::CaseOpened{
          {usd, goal, std::vector<events::BudgetLine>{{events::Category::kShelter, goal}}}};
    }
    const int roll = pick(100);
    if (roll < 50) return events::DonationReceived{fmt::format("d-{}", pick(40)), amount(), usd};
    if (roll < 60) return events::PledgeMade{fmt::format("d-{}", pick(40)), amount(), usd};
    if (roll < 66) return events::PledgeFulfilled{earlier(pledges_)};
    if (roll < 69) return events::PledgeCancelled{earlier(pledges_), std::nullopt};
    if (roll < 81) {
      return events::RefundIssued{
          earlier(donations_), amount(), usd,
          pick(5) == 0 ? events::RefundReason::kChargeback : events::RefundReason::kDonorRequest};
    }
    if (roll < 99) {
      return events::FundsDisbursed{events::Category::kShelter, amount(), usd, std::nullopt};
    }
    return events::CaseClosed{events::CloseReason::kCompleted};
  }

  std::mt19937_64 rng_;
  int64_t clock_ = int64_t{1'433'116'800} * 1'000'000;  // 2015-06-01T00:00:00Z
  std::set<std::string> opened_;
  std::vector<std::string> donations_, pledges_;
  std::vector<Event> history_;
};

// ------------------------------------------------------------ the loop

class CrashLoop {
 public:
  CrashLoop(uint64_t seed, bool kill_rebuilds)
      : kill_rebuilds_(kill_rebuilds), rng_(seed), generator_(seed) {}

  // One round; false when a check failed (the gtest failure says which).
  bool round(int number) {
    // publish: a new file, killed at random until one run completes.
    const std::vector<std::string> lines = generator_.file(number, 400 + pick(800));
    const fs::path file = dir_.path() / fmt::format("round-{}.ndjson", number);
    {
      std::ofstream out(file);
      for (const std::string& line : lines) out << line << '\n';
    }
    for (int attempt = 0;; ++attempt) {
      const bool try_kill = attempt < 3 && pick(4) != 0;
      const ChildRun run = command("publish", {"publish", file.string()}, try_kill);
      if (run.killed) {
        for (const std::string& line : lines) ++killed_[line];
        continue;
      }
      if (run.code != 0) {
        ADD_FAILURE() << "publish exited " << run.code << ": " << run.err;
        return false;
      }
      for (const std::string& line : lines) ++completed_[line];
      break;
    }
    // project --rebuild, killed at random (when rebuilds are killed, see
    // kill_rebuilds); `project` after a kill.
    const bool kill_rebuild = pick(3) != 0 && kill_rebuilds_;
    if (const ChildRun run = command("rebuild", {"project", "--rebuild"}, kill_rebuild);
        run.killed) {
      if (!expect_ok(command("project", {"project"}, false), "project after a killed rebuild")) {
        return false;
      }
    } else if (!expect_ok(run, "project --rebuild")) {
      return false;
    }
    // Another file, then `project` (catching up), killed at random.
    if (pick(2) == 0) {
      const std::vector<std::string> more = generator_.file(number * 1000 + 999, 200 + pick(300));
      const fs::path second = dir_.path() / fmt::format("round-{}-b.ndjson", number);
      {
        std::ofstream out(second);
        for (const std::string& line : more) out << line << '\n';
      }
      const ChildRun run = command("publish", {"publish", second.string()}, false);
      if (!expect_ok(run, "publish of the second file")) return false;
      for (const std::string& line : more) ++completed_[line];
      if (const ChildRun project = command("project", {"project"}, true);
          !project.killed && !expect_ok(project, "project")) {
        return false;
      }
    }
    // audit, killed at random (a killed audit leaves no report that says passed;
    // the audit of the checks below runs into a directory of its own).
    const fs::path killed_out = dir_.path() / fmt::format("killed-audit-{}", number);
    if (const ChildRun audit = command("audit", {"audit", "--out", killed_out.string()}, true);
        !audit.killed && !expect_ok(audit, "audit")) {
      return false;
    }
    return check(number);
  }

  [[nodiscard]] int kills() const { return kills_; }
  [[nodiscard]] const std::map<std::string, int>& kills_by_command() const { return by_command_; }
  [[nodiscard]] int64_t log_events() const { return log_events_; }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  // The data directory's commands; `kill` picks a moment within the time the
  // last complete run of this command took (at least 300 ms).
  ChildRun command(const std::string& name, const std::vector<std::string>& args, bool kill) {
    std::vector<std::string> all{"--data", (dir_.path() / "data").string()};
    all.insert(all.end(), args.begin(), args.end());
    std::optional<std::chrono::microseconds> after;
    if (kill) {
      const auto span = std::max<int64_t>(typical_[name].count(), 300) * 1000;
      after = std::chrono::microseconds(static_cast<int64_t>(rng_() % span));
    }
    ChildRun run = run_binary(dir_.path(), all, after);
    if (run.killed) {
      ++kills_;
      ++by_command_[name];
    } else if (run.code == 0) {
      typical_[name] = std::max(typical_[name], run.took);
    }
    return run;
  }

  static bool expect_ok(const ChildRun& run, const std::string& what) {
    if (!run.killed && run.code == 0) return true;
    ADD_FAILURE() << what << " exited " << run.code << ": " << run.err;
    return false;
  }

  bool check(int number) {
    SCOPED_TRACE(fmt::format("after round {}", number));
    const ChildRun exported = command("export", {"export"}, false);
    if (!expect_ok(exported, "export")) return false;
    std::map<std::string, int> in_log;
    testing::ReferenceFold fold;
    std::istringstream lines(exported.out);
    int64_t offset = 0;
    for (std::string line; std::getline(lines, line);) {
      ++in_log[line];
      auto event = events::parse_event_json(line);
      if (!event) {
        ADD_FAILURE() << "export gave a line that is not an event: " << line;
        return false;
      }
      fold.fold(*event, offset++);
    }
    log_events_ = offset;
    for (const auto& [line, count] : in_log) {
      const int done = completed_.contains(line) ? completed_.at(line) : 0;
      const int maybe = killed_.contains(line) ? killed_.at(line) : 0;
      if (done == 0 && maybe == 0) {
        ADD_FAILURE() << "the log holds a line no publish was given: " << line;
        return false;
      }
      if (count > done + maybe) {
        ADD_FAILURE() << "the log holds " << count << " copies of a line published " << done
                      << " times to completion and killed " << maybe << " times: " << line;
        return false;
      }
    }
    for (const auto& [line, done] : completed_) {
      const int count = in_log.contains(line) ? in_log.at(line) : 0;
      if (count < done) {
        ADD_FAILURE() << "a line appended by " << done << " completed publishes is in the log "
                      << count << " times: " << line;
        return false;
      }
    }

    const ChildRun cases = command("cases", {"cases", "--json"}, false);
    if (!expect_ok(cases, "cases --json")) return false;
    const auto listed = nlohmann::json::parse(cases.out);
    std::map<std::string, const testing::RefCase*> opened;
    for (const auto& [id, c] : fold.cases) {
      if (c.opened) opened[id] = &c;
    }
    EXPECT_EQ(listed.size(), opened.size()) << "opened cases";
    for (const auto& got : listed) {
      const std::string id = got.at("case_id");
      SCOPED_TRACE("case " + id);
      if (!opened.contains(id)) {
        ADD_FAILURE() << "a case the fold never opened is listed";
        return false;
      }
      const testing::RefCase& ref = *opened.at(id);
      const auto money = [](int64_t minor) { return events::format_amount(MinorUnits(minor), 2); };
      EXPECT_EQ(got.at("received").get<std::string>(), money(ref.received));
      EXPECT_EQ(got.at("refunded").get<std::string>(), money(ref.refunded));
      EXPECT_EQ(got.at("net").get<std::string>(), money(ref.net()));
      EXPECT_EQ(got.at("pledged").get<std::string>(), money(ref.pledged));
      EXPECT_EQ(got.at("disbursed").get<std::string>(), money(ref.disbursed));
      EXPECT_EQ(got.at("available").get<std::string>(), money(ref.available()));
      EXPECT_EQ(got.at("goal").get<std::string>(), money(ref.goal));
      EXPECT_EQ(got.at("donations").get<int64_t>(), ref.donations);
      EXPECT_EQ(got.at("donors").get<int64_t>(), static_cast<int64_t>(ref.donors.size()));
      EXPECT_EQ(got.at("refunds").get<int64_t>(), ref.refunds);
      EXPECT_EQ(got.at("events_applied").get<int64_t>(), ref.applied);
      EXPECT_EQ(got.at("duplicates").get<int64_t>(), ref.duplicates);
      EXPECT_EQ(got.at("events_rejected").get<int64_t>(), ref.rejected);
      const std::string status = ref.close_reason        ? "closed"
                                 : ref.net() >= ref.goal ? "funded"
                                                         : "open";
      EXPECT_EQ(got.at("status").get<std::string>(), status);
    }
    const ChildRun stats = command("stats", {"stats", "--json"}, false);
    if (!expect_ok(stats, "stats --json")) return false;
    const auto report = nlohmann::json::parse(stats.out);
    EXPECT_EQ(report.at("events").at("applied").get<int64_t>(), fold.applied);
    EXPECT_EQ(report.at("events").at("duplicates").get<int64_t>(), fold.duplicates);
    EXPECT_EQ(report.at("events").at("rejected").get<int64_t>(), fold.rejected);

    const fs::path out = dir_.path() / fmt::format("audit-{}", number);
    if (!expect_ok(command("audit", {"audit", "--out", out.string()}, false), "audit")) {
      return false;
    }
    return !::testing::Test::HasFailure();
  }

  testing::TempDir dir_;
  bool kill_rebuilds_;
  std::mt19937_64 rng_;
  Generator generator_;
  // Per line of input: publishes of a file holding it that completed, and
  // that were killed (which may have appended it or not).
  std::map<std::string, int> completed_, killed_;
  std::map<std::string, std::chrono::milliseconds> typical_;
  std::map<std::string, int> by_command_;
  int kills_ = 0;
  int64_t log_events_ = 0;
};

uint64_t seed_from_environment() {
  if (const char* s = std::getenv("HOMEWARD_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

TEST(CrashLoop, KilledCommandsLoseNothingAndCountNothingTwice) {
  const uint64_t seed = seed_from_environment();
  const char* minutes_text = std::getenv("HOMEWARD_CRASH_MINUTES");
  const int minutes = minutes_text != nullptr ? std::atoi(minutes_text) : 0;
  std::cout << "crash loop seed " << seed << " (HOMEWARD_CRASH_SEED to replay)"
            << (minutes > 0 ? fmt::format(", {} minutes", minutes) : std::string()) << std::endl;
  // A rebuild killed inside RocksDB's DestroyDB used to leave DIR/projections
  // with WAL files and no CURRENT, which neither `project` nor `project
  // --rebuild` could open (issue 14 items 8 and 12, found by this loop: seed
  // 1399047795, after 104 kills). Rebuilds now build beside the live store
  // and swap, so they are killed like every other command;
  // HOMEWARD_CRASH_KILL_REBUILD=0 leaves them alone (to tell a finding in
  // the rebuild from the others).
  const char* kill_rebuild = std::getenv("HOMEWARD_CRASH_KILL_REBUILD");
  const bool kill_rebuilds = kill_rebuild == nullptr || std::string(kill_rebuild) != "0";
  CrashLoop loop(seed, kill_rebuilds);
  const auto start = Clock::now();
  const auto until = start + std::chrono::minutes(minutes);
  // Bounded in rounds as well: kills that never land would otherwise loop.
  constexpr int kRoundsMax = 400;
  int rounds = 0;
  while (rounds < kRoundsMax) {
    if (minutes > 0 ? Clock::now() >= until : loop.kills() >= 50) break;
    if (!loop.round(rounds++)) break;
  }
  std::string by_command;
  for (const auto& [name, n] : loop.kills_by_command()) {
    by_command += fmt::format(" {} {}", name, n);
  }
  std::cout << fmt::format("crash loop: {} rounds, {} kills ({}), {} events in the log, {:.0f} s",
                           rounds, loop.kills(), by_command.empty() ? "" : by_command.substr(1),
                           loop.log_events(),
                           std::chrono::duration<double>(Clock::now() - start).count())
            << std::endl;
  EXPECT_GE(loop.kills(), 50) << "the loop should land at least 50 kills";
}

}  // namespace
}  // namespace homeward
