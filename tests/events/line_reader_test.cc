// The bounded line reader under NDJSON input: lines as std::getline cuts
// them, a line over the limit refused without being held, and input without
// newlines given up on at a bound instead of read forever.
#include <gtest/gtest.h>

#include <cstdio>
#include <ios>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "events/line_reader.h"
#include "tests/support/test_streams.h"

namespace homeward::events {
namespace {

using Next = LineReader::Next;
using homeward::testing::EndlessZeros;
using homeward::testing::FailingAfter;

struct Read {
  std::vector<Next> outcomes;
  std::vector<std::string> lines;  // one per kLine
};

Read read_all(std::istream& input, size_t max_line, size_t max_skip = kMaxLineSkipBytes) {
  LineReader reader(input, max_line, max_skip);
  Read read;
  for (int guard = 0; guard < 1000; ++guard) {
    std::string line;
    const Next next = reader.next(line);
    read.outcomes.push_back(next);
    if (next == Next::kLine) read.lines.push_back(line);
    if (next == Next::kEnd) break;
  }
  return read;
}

Read read_all(const std::string& text, size_t max_line, size_t max_skip = kMaxLineSkipBytes) {
  std::istringstream input(text);
  return read_all(input, max_line, max_skip);
}

TEST(LineReader, CutsLinesAsGetlineDoes) {
  const Read read = read_all("a\n\nbc\r\nlast", 16);
  EXPECT_EQ(read.lines, (std::vector<std::string>{"a", "", "bc\r", "last"}));
  EXPECT_EQ(read.outcomes.back(), Next::kEnd);
  EXPECT_EQ(read.outcomes.size(), 5u);
  // A final newline does not start one more line.
  EXPECT_EQ(read_all("a\nb\n", 16).lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(read_all("", 16).outcomes, std::vector<Next>{Next::kEnd});
}

TEST(LineReader, ALineOfExactlyTheLimitIsReadAndOneByteMoreIsRefused) {
  const std::string at_limit(kMaxLineBytes, 'x');
  const std::string over(kMaxLineBytes + 1, 'y');
  const Read read = read_all(at_limit + "\n" + over + "\nnext\n" + over, kMaxLineBytes);
  EXPECT_EQ(read.outcomes, (std::vector<Next>{Next::kLine, Next::kTooLong, Next::kLine,
                                              Next::kTooLong, Next::kEnd}));
  ASSERT_EQ(read.lines.size(), 2u);
  EXPECT_EQ(read.lines[0], at_limit);
  EXPECT_EQ(read.lines[1], "next");
}

TEST(LineReader, ALongLineIsSkippedToItsEndAndTheNextLineIsRead) {
  // 5 MiB in one line: read past in pieces, never held.
  const std::string huge(5 * kMaxLineBytes + 17, 'z');
  const Read read = read_all("first\n" + huge + "\nafter\n", kMaxLineBytes);
  EXPECT_EQ(read.outcomes,
            (std::vector<Next>{Next::kLine, Next::kTooLong, Next::kLine, Next::kEnd}));
  EXPECT_EQ(read.lines, (std::vector<std::string>{"first", "after"}));
}

// Issue 11: an editor's UTF-8 byte order mark before the first line is
// skipped; one elsewhere stays in its line (and is refused there as not JSON).
TEST(LineReader, AByteOrderMarkAtTheStartOfTheInputIsSkipped) {
  EXPECT_EQ(read_all("\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBFx\n", 16).lines,
            (std::vector<std::string>{"{\"a\":1}", "\xEF\xBB\xBFx"}));
  EXPECT_EQ(read_all("\xEF\xBB\xBF", 16).lines, std::vector<std::string>{""});
  EXPECT_EQ(read_all("\xEF\xBBx\n", 16).lines, std::vector<std::string>{"\xEF\xBBx"});
  // Only the start of the input: not after an empty first line.
  EXPECT_EQ(read_all("\n\xEF\xBB\xBFy", 16).lines, (std::vector<std::string>{"", "\xEF\xBB\xBFy"}));
}

// Endless bytes without a newline, as /dev/zero gives; counts what it gave.
TEST(LineReader, InputWithoutNewlinesIsGivenUpOnAtTheSkipLimit) {
  EndlessZeros zeros;
  std::istream input(&zeros);
  const Read read = read_all(input, kMaxLineBytes);
  EXPECT_EQ(read.outcomes, (std::vector<Next>{Next::kNoEnd, Next::kEnd}));
  // The line's limit, then the skip limit, then at most one piece more.
  std::printf("EndlessZeros gave %zu bytes\n", zeros.given);
  EXPECT_GE(zeros.given, kMaxLineBytes + kMaxLineSkipBytes);
  EXPECT_LE(zeros.given, 2 * kMaxLineBytes + kMaxLineSkipBytes + 2 * 4096);
}

TEST(LineReader, AReadFailureIsReportedOnceAndThenTheEnd) {
  FailingAfter buffer("ok\npartial");
  std::istream input(&buffer);
  const Read read = read_all(input, 64);
  EXPECT_EQ(read.outcomes, (std::vector<Next>{Next::kLine, Next::kFailed, Next::kEnd}));
  EXPECT_EQ(read.lines, std::vector<std::string>{"ok"});
  // Also while the rest of an over-long line is skipped.
  FailingAfter long_line(std::string(100, 'q'));
  std::istream long_input(&long_line);
  EXPECT_EQ(read_all(long_input, 10).outcomes, (std::vector<Next>{Next::kFailed, Next::kEnd}));
}

}  // namespace
}  // namespace homeward::events
