// The crash-recovery loop (issue 14 item 1), on the embedded log and on Kafka
// (librdkafka's mock cluster, `homeward dev-broker`).
//
// Round after round, the real `homeward` binary (fork + exec) runs, each
// command SIGKILLed at a random moment (seeded: the seed is printed) and then
// restarted or retried as an operator or a portal would:
//   - on the embedded log: `publish` of a new NDJSON file (run again on the
//     same file until one run completes), `project --rebuild` (`project`
//     after a kill), sometimes another file and `project`, `audit`; then
//     `serve`, to which a new file is POSTed in requests of 1-150 events
//     (wait=outcome): a killed serve is restarted and every request that got
//     no answer POSTed again unchanged, with the same event_ids;
//   - on a Kafka topic: `project --follow` while `publish --kafka` of a new
//     file runs, both killed at random; the publish again until one run
//     completes, a killed follow restarted and left to catch up.
// The broker is never killed (the mock keeps the topic in memory).
// After every round, with nothing killed, the test checks each log against
// what it knows independently of the engine:
//   - the log (`export`) holds only lines that some publish or POST was
//     given, and each line as many times as the publishes or POSTs of it that
//     completed (answered), plus at most one per killed or unanswered one:
//     every line answered `appended` is there, once per publish or POST that
//     appended it, and nothing is half there;
//   - every event serve answered `appended` is at the offset it named, and
//     the outcome it gave is the reference fold's verdict there: a retried
//     event is a `duplicate`;
//   - the figures of every case (`cases --json`) and the event counts
//     (`stats --json`) equal the fold of the exported log by the reference
//     fold written from SPEC (tests/support/reference_fold.h), so money is
//     never counted twice;
//   - `audit` passes: the live store equals a clean replay record by record
//     (and the log's chain heads and checksums hold).
// The ctest run stops once 50 SIGKILLs landed while the command ran, at
// least 5 of them of serve, of the Kafka publish and of follow each;
// HOMEWARD_CRASH_MINUTES=N (./run crashtest --minutes N) runs for N minutes
// instead, HOMEWARD_CRASH_SEED=S replays one seed, HOMEWARD_CRASH_KAFKA=0
// leaves Kafka out.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
#include "tests/http/support/http_client.h"
#include "tests/http/support/serve_process.h"
#include "tests/support/child_process.h"
#include "tests/support/reference_fold.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

namespace fs = std::filesystem;
using events::Event;
using testing::ChildRun;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------ the input

// Event files over a few cases that live through every round: openings (and
// openings again: case_exists), donations, pledges and their fulfilment or
// cancellation, refunds (chargebacks too), disbursements, now and then a
// closing, and repeats of earlier events (duplicates, or conflicting ones
// under a changed source). Every line passes stage 1; the rules decide the rest.
class Generator {
 public:
  Generator(uint64_t seed, int cases) : cases_(cases), rng_(seed) {}

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
      e.case_id = fmt::format("case-{}", pick(cases_));
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
  int cases_;
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

// A SIGKILL for a long-running child (serve, project --follow) at a chosen
// moment, sent from a thread of its own while the test talks to the child,
// unless called off first. The owner calls it off before it reaps the child,
// so the signal never reaches a process id that was given to another.
class Killer {
 public:
  Killer(pid_t pid, std::optional<std::chrono::microseconds> after) {
    if (!after) return;
    thread_ = std::thread([this, pid, at = Clock::now() + *after] {
      std::unique_lock lock(mutex_);
      if (called_off_.wait_until(lock, at, [this] { return off_; })) return;
      ::kill(pid, SIGKILL);
      fired_ = true;
    });
  }
  ~Killer() { call_off(); }
  Killer(const Killer&) = delete;
  Killer& operator=(const Killer&) = delete;

  // Calls it off if it has not fired; whether it fired.
  bool call_off() {
    {
      std::lock_guard lock(mutex_);
      off_ = true;
    }
    called_off_.notify_all();
    if (thread_.joinable()) thread_.join();
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable called_off_;
  bool off_ = false, fired_ = false;
  std::thread thread_;
};

// One ledger the loop drives and what it knows about it without the engine.
struct Ledger {
  Ledger(std::string name, fs::path data, std::vector<std::string> log_args, uint64_t seed,
         int cases)
      : name(std::move(name)),
        data(std::move(data)),
        log_args(std::move(log_args)),
        generator(seed, cases) {}

