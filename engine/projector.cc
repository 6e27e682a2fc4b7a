// The projector loop (see projector.h).
//
// Exactly-once comes from the store, not from here: each batch's cases,
// rejections, totals and positions go to the store in one commit, so after a
// crash a new Projector resumes at the positions that match the state. This
// file's job is to make each batch's commit complete and deterministic: the
// same records always produce the same commits, whatever the batch size.
#include "engine/projector.h"

#include <openssl/evp.h>

#include <algorithm>
#include <future>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "engine/rules.h"
#include "events/check.h"
#include "events/codec.h"
#include "events/identifier.h"

namespace homeward::engine {
namespace {

// How many empty reads in a row, before the target is reached, mean the log
// stopped delivering (a broker gone, records removed under us) rather than a
// slow fetch. With the default 100 ms wait this is about a minute.
constexpr int kMaxConsecutiveEmptyReads = 600;

// One digest context per thread, reused: allocating an EVP_MD_CTX per record
// would cost more than hashing a small event. The SHA-256 implementation is
// fetched once too: EVP_sha256() in EVP_DigestInit_ex makes OpenSSL 3 look
// the algorithm up again on every record, which cost more than hashing a
// 150-byte event (bench/micro: BM_ChainHead).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()), md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
    HOMEWARD_CHECK(ctx_ != nullptr, "EVP_MD_CTX_new failed");
    HOMEWARD_CHECK(md_ != nullptr, "OpenSSL has no SHA256");
  }
  ~Sha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  EVP_MD_CTX* get() { return ctx_; }
  const EVP_MD* md() const { return md_; }

 private:
  EVP_MD_CTX* ctx_;
  EVP_MD* md_;
};

int64_t lag(const OffsetMap& target, const Checkpoints& checkpoints) {
  int64_t behind = 0;
  for (const auto& [partition, end] : target) {
    const auto it = checkpoints.find(partition);
    const int64_t position = it == checkpoints.end() ? 0 : it->second.next_offset.value();
    behind += std::max<int64_t>(0, end.value() - position);
  }
  return behind;
}

}  // namespace

