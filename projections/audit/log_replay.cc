// The audit's replay (see log_replay.h).
#include "projections/audit/log_replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "events/check.h"

namespace homeward::projections::audit {

// The log reader the replay's Projector reads through: it can stop at given
// positions, and it remembers where reading failed so that the fault can be
// located.
class LogReplay::CappedReader final : public engine::EventLogReader {
 public:
  explicit CappedReader(engine::EventLogReader& inner) : inner_(inner) {}

  void set_limit(std::optional<engine::OffsetMap> limit) { limit_ = std::move(limit); }
  [[nodiscard]] const std::optional<Error>& read_error() const { return read_error_; }

  Status seek(const engine::OffsetMap& next_offsets) override {
    positions_ = next_offsets;
    return inner_.seek(next_offsets);
  }

  Status read(size_t max_records, std::chrono::milliseconds wait,
              engine::RecordBatch& batch) override {
    if (limit_) {
      // Never ask for more than the limit leaves, so that a single-partition
      // log is not read past it (a fault beyond the limit belongs to the next
      // run).
      int64_t left = 0;
      for (const auto& [partition, end] : *limit_) {
        left += std::max<int64_t>(0, end.value() - position(partition).value());
      }
      if (left == 0) {
        batch.records.clear();
        return {};
      }
      max_records = std::min<size_t>(max_records, static_cast<size_t>(left));
    }
    if (auto read = inner_.read(max_records, wait, batch); !read) {
      read_error_ = read.error();
      return read;
    }
    if (limit_) {
      std::erase_if(batch.records, [this](const engine::LogRecord& record) {
        const auto it = limit_->find(record.partition);
        return it == limit_->end() || record.offset >= it->second;
      });
      // A position past a gap goes no further than the limit either.
      for (auto it = batch.skipped_to.begin(); it != batch.skipped_to.end();) {
        const auto cap = limit_->find(it->first);
        if (cap == limit_->end()) {
          it = batch.skipped_to.erase(it);
          continue;
        }
        it->second = std::min(it->second, cap->second);
        ++it;
      }
    }
    for (const engine::LogRecord& record : batch.records) {
      positions_[record.partition] = Offset(record.offset.value() + 1);
    }
    for (const auto& [partition, next_offset] : batch.skipped_to) {
      Offset& position = positions_[partition];
      position = std::max(position, next_offset);
    }
    return {};
  }

  Result<engine::OffsetMap> end_offsets() override {
    auto end = inner_.end_offsets();
    if (!end || !limit_) return end;
    engine::OffsetMap capped;
    for (const auto& [partition, offset] : *end) {
      const auto it = limit_->find(partition);
      capped[partition] = it == limit_->end() ? Offset(0) : std::min(offset, it->second);
    }
    return capped;
  }

  // After a failed read: re-reads one record at a time from where the failed
  // read began, to find the first offset the log cannot deliver.
  LogFault locate_fault(size_t max_probes) {
    LogFault fault;
    fault.message = read_error_ ? read_error_->message : "the log failed";
    if (auto sought = inner_.seek(positions_); !sought) {
      fault.message += fmt::format(" (locating it failed: {})", sought.error().message);
      return fault;
    }
    engine::RecordBatch one;
    for (size_t probe = 0; probe <= max_probes; ++probe) {
      auto read = inner_.read(1, std::chrono::milliseconds(0), one);
      if (!read) {
        fault.message = read.error().message;
        break;
      }
      if (one.records.empty()) break;
      for (const engine::LogRecord& record : one.records) {
        positions_[record.partition] = Offset(record.offset.value() + 1);
      }
    }
    if (positions_.size() == 1) {
      fault.partition = positions_.begin()->first;
      fault.offset = positions_.begin()->second;
    } else if (positions_.empty()) {
      fault.partition = Partition(0);
      fault.offset = Offset(0);
    }
    return fault;
  }

 private:
  Offset position(Partition partition) const {
    const auto it = positions_.find(partition);
    return it == positions_.end() ? Offset(0) : it->second;
  }

  engine::EventLogReader& inner_;
  std::optional<engine::OffsetMap> limit_;
  engine::OffsetMap positions_;  // next offset to deliver, per partition
  std::optional<Error> read_error_;
};

// The second fold: the chain and the applied amounts, straight from each
// record and its outcome.
class LogReplay::Fold final : public engine::ProjectionObserver {
 public:
  void watch(Partition partition, Offset next_offset) { watches_[partition].insert(next_offset); }

