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
#include <unistd.h>

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

#include "tests/crash/child_process.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

namespace fs = std::filesystem;
using testing::ChildRun;
using testing::run_binary;

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
    args.insert(args.begin(), {"--data", data.string()});
    return run_binary(scratch_.path(), args, std::nullopt);
  }
  homeward::testing::TempDir scratch_;
};

// DISABLED until issue 14 item 9 is fixed in the embedded log: on today's
// main the publish that fills the disk dies of SIGABRT in RocksDB's info-log
// writer (writable_file_writer.h:312, `sync_without_flush_called_'), so it
// never says what it appended. Run it with
// `disk_full_test --gtest_also_run_disabled_tests` (as root); enable it with the fix.
TEST_F(DiskFullTest, DISABLED_PublishOnAFullDiskSaysWhatItAppendedAndTheNextRunGoesOn) {
  homeward::testing::TempDir work;
  SmallDisk disk(work.path() / "disk", "4m");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << disk.error();
  const fs::path data = work.path() / "disk" / "data";
  const auto files = write_files(work.path(), 40, 5000);

  // Publish until the disk is full; everything a completed publish answered
  // appended is counted once per line.
  std::map<std::string, int> expected_once;
  size_t full_at = files.size();
  nlohmann::json answer;
  for (size_t f = 0; f < files.size(); ++f) {
    const ChildRun run = cli(data, {"publish", "--json", files[f].string()});
    answer = nlohmann::json::parse(run.out.empty() ? "{}" : run.out, nullptr, false);
    if (run.code == 0) {
      for (const std::string& line : lines_of(files[f])) ++expected_once[line];
      continue;
    }
    ASSERT_EQ(run.code, 1) << run.err;
    ASSERT_FALSE(answer.is_discarded()) << "publish --json on a full disk: " << run.out;
    full_at = f;
    break;
  }
  ASSERT_LT(full_at, files.size()) << "40 files of 5,000 events did not fill a 4 MB tmpfs";

  // The failing publish: each line is appended or failed (none refused, none
  // unknown), the failures name the full disk, and the appended count is the rest.
  const std::vector<std::string> partial = lines_of(files[full_at]);
  std::set<int64_t> failed;
  for (const auto& f : answer.at("failed")) {
    failed.insert(f.at("line").get<int64_t>());
    EXPECT_NE(f.at("reason").get<std::string>().find("No space left"), std::string::npos)
        << f.at("reason");
  }
  EXPECT_TRUE(answer.at("refused").empty());
  EXPECT_TRUE(answer.at("unknown").empty());
  EXPECT_EQ(answer.at("appended").get<int64_t>() + static_cast<int64_t>(failed.size()),
            static_cast<int64_t>(partial.size()));
  std::set<std::string> failed_lines;
  for (size_t i = 0; i < partial.size(); ++i) {
    if (failed.contains(static_cast<int64_t>(i + 1))) {
      failed_lines.insert(partial[i]);
    } else {
      ++expected_once[partial[i]];
    }
  }

  // Queries answer on the full disk, and the log holds what was answered.
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
  const ChildRun again = cli(data, {"publish", files[full_at].string()});
  ASSERT_EQ(again.code, 0) << again.err;
  for (size_t f = full_at + 1; f < files.size(); ++f) {
    ASSERT_EQ(cli(data, {"publish", files[f].string()}).code, 0);
  }
  const ChildRun audited = cli(data, {"audit", "--out", (work.path() / "audit").string()});
  EXPECT_EQ(audited.code, 0) << audited.out << audited.err;

  // A clean run of the same files on a disk with room.
  const fs::path clean = work.path() / "clean";
  for (const fs::path& file : files) ASSERT_EQ(cli(clean, {"publish", file.string()}).code, 0);
  const auto figures = [&](const fs::path& dir) {
    auto cases = nlohmann::json::parse(cli(dir, {"cases", "--json"}).out);
    // The lines appended before the disk filled came again: duplicates, the
    // one figure that may differ from a clean run.
    for (auto& c : cases) c.erase("duplicates");
    auto stats = nlohmann::json::parse(cli(dir, {"stats", "--json"}).out);
    stats.at("events").erase("duplicates");
    return std::pair(cases, stats);
  };
  const auto [cases, stats] = figures(data);
  const auto [clean_cases, clean_stats] = figures(clean);
  EXPECT_EQ(cases, clean_cases);
  EXPECT_EQ(stats, clean_stats);
  EXPECT_EQ(stats.at("events").at("rejected").get<int64_t>(), 0);
}

}  // namespace
}  // namespace homeward
