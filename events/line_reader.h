// Reading NDJSON input line by line with a bound on every line (issue 14,
// "limits on everything").
//
// A line is at most kMaxLineBytes bytes (its newline not counted). A longer
// line is never held whole: the reader keeps its first kMaxLineBytes + 1
// bytes at most, then reads on in pieces of that size, dropping them, to the
// line's newline, so that the next line can be read. Input that has no
// newline at all (/dev/zero, a binary file, an endless pipe) is not NDJSON:
// once kMaxLineSkipBytes more bytes have passed without a newline, the reader
// stops and reads nothing more. Memory stays at one line's limit whatever
// the input. A UTF-8 byte order mark (EF BB BF) at the very start of the
// input is not part of the first line (editors on Windows write one); one
// anywhere else is left in its line, where it is not JSON. Not thread-safe; the stream belongs to
// the reader while it reads.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <string>

namespace homeward::events {

// The most bytes one NDJSON line may hold, newline not counted: 1 MiB. The
// longest event SPEC allows is a few KiB (identifiers of 128 characters, 280
// characters of free text, 8 budget lines), so this leaves room for any
// spacing or escaping and refuses only what cannot be an event.
inline constexpr size_t kMaxLineBytes = size_t{1} << 20;
// How far past the limit the end of an over-long line is looked for before
// the input is taken for something that is not NDJSON: 64 MiB.
inline constexpr size_t kMaxLineSkipBytes = size_t{64} << 20;

class LineReader {
 public:
  enum class Next {
    kLine,     // a line (possibly empty) was appended to `out`
    kTooLong,  // a line longer than the limit was read to its end and dropped
    kNoEnd,    // a line longer than the limit had no newline within the skip
               // limit: nothing more is read (kEnd from now on)
    kEnd,      // the input ended
    kFailed,   // reading failed (the stream went bad): kEnd from now on
  };

  explicit LineReader(std::istream& input, size_t max_line_bytes = kMaxLineBytes,
                      size_t max_skip_bytes = kMaxLineSkipBytes);

  // Reads the next line. Lines are std::getline's: a final line without a
  // newline counts, a final newline does not start one more. For kLine the
  // line's bytes, without its '\n', are appended to `out`; nothing is
  // appended otherwise. A stream whose exceptions() mask asks for it throws
  // from here.
  [[nodiscard]] Next next(std::string& out);

  [[nodiscard]] size_t max_line_bytes() const { return max_line_bytes_; }
  [[nodiscard]] size_t max_skip_bytes() const { return max_skip_bytes_; }

 private:
  // next() without the byte order mark.
  [[nodiscard]] Next read_line(std::string& out);
  // Reads the rest of an over-long line, to its newline.
  [[nodiscard]] Next skip_rest();

  std::istream& input_;
  const size_t max_line_bytes_;
  const size_t max_skip_bytes_;
  // max_line_bytes_ + 2: room for one byte more than the limit and the
  // terminating NUL that istream::getline writes.
  std::unique_ptr<char[]> buffer_;
  bool done_ = false;
  bool first_line_ = true;  // a byte order mark may start it
};

}  // namespace homeward::events