  std::string name;                   // "embedded" or "kafka"
  fs::path data;                      // --data
  std::vector<std::string> log_args;  // the global options naming its log (--kafka ADDRESS)
  Generator generator;
  // Per line of input: publishes (or POSTs) holding it that completed, and
  // that were killed or unanswered (which may have appended it or not).
  std::map<std::string, int> completed, killed;
  // Events serve answered `appended` at an offset of the embedded log, with
  // the stage-2 outcome it gave ("applied", "duplicate", a rejection reason;
  // empty when pending); checked against the log and the fold, then cleared.
  struct Answer {
    int64_t offset;
    std::string line, outcome;
  };
  std::vector<Answer> answered;
  int64_t log_events = 0;
};

// The ctest run stops at kKillsMin kills once each of these commands has
// been killed kKillsEachMin times, so that every mode is exercised whatever
// the seed (serve --kafka and the embedded log's commands get more chances
// per round and come along).
const std::vector<std::string> kKillsAwaited = {"serve", "kafka publish", "follow"};
constexpr int kKillsEachMin = 5;
constexpr int kKillsMin = 50;

class CrashLoop {
 public:
  CrashLoop(uint64_t seed, bool kill_rebuilds, bool with_kafka)
      : kill_rebuilds_(kill_rebuilds),
        with_kafka_(with_kafka),
        rng_(seed),
        embedded_("embedded", dir_.path() / "data", {}, seed, 6) {
    if (with_kafka_) start_kafka();
  }
  ~CrashLoop() {
    if (broker_) broker_->stop(SIGTERM, std::chrono::seconds(20));
  }

  // One round; false when a check failed (the gtest failure says which).
  bool round(int number) {
    if (!embedded_round(number) || !serve_round(embedded_, number) || !check(embedded_, number)) {
      return false;
    }
    if (!with_kafka_) return true;
    if (!kafka_) {
      ADD_FAILURE() << "no Kafka ledger (dev-broker did not start)";
      return false;
    }
    // The mock keeps at most 5 MiB per partition and drops the oldest
    // batches beyond (docs/kafka.md): a ledger that grew that far is set
    // aside with its broker, and a new one goes on.
    if (kafka_->log_events > kKafkaEventsMax) {
      if (const int status = broker_->stop(SIGTERM, std::chrono::seconds(20)); status != 0) {
        ADD_FAILURE() << "dev-broker exited " << status << ": " << broker_->stderr_text();
        return false;
      }
      if (!start_kafka()) return false;
    }
    return kafka_round(*kafka_, number) && serve_round(*kafka_, number) && check(*kafka_, number);
  }

  [[nodiscard]] int kills() const { return kills_; }
  [[nodiscard]] const std::map<std::string, int>& kills_by_command() const { return by_command_; }
  [[nodiscard]] int64_t embedded_events() const { return embedded_.log_events; }
  // Over every topic the loop used (a full one is set aside with its broker).
  [[nodiscard]] int64_t kafka_events() const {
    return kafka_events_set_aside_ + (kafka_ ? kafka_->log_events : 0);
  }
  [[nodiscard]] int kafka_topics() const { return kafka_ledgers_; }
  // Whether the ctest run has what it waits for.
  [[nodiscard]] bool enough_kills() const {
    if (kills_ < kKillsMin) return false;
    for (const std::string& name : kKillsAwaited) {
      if (!with_kafka_ && name != "serve") continue;
      const auto it = by_command_.find(name);
      if (it == by_command_.end() || it->second < kKillsEachMin) return false;
    }
    return true;
  }

 private:
  static constexpr int64_t kKafkaEventsMax = 40'000;
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  // `homeward dev-broker` (8 partitions; the Kafka ledger's 24 cases spread
  // over them) and a new Kafka ledger on it. The broker is never killed: the
  // mock keeps the topic in memory.
  bool start_kafka() {
    if (kafka_) kafka_events_set_aside_ += kafka_->log_events;
    ++kafka_ledgers_;
    broker_ = std::make_unique<testing::ChildProcess>(
        HOMEWARD_BINARY, std::vector<std::string>{"dev-broker", "--partitions", "8"},
        dir_.path() / fmt::format("broker-{}.err", kafka_ledgers_));
    const std::string address = broker_->read_line(std::chrono::seconds(20));
    if (!address.starts_with("127.0.0.1:")) {
      ADD_FAILURE() << "dev-broker printed '" << address << "': " << broker_->stderr_text();
      return false;
    }
    kafka_ = std::make_unique<Ledger>("kafka",
                                      dir_.path() / fmt::format("kafka-data-{}", kafka_ledgers_),
                                      std::vector<std::string>{"--kafka", address}, rng_(), 24);
    return true;
  }

