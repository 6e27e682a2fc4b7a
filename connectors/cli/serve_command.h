// `homeward serve` as a function, for the serve command and for
// `homeward demo --serve` (commands_demo.cc), which serves the ledger it
// has just built. Not thread-safe: one serve per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/cli/command_context.h"

namespace homeward::connectors::cli {

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  size_t network_threads = 2;
  size_t worker_threads = 2;
  int64_t header_timeout_ms = 10'000;
  int64_t idle_timeout_ms = 60'000;
  size_t max_connections = 4096;
  size_t max_body_bytes = size_t{16} << 20;
  std::string tokens_file;
  double token_rate = 1000;  // requests per second per token
  size_t max_events = 10'000;
  int64_t public_window_ms = 60'000;
  // Case cards on each page of the public page at / (PublicPageOptions).
  int64_t public_page_cases = 24;
  // `homeward audit --out DIR`'s directory, shown on /ops; empty: none.
  std::string audit_dir;
  // What goes to standard output once the server listens: the address alone
  // (`serve`, for scripts), or a line naming the dashboard's URL (`demo`).
  bool announce_dashboard = false;
};

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
// it starts from then on. run_serve takes them on a thread of its own with
// sigtimedwait, which only works when no thread has them unblocked: a
// command that starts threads before serving (demo: RocksDB's background
// threads outlive the store that started them) calls this first.
void block_stop_signals();

// Serves --data DIR (the context's options) until SIGINT/SIGTERM or a
// failure of the follow loop; the exit code (kExitUsage for a bad
// --listen or --tokens).
[[nodiscard]] Result<int> run_serve(const ServeArgs& args, const CommandContext& context);

}  // namespace homeward::connectors::cli
