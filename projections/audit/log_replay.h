// The audit's independent replay: the whole log, read again into a fresh
// store by a fresh Projector, plus a second, trivial fold over the same
// records that the replayed state is checked against.
//
// LogReplay owns nothing it is given: the log reader (used by one thread, this
// one) and the fresh store. Beside the Projector it keeps, per record:
//   - its own SHA-256 chain per partition (engine::next_chain_head), with the
//     heads at the positions it is asked to watch (the live store's positions,
//     an earlier report's) and at every multiple of kChainWindowRecords;
//   - per currency, the applied amounts summed straight from the events and
//     their outcomes (received, refunded, pledged, disbursed), and per case the
//     number of applied chargebacks;
//   - the number of records read.
// `run` can stop at given positions (to compare with a live store that is
// behind the log) and be called again to go on to the end. A record the log
// cannot deliver (a missing offset in the embedded log, unreadable bytes) is
// not an operational error here: it ends the replay and becomes `fault`,
// located at its first offset. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/event_log.h"
#include "engine/projection_store.h"
#include "engine/projector.h"
#include "events/error.h"
#include "events/money.h"
#include "projections/rocksdb_store.h"

namespace homeward::projections::audit {

// Applied amounts of one currency, summed over events (not over cases).
struct CurrencyFlows {
  events::WideMinorUnits received = 0;
  events::WideMinorUnits refunded = 0;
  events::WideMinorUnits pledged = 0;  // made minus fulfilled minus cancelled
  events::WideMinorUnits disbursed = 0;
  uint8_t exponent = 0;
};

// Where the log stopped delivering what it holds. The position is known
// exactly when the log has one partition (the embedded log); with several,
// only the message says.
struct LogFault {
  std::optional<Partition> partition;
  std::optional<Offset> offset;  // the first offset that could not be read
  std::string message;
};

class LogReplay {
 public:
  LogReplay(engine::EventLogReader& log, RocksProjectionStore& store, size_t batch_events_max);
  ~LogReplay();
  LogReplay(const LogReplay&) = delete;
  LogReplay& operator=(const LogReplay&) = delete;

  // Asks for the chain head at `next_offset` of `partition`: the head after
  // every record below that offset. Call before `run`.
  void watch(Partition partition, Offset next_offset);

  // Replays up to `limit` (per partition; a partition not named is not read)
  // or, without a limit, to the end offsets the log reports now. An error is
  // operational (the store failed, the log is unreachable); a log that cannot
  // deliver a record it holds sets `fault` and returns success. After a fault,
  // `run` does nothing.
  [[nodiscard]] Status run(const std::optional<engine::OffsetMap>& limit = std::nullopt);
  // Called as `run` goes, with records_read() so far (for a progress line).
  void on_progress(std::function<void(int64_t records_read)> progress) {
    progress_ = std::move(progress);
  }

  // The replay's positions and the Projector's chain heads, as committed.
  [[nodiscard]] Result<engine::Checkpoints> checkpoints();
  // This replay's own chain (see above): head and next offset per partition.
  [[nodiscard]] const engine::Checkpoints& own_chain() const;
  // The head at a watched position, when the replay got there.
  [[nodiscard]] std::optional<engine::ChainHead> head_at(Partition partition,
                                                         Offset next_offset) const;
  // Heads at every multiple of kChainWindowRecords, per partition.
  [[nodiscard]] const std::map<Partition, std::map<Offset, engine::ChainHead>>& window_heads()
      const;

  [[nodiscard]] int64_t records_read() const;
  // Every currency of an applied CaseOpened, by code.
  [[nodiscard]] std::map<std::string, CurrencyFlows> flows_by_currency() const;
  [[nodiscard]] const std::unordered_map<std::string, int64_t>& chargebacks_by_case() const;
  // Things the second fold could not reconcile (a fulfilled pledge it never
  // saw made): each is a bug in the rules, never expected.
  [[nodiscard]] const std::vector<std::string>& fold_problems() const;
  [[nodiscard]] const std::optional<LogFault>& fault() const;

 private:
  class CappedReader;
  class Fold;

  RocksProjectionStore& store_;
  std::unique_ptr<CappedReader> reader_;
  std::unique_ptr<Fold> fold_;
  std::unique_ptr<engine::Projector> projector_;
  std::optional<LogFault> fault_;
  size_t batch_events_max_;  // a failed read covers at most this many records
  std::function<void(int64_t)> progress_;
};

}  // namespace homeward::projections::audit