  void on_record(const engine::LogRecord& record, const events::Event* event,
                 const engine::Outcome& outcome) override {
    ++records_read_;
    advance_chain(record);
    if (event != nullptr && outcome.disposition == engine::Disposition::kApplied) apply(*event);
  }

  // Offsets without records (transaction markers): the chain stays, its
  // position moves, and a watched position inside the gap has the head of
  // the last record before it.
  void on_skip(Partition partition, Offset next_offset) override {
    engine::PartitionCheckpoint& chain = chain_[partition];
    if (next_offset <= chain.next_offset) return;
    if (const auto it = watches_.find(partition); it != watches_.end()) {
      std::set<Offset>& pending = it->second;
      while (!pending.empty() && *pending.begin() <= next_offset) {
        heads_at_[{partition, *pending.begin()}] = chain.chain_head;
        pending.erase(pending.begin());
      }
    }
    chain.next_offset = next_offset;
    if (chain.next_offset.value() % engine::kChainWindowRecords == 0) {
      window_heads_[partition][chain.next_offset] = chain.chain_head;
    }
  }

  std::optional<engine::ChainHead> head_at(Partition partition, Offset next_offset) const {
    if (const auto it = heads_at_.find({partition, next_offset}); it != heads_at_.end()) {
      return it->second;
    }
    // Not passed by any record: the head is the current one when no record
    // at or after that offset was read yet and the replay got that far.
    const auto chain = chain_.find(partition);
    const Offset reached = chain == chain_.end() ? Offset(0) : chain->second.next_offset;
    if (next_offset > reached) return std::nullopt;
    return chain == chain_.end() ? engine::ChainHead{} : chain->second.chain_head;
  }

  std::map<std::string, CurrencyFlows> flows_by_currency() const {
    std::map<std::string, CurrencyFlows> flows;
    for (const auto& [code, figures] : flows_) flows.emplace(std::string(code.data(), 3), figures);
    return flows;
  }

  int64_t records_read_ = 0;
  engine::Checkpoints chain_;
  std::map<Partition, std::map<Offset, engine::ChainHead>> window_heads_;
  std::unordered_map<std::string, int64_t> chargebacks_;
  std::vector<std::string> problems_;

 private:
  struct Pledge {
    MinorUnits amount;
    events::Currency currency;
  };

  void advance_chain(const engine::LogRecord& record) {
    engine::PartitionCheckpoint& chain = chain_[record.partition];
    if (const auto it = watches_.find(record.partition); it != watches_.end()) {
      std::set<Offset>& pending = it->second;
      while (!pending.empty() && *pending.begin() <= record.offset) {
        heads_at_[{record.partition, *pending.begin()}] = chain.chain_head;
        pending.erase(pending.begin());
      }
    }
    chain.chain_head = engine::next_chain_head(chain.chain_head, record.offset, record.value);
    chain.next_offset = Offset(record.offset.value() + 1);
    if (chain.next_offset.value() % engine::kChainWindowRecords == 0) {
      window_heads_[record.partition][chain.next_offset] = chain.chain_head;
    }
  }

  CurrencyFlows& flows(const events::Currency& currency) {
    CurrencyFlows& figures = flows_[currency.code];
    figures.exponent = currency.exponent;
    return figures;
  }

  static std::string pledge_key(const std::string& case_id, const std::string& pledge_id) {
    std::string key;
    key.reserve(case_id.size() + 1 + pledge_id.size());
    key.append(case_id).push_back('\0');
    key.append(pledge_id);
    return key;
  }

