// Many readers beside one writer, as separate `homeward` processes (locks
// and RocksDB secondaries are per process): queries never lock each other
// out, never wait behind a writer for more than a moment, and never answer
// with figures that no prefix of the log gives; a second writer gets exit 5;
// a read-only copy answers; a log directory that lost its files is refused,
// never started over.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/generator.h"
#include "tests/support/child_process.h"
#include "tests/support/cli_runner.h"
#include "tests/support/file_damage.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using testing::ChildProcess;
using testing::CliRun;
using testing::run_homeward;
using testing::TempDir;
namespace fs = std::filesystem;

constexpr auto kChildDeadline = std::chrono::seconds(120);

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void write_file(const fs::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string join(const std::vector<std::string>& lines, size_t begin, size_t end) {
  std::string joined;
  for (size_t i = begin; i < end; ++i) joined += lines[i] + "\n";
  return joined;
}

std::vector<std::string> generated_lines(int64_t events, uint64_t seed) {
  bench::GeneratorOptions options;
  options.events = events;
  options.seed = seed;
  std::ostringstream out;
  auto summary = bench::generate(options, out);
  if (!summary) ADD_FAILURE() << summary.error().message;
  return lines_of(out.str());
}

// A finished child's exit code, standard output and standard error.
struct ChildRun {
  int code = -1;
  std::string out;
  std::string err;
};

class Homeward : public ChildProcess {
 public:
  Homeward(const fs::path& binary, std::vector<std::string> args, fs::path stderr_file)
      : ChildProcess(binary.string(), args, stderr_file), err_(std::move(stderr_file)) {}

  // Waits for the end (bounded) and collects what it printed.
  ChildRun finish() {
    ChildRun run;
    run.out = read_output(kChildDeadline);
    run.code = stop(0, kChildDeadline);
    run.err = read_file(err_);
    return run;
  }

 private:
  fs::path err_;
};

// Runs the same command in `count` processes at once.
std::vector<ChildRun> run_at_once(const fs::path& binary, const std::vector<std::string>& args,
                                  int count, const fs::path& work) {
  std::vector<std::unique_ptr<Homeward>> children;
  for (int i = 0; i < count; ++i) {
    children.push_back(
        std::make_unique<Homeward>(binary, args, work / ("child-" + std::to_string(i) + ".err")));
  }
  std::vector<ChildRun> runs;
  for (auto& child : children) runs.push_back(child->finish());
  return runs;
}

class ConcurrentReaders : public ::testing::Test {
 protected:
  fs::path data() const { return work_.path() / "data"; }
  fs::path work() const { return work_.path(); }

  // Publishes `ndjson` in this process; every line must be appended.
  void publish(const fs::path& data_dir, const std::string& ndjson) {
    const fs::path file = work() / "publish-input.ndjson";
    write_file(file, ndjson);
    CliRun run = run_homeward({"--data", data_dir.string(), "--quiet", "publish", file.string()});
    ASSERT_EQ(run.code, 0) << run.err;
  }

  // `stats --json` of a fresh ledger of the first `count` lines: what any
  // answer that includes exactly those records must print.
  std::string reference_stats(const std::vector<std::string>& lines, size_t count) {
    auto found = reference_.find(count);
    if (found != reference_.end()) return found->second;
    const fs::path dir = work() / ("reference-" + std::to_string(count));
    publish(dir, join(lines, 0, count));
    CliRun run = run_homeward({"--data", dir.string(), "stats", "--json"});
    EXPECT_EQ(run.code, 0) << run.err;
    fs::remove_all(dir);
    return reference_[count] = run.out;
  }

  TempDir work_;
  std::map<size_t, std::string> reference_;
};

// How many log records a `stats --json` answer includes.
size_t records_in(const std::string& stats_json) {
  const auto stats = nlohmann::json::parse(stats_json);
  const auto& events = stats.at("events");
  size_t records = events.at("applied").get<size_t>() + events.at("duplicates").get<size_t>() +
                   events.at("rejected").get<size_t>();
  if (events.contains("malformed")) records += events.at("malformed").get<size_t>();
  return records;
}

TEST_F(ConcurrentReaders, TwentyQueriesAtOnceAllAnswerWithTheSameFigures) {
  const auto lines = generated_lines(5'000, 3);
  publish(data(), join(lines, 0, lines.size()));
  // No projections yet: the first query to get the writer lock projects,
  // the others read beside it or wait for it.
  const auto stats =
      run_at_once(HOMEWARD_BINARY, {"--data", data().string(), "stats", "--json"}, 20, work());
  const std::string expected = reference_stats(lines, lines.size());
  for (const ChildRun& run : stats) {
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(run.out, expected) << run.err;
  }

  CliRun cases = run_homeward({"--data", data().string(), "cases", "--json"});
  ASSERT_EQ(cases.code, 0) << cases.err;
  const std::string case_id = nlohmann::json::parse(cases.out).at(0).at("case_id");
  CliRun one = run_homeward({"--data", data().string(), "case", case_id, "--json"});
  ASSERT_EQ(one.code, 0) << one.err;
  for (const ChildRun& run : run_at_once(
           HOMEWARD_BINARY, {"--data", data().string(), "case", case_id, "--json"}, 20, work())) {
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(run.out, one.out);
  }
}

TEST_F(ConcurrentReaders, QueriesDuringPublishesAnswerWithTheFiguresOfAPrefixOfTheLog) {
  const auto lines = generated_lines(40'000, 5);
  constexpr size_t kChunks = 8;
  const size_t chunk = lines.size() / kChunks;
  std::vector<ChildRun> answers;
  int publishes_seen_busy = 0;
  // The first chunk before any query: until a log exists a query rightly
  // says there is no ledger.
  publish(data(), join(lines, 0, chunk));
  for (size_t c = 1; c < kChunks; ++c) {
    const size_t end = c + 1 == kChunks ? lines.size() : (c + 1) * chunk;
    const fs::path file = work() / ("chunk-" + std::to_string(c) + ".ndjson");
    write_file(file, join(lines, c * chunk, end));
    Homeward publisher(HOMEWARD_BINARY,
                       {"--data", data().string(), "--quiet", "publish", file.string()},
                       work() / "publish.err");
    // Queries while it appends (each one also projects, or reads beside the
    // query that does); bounded by count.
    for (int round = 0; round < 3; ++round) {
      for (ChildRun& run : run_at_once(HOMEWARD_BINARY,
                                       {"--data", data().string(), "stats", "--json"}, 3, work())) {
        answers.push_back(std::move(run));
      }
    }
    ChildRun published = publisher.finish();
    // The log's writer lock is publish's: a query never takes it.
    if (published.code == 5) ++publishes_seen_busy;
    ASSERT_EQ(published.code, 0) << published.err;
  }
  EXPECT_EQ(publishes_seen_busy, 0);

  // Every answer is the answer of a fresh ledger of some first N lines.
  std::map<size_t, int> answers_by_records;
  for (const ChildRun& run : answers) {
    ASSERT_EQ(run.code, 0) << run.err;
    const size_t records = records_in(run.out);
    ASSERT_LE(records, lines.size());
    ++answers_by_records[records];
  }
  // A bounded number of distinct prefixes to replay: the first, the last
  // and some between.
  std::vector<size_t> checked;
  for (const auto& [records, count] : answers_by_records) checked.push_back(records);
  const size_t step = std::max<size_t>(1, checked.size() / 6);
  for (size_t i = 0; i < checked.size(); ++i) {
    if (i % step != 0 && i + 1 != checked.size()) continue;
    const std::string expected = reference_stats(lines, checked[i]);
    for (const ChildRun& run : answers) {
      if (records_in(run.out) == checked[i]) {
        EXPECT_EQ(run.out, expected);
      }
    }
  }
  CliRun final_stats = run_homeward({"--data", data().string(), "stats", "--json"});
  ASSERT_EQ(final_stats.code, 0) << final_stats.err;
  EXPECT_EQ(final_stats.out, reference_stats(lines, lines.size()));
}

TEST_F(ConcurrentReaders, QueriesDuringARebuildAnswerWithTheFullFigures) {
  const auto lines = generated_lines(30'000, 7);
  publish(data(), join(lines, 0, lines.size()));
  const std::string expected = reference_stats(lines, lines.size());
  CliRun first = run_homeward({"--data", data().string(), "stats", "--json"});
  ASSERT_EQ(first.code, 0) << first.err;

  Homeward rebuild(HOMEWARD_BINARY, {"--data", data().string(), "--quiet", "project", "--rebuild"},
                   work() / "rebuild.err");
  std::vector<ChildRun> answers;
  for (int round = 0; round < 4 && rebuild.running(); ++round) {
    for (ChildRun& run :
         run_at_once(HOMEWARD_BINARY, {"--data", data().string(), "stats", "--json"}, 3, work())) {
      answers.push_back(std::move(run));
    }
  }
  EXPECT_FALSE(answers.empty()) << "the rebuild ended before any query: nothing was tested";
  ChildRun rebuilt = rebuild.finish();
  ASSERT_EQ(rebuilt.code, 0) << rebuilt.err;
  for (const ChildRun& run : answers) {
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(run.out, expected) << run.err;
  }
  EXPECT_FALSE(fs::exists(data() / "projections.rebuild"));
  CliRun after = run_homeward({"--data", data().string(), "stats", "--json"});
  EXPECT_EQ(after.out, expected);
}

TEST_F(ConcurrentReaders, ARebuildThatCannotReadTheLogLeavesTheProjectionsAnswering) {
  const auto lines = generated_lines(3'000, 8);
  publish(data(), join(lines, 0, lines.size()));
  CliRun before = run_homeward({"--data", data().string(), "stats", "--json"});
  ASSERT_EQ(before.code, 0) << before.err;
  // One byte flipped in a data block of the log's table file.
  const fs::path table = homeward::testing::largest_table_file(data() / "log");
  ASSERT_FALSE(table.empty()) << "no table file in the log";
  ASSERT_GT(fs::file_size(table), 65536U);
  homeward::testing::flip_byte(table, fs::file_size(table) / 4);
  CliRun rebuild = run_homeward({"--data", data().string(), "project", "--rebuild"});
  EXPECT_EQ(rebuild.code, 1);
  EXPECT_NE(rebuild.err.find("orrupt"), std::string::npos) << rebuild.err;
  EXPECT_FALSE(fs::exists(data() / "projections.rebuild"));
  CliRun after = run_homeward({"--data", data().string(), "stats", "--json"});
  EXPECT_EQ(after.code, 0) << after.err;
  EXPECT_EQ(after.out, before.out);
}

TEST_F(ConcurrentReaders, ASecondWriterExitsFiveNamingTheFirst) {
  const auto lines = generated_lines(200'000, 9);
  const fs::path file = work() / "big.ndjson";
  write_file(file, join(lines, 0, lines.size()));
  write_file(work() / "one.ndjson", lines.front() + "\n");
  publish(data(), lines.front() + "\n");
  Homeward first(HOMEWARD_BINARY, {"--data", data().string(), "--quiet", "publish", file.string()},
                 work() / "first.err");
  const pid_t first_pid = first.pid();
  const std::string holder = "pid " + std::to_string(first_pid) + ": homeward publish";
  // Once the first holds the log's writer lock (its holder line names it;
  // bounded wait), a second publish is refused.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (first.running() && std::chrono::steady_clock::now() < give_up &&
         read_file(data() / "log" / "HOMEWARD-WRITER").find(holder) == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(first.running()) << "the first publish ended before a second one could meet it";
  Homeward other(HOMEWARD_BINARY,
                 {"--data", data().string(), "publish", (work() / "one.ndjson").string()},
                 work() / "second.err");
  ChildRun second = other.finish();
  const bool first_still_running = first.running();
  ChildRun finished = first.finish();
  ASSERT_EQ(finished.code, 0) << finished.err;
  if (!first_still_running && second.code == 0) {
    GTEST_SKIP() << "the first publish ended before the second one opened the log";
  }
  EXPECT_EQ(second.code, 5) << second.err;
  EXPECT_NE(second.err.find("is being written by another homeward process (" + holder + ")"),
            std::string::npos)
      << second.err;
}

TEST_F(ConcurrentReaders, QueriesAnswerBesideARunningServerAndAPublishIsBusy) {
  const auto lines = generated_lines(2'000, 12);
  publish(data(), join(lines, 0, lines.size()));
  Homeward server(HOMEWARD_BINARY,
                  {"--data", data().string(), "--quiet", "serve", "--listen", "127.0.0.1:0"},
                  work() / "serve.err");
  // serve prints its address once it listens, after taking both locks.
  const std::string address = server.read_line(std::chrono::seconds(60));
  ASSERT_FALSE(address.empty()) << read_file(work() / "serve.err");
  CliRun stats = run_homeward({"--data", data().string(), "stats", "--json"});
  EXPECT_EQ(stats.code, 0) << stats.err;
  EXPECT_EQ(stats.out, reference_stats(lines, lines.size()));
  write_file(work() / "one.ndjson", lines.front() + "\n");
  CliRun busy =
      run_homeward({"--data", data().string(), "publish", (work() / "one.ndjson").string()});
  EXPECT_EQ(busy.code, 5) << busy.err;
  EXPECT_NE(busy.err.find(": homeward serve)"), std::string::npos) << busy.err;
  EXPECT_EQ(server.stop(SIGTERM, std::chrono::seconds(30)), 0) << read_file(work() / "serve.err");
}

TEST_F(ConcurrentReaders, AnEmptyLogDirectoryIsRefusedNotStartedOver) {
  fs::create_directories(data() / "log");
  CliRun query = run_homeward({"--data", data().string(), "cases"});
  EXPECT_EQ(query.code, 1);
  EXPECT_NE(query.err.find("is empty, but a log was expected there"), std::string::npos)
      << query.err;
  write_file(work() / "one.ndjson", generated_lines(1, 1).front() + "\n");
  CliRun publish =
      run_homeward({"--data", data().string(), "publish", (work() / "one.ndjson").string()});
  EXPECT_EQ(publish.code, 1);
  EXPECT_NE(publish.err.find("is empty, but a log was expected there"), std::string::npos)
      << publish.err;
  EXPECT_TRUE(fs::is_empty(data() / "log"));
}

TEST_F(ConcurrentReaders, ALogThatLostItsCurrentFileIsRefusedAndLeftAsItWas) {
  const auto lines = generated_lines(1'000, 2);
  publish(data(), join(lines, 0, lines.size()));
  fs::remove(data() / "log" / "CURRENT");
  std::vector<std::string> before;
  for (const auto& entry : fs::directory_iterator(data() / "log")) {
    before.push_back(entry.path().filename().string());
  }
  std::sort(before.begin(), before.end());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"cases"}, std::vector<std::string>{"publish", "-"}}) {
    std::vector<std::string> full{"--data", data().string()};
    full.insert(full.end(), args.begin(), args.end());
    CliRun run = run_homeward(full, lines.front() + "\n");
    EXPECT_EQ(run.code, 1);
    EXPECT_NE(run.err.find("has files but no CURRENT"), std::string::npos) << run.err;
  }
  std::vector<std::string> after;
  for (const auto& entry : fs::directory_iterator(data() / "log")) {
    after.push_back(entry.path().filename().string());
  }
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, before);
}

// An auditor's read-only copy: root copies the data directory, takes away
// every write permission, and the queries, the export and the audit run as
// `nobody` (setpriv), writing only under --out.
class ReadOnlyCopy : public ConcurrentReaders {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run commands as nobody";
    if (!fs::exists("/usr/bin/setpriv")) GTEST_SKIP() << "needs setpriv (util-linux)";
    // nobody must reach the binary and the copy: the test's own directory
    // is private (mkdtemp).
    fs::permissions(work(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    binary_ = work() / "homeward";
    fs::copy_file(HOMEWARD_BINARY, binary_);
  }

  // `homeward ARGS` as nobody.
  ChildRun as_nobody(const std::vector<std::string>& args) {
    std::vector<std::string> full{"--reuid=65534", "--regid=65534", "--clear-groups",
                                  binary_.string()};
    full.insert(full.end(), args.begin(), args.end());
    Homeward child("/usr/bin/setpriv", full, work() / "nobody.err");
    return child.finish();
  }

  // A copy of `from` that no one can write.
  fs::path read_only_copy(const fs::path& from, const std::string& name) {
    const fs::path copy = work() / name;
    fs::copy(from, copy, fs::copy_options::recursive);
    EXPECT_EQ(std::system(("chmod -R a-w,a+rX " + copy.string()).c_str()), 0);
    return copy;
  }

  fs::path binary_;
};

TEST_F(ReadOnlyCopy, QueriesExportAndAuditAnswerAsTheOwnerDoes) {
  const auto lines = generated_lines(3'000, 4);
  publish(data(), join(lines, 0, lines.size()));
  const std::vector<std::vector<std::string>> commands = {
      {"cases", "--json"}, {"stats", "--json"}, {"rejections", "--json"}, {"export"}};
  std::vector<std::string> owner;
  for (const auto& command : commands) {
    std::vector<std::string> full{"--data", data().string()};
    full.insert(full.end(), command.begin(), command.end());
    CliRun run = run_homeward(full);
    ASSERT_EQ(run.code, 0) << run.err;
    owner.push_back(run.out);
  }

  // With its projections up to date, and without any (a temporary store).
  fs::path with_projections = read_only_copy(data(), "copy");
  fs::path log_only = read_only_copy(data(), "copy-log-only");
  EXPECT_EQ(std::system(("chmod u+w " + log_only.string()).c_str()), 0);
  fs::remove_all(log_only / "projections");
  EXPECT_EQ(std::system(("chmod a-w " + log_only.string()).c_str()), 0);

  for (const fs::path& copy : {with_projections, log_only}) {
    for (size_t i = 0; i < commands.size(); ++i) {
      std::vector<std::string> full{"--data", copy.string(), "--quiet"};
      full.insert(full.end(), commands[i].begin(), commands[i].end());
      ChildRun run = as_nobody(full);
      EXPECT_EQ(run.code, 0) << copy << " " << commands[i][0] << ": " << run.err;
      EXPECT_EQ(run.out, owner[i]) << copy << " " << commands[i][0];
    }
    const fs::path out = work() / ("audit-of-" + copy.filename().string());
    fs::create_directory(out);
    EXPECT_EQ(::chown(out.c_str(), 65534, 65534), 0);
    ChildRun audit =
        as_nobody({"--data", copy.string(), "--quiet", "audit", "--out", out.string()});
    EXPECT_EQ(audit.code, 0) << audit.err;
    EXPECT_TRUE(fs::exists(out / "report.json")) << audit.err;
  }
}

}  // namespace
}  // namespace homeward