  fs::path write_file(const std::vector<std::string>& lines, const std::string& name) {
    const fs::path file = dir_.path() / name;
    std::ofstream out(file);
    for (const std::string& line : lines) out << line << '\n';
    return file;
  }

  // Publishes `file` (its `lines`), killed at random, again and again as an
  // operator would until one run completes.
  bool publish_until_complete(Ledger& ledger, const std::string& name, const fs::path& file,
                              const std::vector<std::string>& lines) {
    // The first publish into a new data directory is killed too: a creation
    // killed inside RocksDB (files, no CURRENT) is started again by the
    // next publish (the creation marker; finding of seed 3228847590).
    for (int attempt = 0;; ++attempt) {
      const bool try_kill = attempt < 3 && pick(4) != 0;
      const ChildRun run = command(ledger, name, {"publish", file.string()}, try_kill);
      // Exit 6: Kafka never answered for some lines; the advice is this
      // same command again (their event_ids make the copies duplicates).
      if (run.killed || (run.code == 6 && ledger.name == "kafka" && attempt < 10)) {
        for (const std::string& line : lines) ++ledger.killed[line];
        continue;
      }
      if (run.code != 0) {
        ADD_FAILURE() << name << " exited " << run.code << ": " << run.err;
        return false;
      }
      for (const std::string& line : lines) ++ledger.completed[line];
      return true;
    }
  }

  // publish, project --rebuild, sometimes another publish and `project`, and
  // audit, on the embedded log.
  bool embedded_round(int number) {
    Ledger& ledger = embedded_;
    // publish: a new file, killed at random until one run completes.
    const std::vector<std::string> lines = ledger.generator.file(number, 400 + pick(800));
    if (!publish_until_complete(ledger, "publish",
                                write_file(lines, fmt::format("round-{}.ndjson", number)), lines)) {
      return false;
    }
    // project --rebuild, killed at random (when rebuilds are killed, see
    // kill_rebuilds); `project` after a kill.
    const bool kill_rebuild = pick(3) != 0 && kill_rebuilds_;
    if (const ChildRun run = command(ledger, "rebuild", {"project", "--rebuild"}, kill_rebuild);
        run.killed) {
      if (!expect_ok(command(ledger, "project", {"project"}, false),
                     "project after a killed rebuild")) {
        return false;
      }
    } else if (!expect_ok(run, "project --rebuild")) {
      return false;
    }
    // Another file, then `project` (catching up), killed at random.
    if (pick(2) == 0) {
      const std::vector<std::string> more =
          ledger.generator.file(number * 1000 + 999, 200 + pick(300));
      const fs::path second = write_file(more, fmt::format("round-{}-b.ndjson", number));
      const ChildRun run = command(ledger, "publish", {"publish", second.string()}, false);
      if (!expect_ok(run, "publish of the second file")) return false;
      for (const std::string& line : more) ++ledger.completed[line];
      if (const ChildRun project = command(ledger, "project", {"project"}, true);
          !project.killed && !expect_ok(project, "project")) {
        return false;
      }
    }
    // audit, killed at random (a killed audit leaves no report that says passed;
    // the audit of the checks below runs into a directory of its own).
    const fs::path killed_out = dir_.path() / fmt::format("killed-audit-{}", number);
    if (const ChildRun audit =
            command(ledger, "audit", {"audit", "--out", killed_out.string()}, true);
        !audit.killed && !expect_ok(audit, "audit")) {
      return false;
    }
    return true;
  }

  // `homeward serve` (127.0.0.1, an ephemeral port) of the ledger, with
  // stderr in a file of its own.
  std::unique_ptr<testing::ServeProcess> start_serve(const Ledger& ledger, int number,
                                                     int session) {
    std::vector<std::string> global{"--quiet"};
    global.insert(global.end(), ledger.log_args.begin(), ledger.log_args.end());
    return std::make_unique<testing::ServeProcess>(
        ledger.data, std::vector<std::string>{},
        dir_.path() / fmt::format("serve-{}-{}-{}.err", ledger.name, number, session), global);
  }

