// Issue 14 item 11: `publish` passes each refusal on as it happens, on stderr
// or into the --json document, instead of holding every refusal until the
// input ends (1M refused lines held took 162 MB, 940 MB with --json).
#include <chrono>
#include <condition_variable>
#include <ios>
#include <mutex>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "connectors/cli/cli.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_streams.h"

namespace homeward::testing {
namespace {

// What the command has written so far, shared with the input below.
class Seen {
 public:
  void append(std::string_view text) {
    std::lock_guard lock(mutex_);
    text_.append(text);
    changed_.notify_all();
  }
  // Waits, at most `limit`, for `needle` to have been written.
  bool wait_for(const std::string& needle, std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return text_.find(needle) != std::string::npos; });
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string text_;
};

class RecordingBuffer : public std::streambuf {
 public:
  explicit RecordingBuffer(Seen& seen) : seen_(seen) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    seen_.append(std::string_view(s, static_cast<size_t>(n)));
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      const char ch = traits_type::to_char_type(c);
      seen_.append(std::string_view(&ch, 1));
    }
    return traits_type::not_eof(c);
  }

 private:
  Seen& seen_;
};

// Standard input that gives `head`, then gives `tail` only once `needle` was
// written (or after a bounded wait, when it never is), as a portal service
// that keeps its pipe open would. Records whether it had to wait in vain.
class InputAfter : public std::streambuf {
 public:
  InputAfter(std::string head, std::string tail, Seen& seen, std::string needle)
      : head_(std::move(head)), tail_(std::move(tail)), seen_(seen), needle_(std::move(needle)) {
    setg(head_.data(), head_.data(), head_.data() + head_.size());
  }
  bool seen_before_the_end = false;

 protected:
  int_type underflow() override {
    if (gave_tail_) return traits_type::eof();
    gave_tail_ = true;
    seen_before_the_end = seen_.wait_for(needle_, std::chrono::seconds(60));
    setg(tail_.data(), tail_.data(), tail_.data() + tail_.size());
    return tail_.empty() ? traits_type::eof() : traits_type::to_int_type(tail_[0]);
  }

 private:
  std::string head_;
  std::string tail_;
  Seen& seen_;
  std::string needle_;
  bool gave_tail_ = false;
};

std::string good_lines(int from, int count) {
  std::string out;
  for (int i = from; i < from + count; ++i) {
    out += fmt::format(
        R"({{"type":"CaseOpened","event_id":"e{}","occurred_at":"2015-06-01T08:00:00Z",)"
        R"("case_id":"case-{}","currency":"USD","goal":"1500.00"}})",
        i, i);
    out += '\n';
  }
  return out;
}

struct StreamedRun {
  int code = -1;
  bool seen_before_the_end = false;
  std::string out;
  std::string err;
};

// Publishes a refused line 1 and more than a chunk (1,024 lines) of good
// lines, then the rest of the input only once `needle` shows on `watched`.
StreamedRun publish_watching(bool json, const std::string& needle) {
  TempDir dir;
  Seen out_seen;
  Seen err_seen;
  Seen& watched = json ? out_seen : err_seen;
  InputAfter input_buffer("not json\n" + good_lines(2, 3'000), good_lines(3'002, 10) + "{}\n",
                          watched, needle);
  std::istream in(&input_buffer);
  RecordingBuffer out_buffer(out_seen);
  RecordingBuffer err_buffer(err_seen);
  std::ostream out(&out_buffer);
  std::ostream err(&err_buffer);
  std::vector<std::string> args = {"homeward", "--data", dir.path().string(), "publish", "-"};
  if (json) args.push_back("--json");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  StreamedRun run;
  run.code = connectors::run_cli(static_cast<int>(argv.size()), argv.data(),
                                 connectors::CliStreams{in, out, err, false});
  run.seen_before_the_end = input_buffer.seen_before_the_end;
  run.out = out_seen.text();
  run.err = err_seen.text();
  return run;
}

TEST(PublishStreamTest, ARefusalIsOnStderrBeforeTheInputEnds) {
  const StreamedRun run = publish_watching(false, "line 1: ");
  EXPECT_TRUE(run.seen_before_the_end) << run.err;
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.err.rfind("line 1: not JSON", 0), 0u) << run.err;
  EXPECT_NE(run.err.find("\nline 3012: "), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "appended 3010, refused 2\n");
}

TEST(PublishStreamTest, ARefusalIsInTheJsonDocumentBeforeTheInputEnds) {
  const StreamedRun run = publish_watching(true, R"({"refused":[{"line":1,)");
  EXPECT_TRUE(run.seen_before_the_end) << run.out;
  EXPECT_EQ(run.code, 3);
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << run.out;
  const nlohmann::json document = nlohmann::json::parse(run.out);
  EXPECT_EQ(document["appended"], 3010);
  EXPECT_EQ(document["failed"], nlohmann::json::array());
  ASSERT_EQ(document["refused"].size(), 2u);
  EXPECT_EQ(document["refused"][0]["line"], 1);
  EXPECT_EQ(document["refused"][1]["line"], 3012);
  EXPECT_EQ(document["refused"][1]["field"], "type");
}

// A document begun with streamed refusals is still one JSON document when
// the publish then fails: it ends with the error.
TEST(PublishStreamTest, AJsonDocumentBegunIsClosedWithTheErrorWhenThePublishFails) {
  TempDir dir;
  FailingAfter input_buffer("not json\n" + good_lines(2, 3'000));
  std::istream in(&input_buffer);
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string> args = {"homeward", "--data", dir.path().string(),
                                         "publish",  "-",      "--json"};
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  const int code = connectors::run_cli(static_cast<int>(argv.size()), argv.data(),
                                       connectors::CliStreams{in, out, err, false});
  EXPECT_EQ(code, 1);
  const nlohmann::json document = nlohmann::json::parse(out.str());
  ASSERT_EQ(document["refused"].size(), 1u) << out.str();
  EXPECT_EQ(document["refused"][0]["line"], 1);
  EXPECT_NE(document["error"].get<std::string>().find("reading the input failed"),
            std::string::npos)
      << out.str();
  EXPECT_NE(err.str().find("reading the input failed"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace homeward::testing
