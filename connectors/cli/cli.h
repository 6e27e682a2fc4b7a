// The `homeward` command line: publish NDJSON into the log, bring the
// projections up to date, query them (human tables or the JSON documents of
// SPEC section 7), export the log back to NDJSON, and run the demo.
//
// Data layout of `--data DIR` (default `./homeward-data`):
//   DIR/log          the embedded event log (connectors/embedded_log), the truth
//   DIR/projections  the RocksDB projection store, derived and rebuildable
// Each is a RocksDB database, so one process at a time may use a DIR; a second
// gets "busy" (exit 1).
//
// Exit codes: 0 ok; 1 error (unreadable input, busy store, unknown case, I/O);
// 2 usage error (bad arguments); 3 `publish` refused some lines or `export`
// skipped malformed records (the rest was done); 130 `publish` stopped by
// SIGINT or SIGTERM before the end of its input (publishing.h).
//
// run_cli is the whole CLI and the process edge: it catches argument errors
// and any exception, and prints only to the streams it is given, so tests run
// commands in-process. It sets spdlog's default logger (stderr) and is
// therefore not thread-safe: one run_cli at a time per process.
#pragma once

#include <iosfwd>

namespace homeward::connectors {

// The streams of one run. `in` is read by `publish -`. `err_is_terminal` turns
// on the self-overwriting progress line (never with --quiet).
struct CliStreams {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool err_is_terminal = false;
  // The descriptor `in` reads (STDIN_FILENO for std::cin), or -1.
  int in_fd = -1;
};

// Runs one command line (argv[0] is the program name) and returns its exit
// code. Reads std::cin for `publish -`; shows progress only when `err` is
// std::cerr and standard error is a terminal.
[[nodiscard]] int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

// The same with every stream named, for tests and embedding.
[[nodiscard]] int run_cli(int argc, const char* const* argv, const CliStreams& streams);

}  // namespace homeward::connectors