  // A portal's day: a new file POSTed to `serve` in requests of 1-150 events
  // (on the embedded log with wait=outcome), serve SIGKILLed at a random moment (up to three
  // times), restarted, and every request that got no answer POSTed again, unchanged (the same
  // event_ids), until each has an answer; then serve is stopped with SIGTERM and must exit 0.
  bool serve_round(Ledger& ledger, int number) {
    const bool kafka = ledger.name == "kafka";
    const std::vector<std::string> lines =
        ledger.generator.file(number * 1000 + 500, 300 + pick(600));
    std::deque<std::pair<size_t, size_t>> unanswered;  // [begin, end) of `lines`
    for (size_t begin = 0; begin < lines.size();) {
      const size_t end = std::min(lines.size(), begin + 1 + pick(150));
      unanswered.emplace_back(begin, end);
      begin = end;
    }
    const std::string name = kafka ? "kafka serve" : "serve";
    // On Kafka without wait=outcome: there each such answer waited about
    // 2.7 s (docs/reliability.md), and outcomes are checked only where
    // positions map to export's lines, on the embedded log.
    const std::string target = kafka ? "/v1/events" : "/v1/events?wait=outcome&wait_ms=30000";
    for (int session = 0; !unanswered.empty(); ++session) {
      const auto started = Clock::now();
      auto serve = start_serve(ledger, number, session);
      if (serve->address().empty()) {
        ADD_FAILURE() << name << " did not start: " << serve->stderr_text();
        return false;
      }
      std::optional<std::chrono::microseconds> kill_after;
      if (session < 3 && pick(4) != 0) kill_after = kill_moment(name);
      Killer killer(serve->pid(), kill_after);
      testing::HttpClient client;
      while (!unanswered.empty()) {
        const auto [begin, end] = unanswered.front();
        std::string body;
        for (size_t i = begin; i < end; ++i) body += lines[i] + '\n';
        const testing::HttpResponse response = client.send({"POST",
                                                            serve->url(target),
                                                            body,
                                                            {"Content-Type: application/x-ndjson"},
                                                            60'000,
                                                            "/v1/events"});
        if (response.status == 0) {
          // No answer: the events may be in the log or not.
          for (size_t i = begin; i < end; ++i) ++ledger.killed[lines[i]];
          break;
        }
        if (!record_answer(ledger, response, lines, begin, end)) return false;
        unanswered.pop_front();
      }
      if (killer.call_off()) {
        if (!expect_killed(*serve, name)) return false;
        continue;
      }
      if (!unanswered.empty()) {
        ADD_FAILURE() << name << " gave no answer without being killed: " << serve->stderr_text();
        return false;
      }
      typical_[name] =
          std::max(typical_[name],
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started));
      if (const int status = serve->stop(SIGTERM); status != 0) {
        ADD_FAILURE() << name << " exited " << status << " on SIGTERM";
        return false;
      }
    }
    return true;
  }

  // What serve answered to lines [begin, end): every event appended (they
  // all pass stage 1 and the log takes them).
  bool record_answer(Ledger& ledger, const testing::HttpResponse& response,
                     const std::vector<std::string>& lines, size_t begin, size_t end) {
    if (response.status != 200 && response.status != 202) {
      ADD_FAILURE() << "POST /v1/events answered " << response.status << ": " << response.body;
      return false;
    }
    const nlohmann::json answer = nlohmann::json::parse(response.body);
    const nlohmann::json& results = answer.at("results");
    if (results.size() != end - begin) {
      ADD_FAILURE() << "POST /v1/events of " << end - begin << " events answered " << results.size()
                    << " results: " << response.body;
      return false;
    }
    for (size_t i = 0; i < results.size(); ++i) {
      const nlohmann::json& result = results[i];
      if (result.at("result") != "appended") {
        ADD_FAILURE() << "POST /v1/events did not append line " << i + 1 << ": " << result.dump();
        return false;
      }
      const std::string& line = lines[begin + i];
      ++ledger.completed[line];
      if (ledger.name != "embedded") continue;  // positions name Kafka partitions
      const std::string position = result.at("position");
      const std::string outcome = result.at("outcome");
      ledger.answered.push_back({std::stoll(position.substr(position.find(':') + 1)), line,
                                 outcome == "pending" ? std::string()
                                 : outcome == "rejected"
                                     ? result.at("rejection_reason").get<std::string>()
                                     : outcome});
    }
    return true;
  }

