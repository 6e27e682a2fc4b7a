// The change streams: GET /v1/changes (scope read) and GET /v1/public/changes
// (public), Server-Sent Events read from a ChangeFeed each (change_feed.h).
//
// /v1/changes: after every projector round, one `event: case` message per
// case the round changed, with the case's new figures (the
// `homeward case ID --json` document as of that round). The SSE id is the
// round's position and the case, `POSITION;CASE_ID` ("0:1042;case-xf"), in
// case_id order within a round.
//
// /v1/public/changes: the public view only (SPEC section 8), coalesced per
// case over a window (default 60 s): at the end of each window, one
// `event: case` message per case that changed during it, with its public
// view, then one `event: stats` with the public impact report. A watcher
// learns at most that a case changed within a window, never when a gift
// came. Its ids are a random word of the server process and a window
// number, `EPOCH.N;CASE_ID` (`;stats` for the report): no position (which
// counts rejected records too), no time.
//
// Thread-safe: on_round is called on the follow loop's thread; the window
// has a thread of its own, stopped by stop() or the destructor.
#pragma once

#include <absl/container/flat_hash_set.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "connectors/http/change_feed.h"
#include "connectors/http/ledger_routes.h"
#include "connectors/http/live_projection.h"
#include "connectors/http/router.h"

namespace homeward::connectors::http {

struct ChangeOptions {
  std::chrono::milliseconds public_window{60'000};
  size_t ring_messages = 100'000;
  size_t ring_bytes = size_t{64} << 20;
};

class ChangeStreams {
 public:
  ChangeStreams(LedgerApi& api, ChangeOptions options);
  ~ChangeStreams();
  ChangeStreams(const ChangeStreams&) = delete;
  ChangeStreams& operator=(const ChangeStreams&) = delete;

  // The live projection's round listener.
  void on_round(const RoundChanges& changes);
  void stop();

  // GET /v1/changes and GET /v1/public/changes.
  void add_routes(Router& router);

 private:
  void window_loop();
  void end_window();

  LedgerApi& api_;
  const ChangeOptions options_;
  std::shared_ptr<ChangeFeed> private_feed_;
  std::shared_ptr<ChangeFeed> public_feed_;
  const std::string epoch_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  absl::flat_hash_set<std::string> changed_in_window_;
  uint64_t window_ = 0;
  std::thread window_thread_;  // last: started after the members above
};

}  // namespace homeward::connectors::http
