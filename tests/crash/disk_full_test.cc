// Disk full (issue 14 items 7 and 9), on a tmpfs of a few MB mounted for the
// test (it needs root, or CAP_SYS_ADMIN, to mount one; skipped otherwise).
//
// Files of incompressible events are published into a data directory on the
// small filesystem until a publish fails for want of space. Then:
//   - the failing publish says so (exit 1, the reason names the full disk)
//     and says which lines it appended: exactly those are in the log, once,
//     and none of the lines it reported failed;
//   - queries (stats, cases, export) still answer on the full disk;
//   - after space is freed (the tmpfs remounted larger), the operator runs the
//     same file again, and `project`, `audit` and the figures equal those of a
//     clean run of the same files on a disk with room.
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

namespace fs = std::filesystem;
using testing::ChildRun;
using testing::run_to_end;

// A tmpfs at `at`, unmounted at the end of the scope.
class SmallDisk {
 public:
  SmallDisk(const fs::path& at, const std::string& size) : at_(at) {
    fs::create_directories(at);
    if (::mount("tmpfs", at.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  [[nodiscard]] bool mounted() const { return mounted_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  bool grow(const std::string& size) {
    return ::mount("tmpfs", at_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  fs::path at_;
  bool mounted_ = false;
  std::string error_;
};

// NDJSON files whose ids, donors and amounts are random hex and digits, so
// that RocksDB's compression cannot make them small.
std::vector<fs::path> write_files(const fs::path& dir, int count, int lines_each) {
  std::mt19937_64 rng(14);
  std::vector<fs::path> files;
  for (int f = 0; f < count; ++f) {
    const fs::path path = dir / fmt::format("part-{}.ndjson", f);
    std::ofstream out(path);
    if (f == 0) {
      out << R"({"type":"CaseOpened","event_id":"open-1","occurred_at":"2015-06-01T08:00:00Z",)"
          << R"("case_id":"case-1","currency":"USD","goal":"1500000.00"})" << '\n';
    }
    for (int n = 0; n < lines_each; ++n) {
      out << fmt::format(R"({{"type":"DonationReceived","event_id":"d{}-{}-{:016x}","occurred_at":)"
                         R"("2015-06-02T09:00:00Z","case_id":"case-1","donor_ref":"dnr-{:016x}",)"
                         R"("amount":"{}.{:02}","currency":"USD"}})",
                         f, n, rng(), rng() % 5000, 1 + rng() % 9999, rng() % 100)
          << '\n';
    }
    files.push_back(path);
  }
  return files;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class DiskFullTest : public ::testing::Test {
 protected:
  ChildRun cli(const fs::path& data, std::vector<std::string> args) {
    args.insert(args.begin(), {"--quiet", "--data", data.string()});
    return run_to_end(HOMEWARD_BINARY, args, scratch_.path(), std::nullopt);
  }
  homeward::testing::TempDir scratch_;
};

// Publish until the disk is full, then: the failing publish says so and
// what it appended; queries answer with the figures of the whole log;
// `project` says the disk is full and the projections still answer; after
// space is freed the next runs go on to the figures of a clean run.
TEST_F(DiskFullTest, PublishOnAFullDiskSaysWhatItAppendedAndTheNextRunGoesOn) {
  homeward::testing::TempDir work;
  SmallDisk disk(work.path() / "disk", "2m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error()
                 << "): this test needs root or CAP_SYS_ADMIN, as in CI";
  }
  const fs::path data = work.path() / "disk" / "data";
  const auto files = write_files(work.path(), 24, 5000);

  // Publish until the disk is full; everything a completed publish answered
  // appended is counted once per line.
  std::map<std::string, int> expected_once;
  size_t full_at = files.size();
  nlohmann::json answer;
  std::string full_err;
  for (size_t f = 0; f < files.size(); ++f) {
    const ChildRun run = cli(data, {"publish", "--json", files[f].string()});
    answer = nlohmann::json::parse(run.out.empty() ? "{}" : run.out, nullptr, false);
    if (run.code == 0) {
      for (const std::string& line : lines_of(files[f])) ++expected_once[line];
      continue;
    }
    ASSERT_EQ(run.code, 1) << run.err;
    ASSERT_FALSE(answer.is_discarded()) << "publish --json on a full disk: " << run.out;
    full_err = run.err;
    full_at = f;
    break;
  }
  ASSERT_LT(full_at, files.size()) << "24 files of 5,000 events did not fill a 2 MB tmpfs";
  EXPECT_NE(full_err.find("the disk is full"), std::string::npos) << full_err;

  // The failing publish either could not open the log at all (RocksDB
  // replays the last WAL into a new file when it opens: no line appended,
  // no document), or appended some batches: each line is then appended or
  // failed (none refused, none unknown), the failures name the full disk,
  // and the appended count is the rest.
  const std::vector<std::string> partial = lines_of(files[full_at]);
  std::set<int64_t> failed;
  if (answer.empty()) {
    EXPECT_NE(full_err.find("cannot open the log"), std::string::npos) << full_err;
    for (size_t i = 0; i < partial.size(); ++i) failed.insert(static_cast<int64_t>(i + 1));
  } else {
    for (const auto& f : answer.at("failed")) {
      failed.insert(f.at("line").get<int64_t>());
      EXPECT_NE(f.at("reason").get<std::string>().find("No space left"), std::string::npos)
          << f.at("reason");
    }
    EXPECT_TRUE(answer.at("refused").empty());
    EXPECT_TRUE(answer.at("unknown").empty());
    EXPECT_EQ(answer.at("appended").get<int64_t>() + static_cast<int64_t>(failed.size()),
              static_cast<int64_t>(partial.size()));
    EXPECT_NE(full_err.find(fmt::format("{} lines are appended and in the log",
                                        answer.at("appended").get<int64_t>())),
              std::string::npos)
        << full_err;
  }
  std::set<std::string> failed_lines;
  for (size_t i = 0; i < partial.size(); ++i) {
    if (failed.contains(static_cast<int64_t>(i + 1))) {
      failed_lines.insert(partial[i]);
    } else {
      ++expected_once[partial[i]];
    }
  }
  int64_t donations_in_log = 0;
  for (const auto& [line, n] : expected_once) {
    if (line.find("DonationReceived") != std::string::npos) donations_in_log += n;
  }

  // `project` on the full disk says so, and leaves the projections answering.
  {
    const ChildRun run = cli(data, {"project"});
    EXPECT_EQ(run.code, 1) << run.out << run.err;
    EXPECT_NE(run.err.find("the disk is full"), std::string::npos) << run.err;
  }
  // Queries answer on the full disk with the figures of the whole log.
  {
    const ChildRun run = cli(data, {"cases", "--json"});
    ASSERT_EQ(run.code, 0) << run.err;
    const auto cases = nlohmann::json::parse(run.out);
    ASSERT_EQ(cases.size(), 1U) << run.out;
    EXPECT_EQ(cases[0].at("donations").get<int64_t>(), donations_in_log);
  }

  // More queries answer, and the log holds what was answered.
  for (const std::vector<std::string>& query :
       {std::vector<std::string>{"stats"}, {"cases"}, {"export"}}) {
    const ChildRun run = cli(data, query);
    EXPECT_EQ(run.code, 0) << query[0] << " on a full disk: " << run.err;
  }
  const ChildRun exported = cli(data, {"export"});
  std::map<std::string, int> in_log;
  {
    std::istringstream lines(exported.out);
    for (std::string line; std::getline(lines, line);) ++in_log[line];
  }
  EXPECT_EQ(in_log.size(), expected_once.size());
  for (const auto& [line, n] : in_log) {
    EXPECT_EQ(n, 1) << line;
    EXPECT_TRUE(expected_once.contains(line)) << "in the log but not answered appended: " << line;
    EXPECT_FALSE(failed_lines.contains(line)) << "answered failed but in the log: " << line;
  }

  // Space freed: the same file again, then project and audit.
  ASSERT_TRUE(disk.grow("512m"));
  // As the failing publish advised: --from-line where it appended some lines.
  std::vector<std::string> again_args{"publish", files[full_at].string()};
  if (const size_t at = full_err.find("--from-line "); at != std::string::npos) {
    again_args.push_back("--from-line");
    again_args.push_back(std::to_string(std::stoll(full_err.substr(at + 12))));
  }
  const ChildRun again = cli(data, again_args);
  ASSERT_EQ(again.code, 0) << again.err;
  // One more file, to see the log take appends as before.
  const size_t last = std::min(full_at + 1, files.size() - 1);
  for (size_t f = full_at + 1; f <= last; ++f) {
    ASSERT_EQ(cli(data, {"publish", files[f].string()}).code, 0);
  }
  const ChildRun audited = cli(data, {"audit", "--out", (work.path() / "audit").string()});
  EXPECT_EQ(audited.code, 0) << audited.out << audited.err;

  // A clean run of the same files on a disk with room: the same figures,
  // duplicates included (no line was published twice).
  // On a tmpfs too (its fsync costs nothing), so that the test stays fast.
  SmallDisk roomy(work.path() / "roomy", "512m");
  ASSERT_TRUE(roomy.mounted()) << roomy.error();
  const fs::path clean = work.path() / "roomy" / "clean";
  for (size_t f = 0; f <= last; ++f) {
    ASSERT_EQ(cli(clean, {"publish", files[f].string()}).code, 0);
  }
  const auto figures = [&](const fs::path& dir) {
    return std::pair(nlohmann::json::parse(cli(dir, {"cases", "--json"}).out),
                     nlohmann::json::parse(cli(dir, {"stats", "--json"}).out));
  };
  const auto [cases, stats] = figures(data);
  const auto [clean_cases, clean_stats] = figures(clean);
  EXPECT_EQ(cases, clean_cases);
  EXPECT_EQ(stats, clean_stats);
  EXPECT_EQ(stats.at("events").at("rejected").get<int64_t>(), 0);
}

// The disk fills between two publishes (another program's file takes all
// but a little of it): the log opens, its append fails, and the publish says
// which lines it appended (none), lists every other line as not appended
// with RocksDB's reason, and names the --from-line to go on from; queries
// answer from the up-to-date projections; once the file is removed, the
// publish goes on from that line to the figures of a clean run.
TEST_F(DiskFullTest, AnAppendOnAFullDiskIsAnsweredFailedAndGoesOnFromTheLineItNames) {
  homeward::testing::TempDir work;
  SmallDisk disk(work.path() / "disk", "4m");
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error()
                 << "): this test needs root or CAP_SYS_ADMIN, as in CI";
  }
  const fs::path data = work.path() / "disk" / "data";
  const auto files = write_files(work.path(), 2, 5000);
  ASSERT_EQ(cli(data, {"publish", files[0].string()}).code, 0);
  ASSERT_EQ(cli(data, {"project"}).code, 0);

  // All but 64 KiB taken: the log's open fits, the 5,000 events' WAL (about
  // 1 MB) does not.
  struct statvfs fs_stats {};
  ASSERT_EQ(::statvfs((work.path() / "disk").c_str(), &fs_stats), 0);
  const uint64_t free_bytes = static_cast<uint64_t>(fs_stats.f_bavail) * fs_stats.f_frsize;
  ASSERT_GT(free_bytes, 64U * 1024U);
  const fs::path filler = work.path() / "disk" / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    const std::string block(64 * 1024, 'x');
    for (uint64_t written = 0; written + 128 * 1024 <= free_bytes; written += block.size()) {
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
  }

  const ChildRun full = cli(data, {"publish", "--json", files[1].string()});
  EXPECT_EQ(full.code, 1) << full.err;
  const auto answer = nlohmann::json::parse(full.out, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << full.out << full.err;
  const auto partial = lines_of(files[1]);
  EXPECT_EQ(answer.at("appended").get<int64_t>(), 0) << full.err;
  ASSERT_EQ(answer.at("failed").size(), partial.size()) << full.err;
  for (const auto& f : answer.at("failed")) {
    ASSERT_NE(f.at("reason").get<std::string>().find("No space left"), std::string::npos)
        << f.at("reason");
  }
  EXPECT_NE(full.err.find("homeward: the disk is full: 0 lines are appended and in the log, 5000 "
                          "lines were not appended (no line appended); after freeing space, run "
                          "the same command again with --from-line 1"),
            std::string::npos)
      << full.err.substr(full.err.size() > 2000 ? full.err.size() - 2000 : 0);

  // Queries answer on the full disk; the log holds the first file only.
  const ChildRun cases = cli(data, {"cases", "--json"});
  ASSERT_EQ(cases.code, 0) << cases.err;
  EXPECT_EQ(nlohmann::json::parse(cases.out).at(0).at("donations").get<int64_t>(), 5000);
  const ChildRun exported = cli(data, {"export"});
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(std::count(exported.out.begin(), exported.out.end(), '\n'), 5001);

  fs::remove(filler);
  const ChildRun again = cli(data, {"publish", files[1].string(), "--from-line", "1"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(cli(data, {"audit", "--out", (work.path() / "audit").string()}).code, 0);

  SmallDisk roomy(work.path() / "roomy", "64m");
  ASSERT_TRUE(roomy.mounted()) << roomy.error();
  const fs::path clean = work.path() / "roomy" / "clean";
  for (const fs::path& file : files) ASSERT_EQ(cli(clean, {"publish", file.string()}).code, 0);
  for (const std::string query : {"cases", "stats"}) {
    EXPECT_EQ(nlohmann::json::parse(cli(data, {query, "--json"}).out),
              nlohmann::json::parse(cli(clean, {query, "--json"}).out))
        << query;
  }
}

}  // namespace
}  // namespace homeward