  // On Kafka: `project --follow` runs while a new file is published (both
  // killed at random; the publish again until one run completes), then a
  // killed follow is restarted as an operator would and left to catch up (a
  // query beside it answers with no note that it is behind); a follow
  // stopped with SIGTERM must exit 0.
  bool kafka_round(Ledger& ledger, int number) {
    const std::vector<std::string> lines = ledger.generator.file(number, 400 + pick(800));
    const fs::path file = write_file(lines, fmt::format("kafka-round-{}.ndjson", number));
    auto follow = start_follow(ledger, number, 0);
    std::optional<std::chrono::microseconds> kill_after;
    if (pick(4) != 0) kill_after = kill_moment("kafka publish");
    {
      Killer killer(follow->pid(), kill_after);
      if (!publish_until_complete(ledger, "kafka publish", file, lines)) return false;
      if (killer.call_off()) {
        if (!expect_killed(*follow, "follow")) return false;
        follow = start_follow(ledger, number, 1);
      }
    }
    // Caught up: once it holds the projections (it says so), a query beside
    // it finds them at the end of the topic.
    if (!wait_until_following(*follow)) return false;
    for (int attempt = 0;; ++attempt) {
      const ChildRun beside = command(ledger, "stats", {"stats", "--json"}, false);
      if (!expect_ok(beside, "stats beside project --follow")) return false;
      if (beside.err.find("behind") == std::string::npos) break;
      if (attempt == 30 || !follow->running()) {
        ADD_FAILURE() << "project --follow did not catch up: " << beside.err
                      << follow->stderr_text();
        return false;
      }
    }
    if (const int status = follow->stop(SIGTERM, std::chrono::seconds(60)); status != 0) {
      ADD_FAILURE() << "project --follow exited " << status
                    << " on SIGTERM: " << follow->stderr_text();
      return false;
    }
    return true;
  }

  std::unique_ptr<testing::ChildProcess> start_follow(const Ledger& ledger, int number,
                                                      int attempt) {
    // Not --quiet: it says when it holds the projections.
    std::vector<std::string> args{"--data", ledger.data.string()};
    args.insert(args.end(), ledger.log_args.begin(), ledger.log_args.end());
    args.insert(args.end(), {"project", "--follow"});
    return std::make_unique<testing::ChildProcess>(
        HOMEWARD_BINARY, args, dir_.path() / fmt::format("follow-{}-{}.err", number, attempt));
  }