  void apply(const events::Event& event) {
    switch (event.type()) {
      case events::EventType::kCaseOpened:
        flows(std::get<events::CaseOpened>(event.body).plan.currency);
        break;
      case events::EventType::kCaseGoalChanged:
      case events::EventType::kCaseClosed:
        break;
      case events::EventType::kDonationReceived: {
        const auto& body = std::get<events::DonationReceived>(event.body);
        flows(body.currency).received += body.amount.value();
        break;
      }
      case events::EventType::kPledgeMade: {
        const auto& body = std::get<events::PledgeMade>(event.body);
        flows(body.currency).pledged += body.amount.value();
        pledges_.insert_or_assign(pledge_key(event.case_id, event.event_id),
                                  Pledge{body.amount, body.currency});
        break;
      }
      case events::EventType::kPledgeFulfilled:
      case events::EventType::kPledgeCancelled: {
        const bool fulfilled = event.type() == events::EventType::kPledgeFulfilled;
        const std::string& pledge_id =
            fulfilled ? std::get<events::PledgeFulfilled>(event.body).pledge_id
                      : std::get<events::PledgeCancelled>(event.body).pledge_id;
        const auto it = pledges_.find(pledge_key(event.case_id, pledge_id));
        if (it == pledges_.end()) {
          problems_.push_back(
              fmt::format("case {}: event {} settled pledge {}, which no applied PledgeMade opened",
                          event.case_id, event.event_id, pledge_id));
          break;
        }
        CurrencyFlows& figures = flows(it->second.currency);
        figures.pledged -= it->second.amount.value();
        if (fulfilled) figures.received += it->second.amount.value();
        pledges_.erase(it);  // a settled pledge is never settled again
        break;
      }
      case events::EventType::kRefundIssued: {
        const auto& body = std::get<events::RefundIssued>(event.body);
        flows(body.currency).refunded += body.amount.value();
        if (body.reason == events::RefundReason::kChargeback) ++chargebacks_[event.case_id];
        break;
      }
      case events::EventType::kFundsDisbursed: {
        const auto& body = std::get<events::FundsDisbursed>(event.body);
        flows(body.currency).disbursed += body.amount.value();
        break;
      }
    }
  }

  std::map<Partition, std::set<Offset>> watches_;
  std::map<std::pair<Partition, Offset>, engine::ChainHead> heads_at_;
  std::map<std::array<char, 3>, CurrencyFlows> flows_;
  std::unordered_map<std::string, Pledge> pledges_;  // outstanding, by case \0 pledge id
};

LogReplay::LogReplay(engine::EventLogReader& log, RocksProjectionStore& store,
                     size_t batch_events_max)
    : store_(store),
      reader_(std::make_unique<CappedReader>(log)),
      fold_(std::make_unique<Fold>()),
      batch_events_max_(batch_events_max) {
  engine::ProjectorOptions options;
  options.batch_events_max = batch_events_max;
  // A replay of the whole log, like `project --rebuild`: batches grow with
  // the cases held (engine/projector.h).
  options.batch_events_per_case = 3;
  options.observer = fold_.get();
  projector_ = std::make_unique<engine::Projector>(*reader_, store_, options);
}

LogReplay::~LogReplay() = default;

void LogReplay::watch(Partition partition, Offset next_offset) {
  fold_->watch(partition, next_offset);
}

Status LogReplay::run(const std::optional<engine::OffsetMap>& limit) {
  if (fault_) return {};
  reader_->set_limit(limit);
  engine::ProgressCallback progress;
  if (progress_) {
    progress = [this](const engine::ProjectionProgress&) { progress_(records_read()); };
  }
  auto report = projector_->catch_up(progress);
  reader_->set_limit(std::nullopt);
  if (report) return {};
  // Bytes the log holds but cannot deliver (a missing offset, a damaged
  // file) are a finding about the log; anything else stops the audit.
  if (reader_->read_error() && reader_->read_error()->code == ErrorCode::kCorruption) {
    fault_ = reader_->locate_fault(batch_events_max_);
    return {};
  }
  return std::unexpected(std::move(report.error()));
}

Result<engine::Checkpoints> LogReplay::checkpoints() { return store_.load_checkpoints(); }

const engine::Checkpoints& LogReplay::own_chain() const { return fold_->chain_; }

std::optional<engine::ChainHead> LogReplay::head_at(Partition partition, Offset next_offset) const {
  return fold_->head_at(partition, next_offset);
}

const std::map<Partition, std::map<Offset, engine::ChainHead>>& LogReplay::window_heads() const {
  return fold_->window_heads_;
}

int64_t LogReplay::records_read() const { return fold_->records_read_; }

std::map<std::string, CurrencyFlows> LogReplay::flows_by_currency() const {
  return fold_->flows_by_currency();
}

const std::unordered_map<std::string, int64_t>& LogReplay::chargebacks_by_case() const {
  return fold_->chargebacks_;
}

const std::vector<std::string>& LogReplay::fold_problems() const { return fold_->problems_; }

const std::optional<LogFault>& LogReplay::fault() const { return fault_; }

}  // namespace homeward::projections::audit