ChainHead next_chain_head(const ChainHead& previous, Offset offset, std::string_view value) {
  thread_local Sha256 sha;
  std::array<unsigned char, 8> offset_bytes{};
  auto raw = static_cast<uint64_t>(offset.value());
  for (size_t i = 0; i < offset_bytes.size(); ++i) {
    offset_bytes[offset_bytes.size() - 1 - i] = static_cast<unsigned char>(raw & 0xffU);
    raw >>= 8;
  }
  ChainHead next{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = sha.get();
  const bool ok = EVP_DigestInit_ex2(ctx, sha.md(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, previous.data(), previous.size()) == 1 &&
                  EVP_DigestUpdate(ctx, offset_bytes.data(), offset_bytes.size()) == 1 &&
                  EVP_DigestUpdate(ctx, value.data(), value.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, next.data(), &size) == 1;
  // SHA-256 over memory cannot fail short of a broken OpenSSL installation.
  HOMEWARD_CHECK(ok && size == next.size(), "OpenSSL SHA-256 failed");
  return next;
}

Projector::Projector(EventLogReader& log, ProjectionStore& store, ProjectorOptions options)
    : log_(log), store_(store), options_(options) {
  HOMEWARD_CHECK(options_.batch_events_max > 0, "batch_events_max must be positive");
}

Status Projector::start() {
  if (started_) return {};
  auto checkpoints = store_.load_checkpoints();
  if (!checkpoints) return std::unexpected(std::move(checkpoints.error()));
  auto totals = store_.load_totals();
  if (!totals) return std::unexpected(std::move(totals.error()));
  // A restart mid-window keeps filling the chain index segment it left.
  for (const auto& [partition, checkpoint] : *checkpoints) {
    auto segment = store_.load_open_chain_segment(partition, checkpoint.next_offset);
    if (!segment) return std::unexpected(std::move(segment.error()));
    chain_index_.resume(std::move(*segment));
  }
  checkpoints_ = std::move(*checkpoints);
  totals_ = *totals;
  started_ = true;
  return {};
}

Result<CatchUpReport> Projector::catch_up(const ProgressCallback& progress) {
  if (failed_) {
    return make_error(ErrorCode::kInternal,
                      "projector: an earlier error left it ahead of the store; create a new "
                      "Projector to resume from the last commit");
  }
  // Any error below may leave in-memory cases ahead of the store.
  failed_ = true;
  if (auto started = start(); !started) return std::unexpected(std::move(started.error()));

  OffsetMap positions;
  for (const auto& [partition, checkpoint] : checkpoints_) {
    positions.emplace(partition, checkpoint.next_offset);
  }
  if (auto sought = log_.seek(positions); !sought) {
    return std::unexpected(std::move(sought.error()));
  }
  auto target = log_.end_offsets();
  if (!target) return std::unexpected(std::move(target.error()));

  CatchUpReport report;
  // Where the chain of each partition stands for the records read so far:
  // preparing runs a batch ahead of projecting (see PreparedBatch).
  Checkpoints read_positions = checkpoints_;
  PreparedBatch batch;
  // The next batch is read and prepared on another thread while this one is
  // folded (the log's read, verify, decode and SHA-256 were a third of a
  // replay's folding thread). The reader is still used by one thread at a
  // time: this one waits for the prefetch before it reads again or returns.
  // Everything the prefetch uses (`read_positions`, `prefetched`,
  // `read_and_prepare`) is declared before `prefetch`, whose destructor waits
  // for it: an early return then destroys them only after the prefetch ended
  // (AddressSanitizer found the lambda destroyed under a running prefetch).
  PreparedBatch prefetched;
  auto read_and_prepare = [this, &read_positions](PreparedBatch& into, size_t events) -> Status {
    // A log that knows no gaps may leave it alone; the last batch's must not
    // be applied again.
    into.batch.skipped_to.clear();
    if (auto read = log_.read(events, options_.read_wait, into.batch); !read) return read;
    prepare_batch(into, read_positions);
    return {};
  };
  std::future<Status> prefetch;
  auto start_prefetch = [&] {
    // Sized here, on this thread: the fold changes the number of cases.
    const size_t events = next_batch_events();
    try {
      prefetch = std::async(std::launch::async, [&read_and_prepare, &prefetched, events] {
        return read_and_prepare(prefetched, events);
      });
    } catch (const std::system_error&) {
      // No thread to be had: the next read happens on this thread instead.
    }
  };
  int empty_reads = 0;
  while (lag(*target, checkpoints_) > 0) {
    Status read;
    if (prefetch.valid()) {
      read = prefetch.get();
      std::swap(batch, prefetched);
    } else {
      read = read_and_prepare(batch, next_batch_events());
    }
    if (!read) return std::unexpected(std::move(read.error()));
    if (batch.batch.records.empty() && batch.batch.skipped_to.empty()) {
      if (++empty_reads >= kMaxConsecutiveEmptyReads) {
        return make_error(ErrorCode::kUnavailable,
                          fmt::format("projector: the log stopped delivering records with {} "
                                      "still to read before its end offsets",
                                      lag(*target, checkpoints_)));
      }
      continue;
    }
    empty_reads = 0;
    // Only when records remain beyond this batch: a read past the end would
    // wait for new records (read_wait) for nothing.
    if (lag(*target, checkpoints_) > static_cast<int64_t>(batch.batch.records.size())) {
      start_prefetch();
    }
    auto projected = project_batch(batch);
    if (!projected) return std::unexpected(std::move(projected.error()));
    if (*projected == 0) continue;
    report.events_read += *projected;
    ++report.batches_committed;
    if (progress) progress(ProjectionProgress{report.events_read, lag(*target, checkpoints_)});
  }
  // A prefetch still running here reads past the target (the estimate above
  // counted records beyond it): its records are not projected, and its
  // outcome is not this catch-up's, since the next catch_up seeks back to the
  // stored positions, reads those records again and reports any failure then.
  if (prefetch.valid()) prefetch.wait();
  if (auto written = store_.wait_for_commits(); !written) {
    return std::unexpected(std::move(written.error()));
  }
  failed_ = false;
  return report;
}

void Projector::prepare_batch(PreparedBatch& prepared, Checkpoints& read_positions) const {
  prepared.records.clear();
  prepared.records.reserve(prepared.batch.records.size());
  for (const LogRecord& record : prepared.batch.records) {
    PreparedRecord& out = prepared.records.emplace_back();
    PartitionCheckpoint& position = read_positions[record.partition];
    // A redelivered record (Kafka after a rebalance) was already projected
    // and committed: counting it again would break exactly-once.
    if (record.offset < position.next_offset) {
      out.redelivered = true;
      continue;
    }
    position.chain_head = next_chain_head(position.chain_head, record.offset, record.value);
    position.next_offset = Offset{record.offset.value() + 1};
    out.chain_head = position.chain_head;
    out.event = events::decode_record(record.key, record.value);
    if (*out.event) out.fingerprint = events::fingerprint(**out.event);
  }
  // Past offsets without records: the chain, which covers records only,
  // stays where the last record left it.
  for (const auto& [partition, next_offset] : prepared.batch.skipped_to) {
    PartitionCheckpoint& position = read_positions[partition];
    if (next_offset > position.next_offset) position.next_offset = next_offset;
  }
}

Result<int64_t> Projector::project_batch(PreparedBatch& prepared) {
  std::vector<CaseLedger*> touched;  // in order of first touch, for a deterministic commit
  std::vector<RejectionRecord> rejections;
  int64_t projected = 0;

  HOMEWARD_CHECK(prepared.records.size() == prepared.batch.records.size(),
                 "a batch was projected without being prepared");
  // The fold waits on memory more than it computes: a few events ahead, the
  // slots their lookups will touch are asked into the cache (the case's
  // ledger is found then too, which brings its entry in the case table).
  constexpr size_t kPrefetchDistance = 8;
  auto prefetch = [&](size_t at) {
    if (at >= prepared.records.size()) return;
    const PreparedRecord& ahead = prepared.records[at];
    if (ahead.redelivered || !ahead.event.has_value() || !*ahead.event) return;
    const events::Event& event = **ahead.event;
    if (const auto it = cases_.find(event.case_id); it != cases_.end()) {
      it->second.ledger->prefetch_for(event);
    }
  };
  for (size_t i = 0; i < kPrefetchDistance; ++i) prefetch(i);
  for (size_t i = 0; i < prepared.batch.records.size(); ++i) {
    prefetch(i + kPrefetchDistance);
    LogRecord& record = prepared.batch.records[i];
    PreparedRecord& ready = prepared.records[i];
    if (ready.redelivered) continue;
    PartitionCheckpoint& checkpoint = checkpoints_[record.partition];
    // Prepared in log order from the same positions: it must follow on.
    HOMEWARD_CHECK(record.offset >= checkpoint.next_offset,
                   "a prepared record is behind the projected positions");
    checkpoint.chain_head = ready.chain_head;
    checkpoint.next_offset = Offset{record.offset.value() + 1};
    chain_index_.add(record.partition, record.offset, checkpoint.chain_head);
    ++projected;

    HOMEWARD_CHECK(ready.event.has_value(), "a prepared record has no decoding");
    Result<events::Event>& event = *ready.event;
    if (!event) {
      // Malformed bytes belong to no case: they are listed and counted in the
      // totals, but never enter a case's handled ids or counters.
      const events::PartialIdentity identity = events::peek_identity(record.value);
      RejectionRecord& rejection = rejections.emplace_back();
      if (identity.case_id) {
        rejection.case_id = *identity.case_id;
      } else if (events::is_valid_identifier(record.key)) {
        rejection.case_id = record.key;
      }
      rejection.event_id = identity.event_id.value_or(std::string());
      rejection.type = identity.type;
      rejection.reason = RejectReason::kMalformed;
      rejection.partition = record.partition;
      rejection.offset = record.offset;
      rejection.detail = std::move(event.error().message);
      totals_.count(Outcome::rejected(RejectReason::kMalformed));
      if (options_.observer != nullptr) {
        options_.observer->on_record(record, nullptr, Outcome::rejected(RejectReason::kMalformed));
      }
      continue;
    }

    auto ledger = find_or_load_case(event->case_id);
    if (!ledger) return std::unexpected(std::move(ledger.error()));
    CaseLedger& the_case = **ledger;
    // Every handled event marks its case's summary dirty, and every case's
    // dirty records are cleared after each commit: a case with nothing dirty
    // is touched for the first time in this batch.
    if (the_case.dirty.empty()) touched.push_back(&the_case);
    auto handled = handle_event(the_case, *event, ready.fingerprint);
    if (!handled) return std::unexpected(std::move(handled.error()));
    const Outcome outcome = *handled;
    totals_.count(outcome);
    if (outcome.disposition == Disposition::kRejected) {
      RejectionRecord& rejection = rejections.emplace_back();
      rejection.case_id = event->case_id;
      rejection.event_id = event->event_id;
      rejection.type = event->type();
      rejection.reason = outcome.reason;
      rejection.partition = record.partition;
      rejection.offset = record.offset;
    }
    if (options_.observer != nullptr) options_.observer->on_record(record, &*event, outcome);
    // Every decoded event goes to its case's history, after the case folded
    // it. The bytes move into the case: this is the last use of record.value.
    the_case.dirty.history.push_back(
        HistoryEvent{record.partition, record.offset, std::move(record.value)});
  }
  // Positions past offsets without records come after every record of the
  // batch in their partition.
  bool skipped = false;
  for (const auto& [partition, next_offset] : prepared.batch.skipped_to) {
    PartitionCheckpoint& checkpoint = checkpoints_[partition];
    if (next_offset <= checkpoint.next_offset) continue;
    checkpoint.next_offset = next_offset;
    skipped = true;
    if (options_.observer != nullptr) options_.observer->on_skip(partition, next_offset);
  }
  if (projected == 0 && !skipped) return projected;

  BatchCommit commit;
  commit.chain_segments = chain_index_.take();
  commit.cases.assign(touched.begin(), touched.end());
  commit.rejections = std::move(rejections);
  commit.totals = totals_;
  commit.checkpoints = checkpoints_;
  // Written while the next batch is read and folded; a failure shows at the
  // next batch or at the end of catch_up, and the store stays at a batch
  // boundary either way.
  if (auto committed = store_.commit_pipelined(commit); !committed) {
    return std::unexpected(std::move(committed.error()));
  }
  for (CaseLedger* ledger : touched) {
    ledger->dirty.clear();
    CachedCase& cached = cases_.at(ledger->case_id);
    const size_t bytes = ledger->memory_bytes() + sizeof(CaseLedger);
    cached_bytes_ = cached_bytes_ - cached.bytes + bytes;
    cached.bytes = bytes;
  }
  evict_cases();
  return projected;
}

void Projector::evict_cases() {
  while (cached_bytes_ > options_.case_cache_bytes && !recency_.empty()) {
    const auto it = cases_.find(recency_.back());
    HOMEWARD_CHECK(it != cases_.end(), "a case in the recency list is not cached");
    // Only committed cases are dropped: the store holds all of them.
    HOMEWARD_CHECK(it->second.ledger->dirty.empty(), "a dirty case was about to be evicted");
    cached_bytes_ -= it->second.bytes;
    cases_.erase(it);
    recency_.pop_back();
  }
}

size_t Projector::next_batch_events() const {
  if (options_.batch_events_per_case == 0) return options_.batch_events_max;
  const size_t grown = options_.batch_events_per_case * cases_.size();
  return std::max(options_.batch_events_max, std::min(grown, options_.batch_events_cap));
}

Result<CaseLedger*> Projector::find_or_load_case(const std::string& case_id) {
  if (const auto it = cases_.find(case_id); it != cases_.end()) {
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return it->second.ledger.get();
  }
  auto loaded = store_.load_case(case_id);
  if (!loaded) return std::unexpected(std::move(loaded.error()));
  auto ledger = std::make_unique<CaseLedger>();
  if (loaded->has_value()) {
    *ledger = std::move(**loaded);
    if (ledger->case_id != case_id) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("projector: the store returned case '{}' when asked for '{}'",
                                    ledger->case_id, case_id));
    }
  } else {
    ledger->case_id = case_id;
  }
  CaseLedger* raw = ledger.get();
  recency_.push_front(case_id);
  cases_.emplace(case_id, CachedCase{std::move(ledger), recency_.begin(), 0});
  return raw;
}

}  // namespace homeward::engine