  // Until `project --follow` says it follows (it holds the store's lock),
  // polled for at most a minute.
  static bool wait_until_following(testing::ChildProcess& follow) {
    for (int i = 0; i < 1200; ++i) {
      if (follow.stderr_text().find("homeward: following ") != std::string::npos) return true;
      if (!follow.running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "project --follow did not start following: " << follow.stderr_text();
    return false;
  }

  // A child the Killer fired at: it must have died of that SIGKILL.
  bool expect_killed(testing::ChildProcess& child, const std::string& name) {
    const int status = child.stop(0, std::chrono::seconds(60));
    if (status != 128 + SIGKILL) {
      ADD_FAILURE() << name << " was killed, but exited " << status << ": " << child.stderr_text();
      return false;
    }
    ++kills_;
    ++by_command_[name];
    return true;
  }

  // A moment within the longest time a complete run of this command took
  // (300 ms before one completed).
  std::chrono::microseconds kill_moment(const std::string& name) {
    const int64_t typical = typical_[name].count();
    const auto span = (typical > 0 ? typical : 300) * 1000;
    return std::chrono::microseconds(static_cast<int64_t>(rng_() % span));
  }

  // A command of the ledger's data directory and log, killed at a moment of
  // kill_moment if `kill`.
  ChildRun command(const Ledger& ledger, const std::string& name,
                   const std::vector<std::string>& args, bool kill) {
    std::vector<std::string> all{"--quiet", "--data", ledger.data.string()};
    all.insert(all.end(), ledger.log_args.begin(), ledger.log_args.end());
    all.insert(all.end(), args.begin(), args.end());
    std::optional<std::chrono::microseconds> after;
    if (kill) after = kill_moment(name);
    ChildRun run = testing::run_to_end(HOMEWARD_BINARY, all, dir_.path(), after);
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

  bool check(Ledger& ledger, int number) {
    SCOPED_TRACE(fmt::format("{} log, after round {}", ledger.name, number));
    const ChildRun exported = command(ledger, "export", {"export"}, false);
    if (!expect_ok(exported, "export")) return false;
    std::map<std::string, int> in_log;
    std::vector<std::string> log_lines, verdicts;  // by offset on the embedded log
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
      verdicts.push_back(fold.fold(*event, offset++));
      log_lines.push_back(line);
    }
    ledger.log_events = offset;
    for (const auto& [line, count] : in_log) {
      const int done = ledger.completed.contains(line) ? ledger.completed.at(line) : 0;
      const int maybe = ledger.killed.contains(line) ? ledger.killed.at(line) : 0;
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
    for (const auto& [line, done] : ledger.completed) {
      const int count = in_log.contains(line) ? in_log.at(line) : 0;
      if (count < done) {
        ADD_FAILURE() << "a line appended by " << done << " completed publishes is in the log "
                      << count << " times: " << line;
        return false;
      }
    }
    // What serve answered: the event at the offset it named, with the
    // outcome the fold gives it there (a retried event: duplicate).
    for (const Ledger::Answer& answer : ledger.answered) {
      if (answer.offset >= offset || log_lines[answer.offset] != answer.line) {
        ADD_FAILURE() << "serve answered appended at offset " << answer.offset
                      << ", which does not hold " << answer.line;
        return false;
      }
      const std::string& verdict = verdicts[answer.offset];
      const std::string expected = verdict.empty() ? "applied" : verdict;
      if (!answer.outcome.empty() && answer.outcome != expected) {
        ADD_FAILURE() << "serve answered outcome " << answer.outcome << " at offset "
                      << answer.offset << ", the fold " << expected << ": " << answer.line;
        return false;
      }
    }
    ledger.answered.clear();

    const ChildRun cases = command(ledger, "cases", {"cases", "--json"}, false);
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
    const ChildRun stats = command(ledger, "stats", {"stats", "--json"}, false);
    if (!expect_ok(stats, "stats --json")) return false;
    const auto report = nlohmann::json::parse(stats.out);
    EXPECT_EQ(report.at("events").at("applied").get<int64_t>(), fold.applied);
    EXPECT_EQ(report.at("events").at("duplicates").get<int64_t>(), fold.duplicates);
    EXPECT_EQ(report.at("events").at("rejected").get<int64_t>(), fold.rejected);

    const fs::path out = dir_.path() / fmt::format("audit-{}-{}", ledger.name, number);
    if (!expect_ok(command(ledger, "audit", {"audit", "--out", out.string()}, false), "audit")) {
      return false;
    }
    return !::testing::Test::HasFailure();
  }

  testing::TempDir dir_;
  bool kill_rebuilds_, with_kafka_;
  std::mt19937_64 rng_;
  Ledger embedded_;
  std::unique_ptr<testing::ChildProcess> broker_;
  std::unique_ptr<Ledger> kafka_;
  int kafka_ledgers_ = 0;
  int64_t kafka_events_set_aside_ = 0;
  std::map<std::string, std::chrono::milliseconds> typical_;
  std::map<std::string, int> by_command_;
  int kills_ = 0;
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
  const char* kafka = std::getenv("HOMEWARD_CRASH_KAFKA");
  const bool with_kafka = kafka == nullptr || std::string(kafka) != "0";
  CrashLoop loop(seed, kill_rebuilds, with_kafka);
  const auto start = Clock::now();
  const auto until = start + std::chrono::minutes(minutes);
  // Bounded in rounds as well: kills that never land would otherwise loop.
  constexpr int kRoundsMax = 400;
  int rounds = 0;
  while (rounds < kRoundsMax) {
    if (minutes > 0 ? Clock::now() >= until : loop.enough_kills()) break;
    if (!loop.round(rounds++)) break;
  }
  std::string by_command;
  for (const auto& [name, n] : loop.kills_by_command()) {
    by_command += fmt::format(" {} {}", name, n);
  }
  std::cout << fmt::format(
                   "crash loop: {} rounds, {} kills ({}), {} events in the embedded log, {} in "
                   "Kafka ({} topics), {:.0f} s",
                   rounds, loop.kills(), by_command.empty() ? "" : by_command.substr(1),
                   loop.embedded_events(), loop.kafka_events(), loop.kafka_topics(),
                   std::chrono::duration<double>(Clock::now() - start).count())
            << std::endl;
  EXPECT_TRUE(loop.enough_kills())
      << "the loop should land at least " << kKillsMin << " kills, and " << kKillsEachMin
      << " of each of serve" << (with_kafka ? ", the Kafka publish and follow" : "");
}

}  // namespace
}  // namespace homeward
