#include "events/line_reader.h"

#include <limits>
#include <string_view>

#include "events/check.h"

namespace homeward::events {

LineReader::LineReader(std::istream& input, size_t max_line_bytes, size_t max_skip_bytes)
    : input_(input),
      max_line_bytes_(max_line_bytes),
      max_skip_bytes_(max_skip_bytes),
      buffer_(std::make_unique<char[]>(max_line_bytes + 2)) {
  HOMEWARD_CHECK(
      max_line_bytes > 0 && max_line_bytes < std::numeric_limits<std::streamsize>::max() - 2,
      "a line limit must be positive and fit a streamsize");
}

// istream::getline(buffer, n) stores at most n - 1 bytes and stops after a
// newline (taken out of the stream, not stored, but counted in gcount()).
// After it: bad() means the read failed; eof() means the input ended before
// a newline; fail() without eof() means n - 1 bytes were stored and no
// newline followed them; otherwise the newline was read.
LineReader::Next LineReader::next(std::string& out) {
  if (done_) return Next::kEnd;
  const size_t start = out.size();
  const Next next = read_line(out);
  if (first_line_ && next != Next::kEnd) {
    first_line_ = false;
    constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
    if (next == Next::kLine && std::string_view(out).substr(start, 3) == kByteOrderMark) {
      out.erase(start, kByteOrderMark.size());
    }
  }
  return next;
}

LineReader::Next LineReader::read_line(std::string& out) {
  const auto room = static_cast<std::streamsize>(max_line_bytes_ + 2);
  input_.getline(buffer_.get(), room);
  const auto got = static_cast<size_t>(input_.gcount());
  if (input_.bad()) {
    done_ = true;
    return Next::kFailed;
  }
  if (input_.eof()) {
    done_ = true;
    if (got == 0) return Next::kEnd;
    if (got > max_line_bytes_) return Next::kTooLong;
    out.append(buffer_.get(), got);
    return Next::kLine;
  }
  if (input_.fail()) {
    // max_line_bytes_ + 1 bytes and still no newline.
    input_.clear();
    return skip_rest();
  }
  const size_t stored = got - 1;  // the newline was counted
  if (stored > max_line_bytes_) return Next::kTooLong;
  out.append(buffer_.get(), stored);
  return Next::kLine;
}

LineReader::Next LineReader::skip_rest() {
  const auto room = static_cast<std::streamsize>(max_line_bytes_ + 2);
  size_t skipped = 0;
  for (;;) {
    input_.getline(buffer_.get(), room);
    skipped += static_cast<size_t>(input_.gcount());
    if (input_.bad()) {
      done_ = true;
      return Next::kFailed;
    }
    if (input_.eof()) {
      done_ = true;
      return Next::kTooLong;
    }
    if (!input_.fail()) return Next::kTooLong;  // found the newline
    input_.clear();
    if (skipped >= max_skip_bytes_) {
      done_ = true;
      return Next::kNoEnd;
    }
  }
}

}  // namespace homeward::events
