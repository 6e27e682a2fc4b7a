#include "projections/audit/store_compare.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/rules.h"
#include "events/codec.h"
#include "events/event.h"
#include "events/money.h"
#include "events/ndjson.h"
#include "events/timestamp.h"
#include "projections/audit/store_keys.h"
#include "projections/record_codec.h"

namespace homeward::projections::audit {
namespace {

// Collects "field: live X, replay Y" for the fields that differ (the two
// sides' names are the caller's: "stored" and "history" for the invariants).
class FieldDiff {
 public:
  FieldDiff(std::string_view left = "live", std::string_view right = "replay")
      : left_(left), right_(right) {}

  template <typename T>
  void add(std::string_view field, const T& live, const T& replay) {
    if (live == replay) return;
    parts_.push_back(fmt::format("{}: {} {}, {} {}", field, left_, live, right_, replay));
  }
  void add_money(std::string_view field, MinorUnits live, MinorUnits replay, uint8_t exponent) {
    if (live == replay) return;
    add(field, events::format_amount(live, exponent), events::format_amount(replay, exponent));
  }
  void add_time(std::string_view field, const std::optional<TimestampMicros>& live,
                const std::optional<TimestampMicros>& replay) {
    if (live == replay) return;
    auto text = [](const std::optional<TimestampMicros>& t) {
      return t ? events::format_timestamp(*t) : std::string("null");
    };
    add(field, text(live), text(replay));
  }
  [[nodiscard]] std::string join() const {
    std::string out;
    for (const std::string& part : parts_) {
      if (!out.empty()) out += "; ";
      out += part;
    }
    return out.empty() ? std::string("same fields, different bytes") : out;
  }

 private:
  std::string_view left_;
  std::string_view right_;
  std::vector<std::string> parts_;
};

std::string close_reason_text(const std::optional<events::CloseReason>& reason) {
  return reason ? std::string(events::to_string(*reason)) : std::string("null");
}

}  // namespace

std::string summary_difference(const engine::CaseSummary& l, const engine::CaseSummary& r,
                               std::string_view left, std::string_view right) {
  FieldDiff d(left, right);
  d.add("opened", l.opened, r.opened);
  d.add("currency", std::string(l.currency.code_view()), std::string(r.currency.code_view()));
  const uint8_t e = r.currency.exponent;
  if (l.opened && r.opened) {
    d.add("status", std::string(engine::to_string(l.status())),
          std::string(engine::to_string(r.status())));
  }
  d.add_money("goal", l.goal, r.goal, e);
  d.add_money("received", l.received, r.received, e);
  d.add_money("refunded", l.refunded, r.refunded, e);
  d.add_money("pledged", l.pledged, r.pledged, e);
  d.add_money("disbursed", l.disbursed, r.disbursed, e);
  d.add("donations", l.donations, r.donations);
  d.add("donors", l.donors, r.donors);
  d.add("refunds", l.refunds, r.refunds);
  d.add_time("opened_at", l.opened_at, r.opened_at);
  d.add_time("fully_funded_at", l.fully_funded_at, r.fully_funded_at);
  d.add_time("closed_at", l.closed_at, r.closed_at);
  d.add("close_reason", close_reason_text(l.close_reason), close_reason_text(r.close_reason));
  d.add("has_budget", l.has_budget, r.has_budget);
  for (size_t i = 0; i < events::kCategoryCount; ++i) {
    const std::string_view category = events::to_string(static_cast<events::Category>(i));
    d.add_money(fmt::format("planned {}", category), l.planned[i], r.planned[i], e);
    d.add_money(fmt::format("disbursed {}", category), l.disbursed_by_category[i],
                r.disbursed_by_category[i], e);
  }
  d.add("events_applied", l.events_applied, r.events_applied);
  d.add("duplicates", l.duplicates, r.duplicates);
  d.add("events_rejected", l.events_rejected, r.events_rejected);
  return d.join();
}

namespace {

std::string summary_diff(const engine::CaseSummary& l, const engine::CaseSummary& r) {
  return summary_difference(l, r, "live", "replay");
}

// Two events of one place in a case's history, in words: their fields as
// the NDJSON form names them (SPEC section 3), so that an edited amount
// reads "amount: live "1500.00", replay "150.00"".
std::string event_diff(const events::Event& l, const events::Event& r) {
  const nlohmann::ordered_json lj = nlohmann::ordered_json::parse(events::format_event_json(l));
  const nlohmann::ordered_json rj = nlohmann::ordered_json::parse(events::format_event_json(r));
  FieldDiff d;
  for (const auto& [field, value] : lj.items()) {
    const auto other = rj.find(field);
    d.add(field, value.dump(), other == rj.end() ? std::string("absent") : other->dump());
  }
  for (const auto& [field, value] : rj.items()) {
    if (!lj.contains(field)) d.add(field, std::string("absent"), value.dump());
  }
  return fmt::format("{} {}: {}", events::to_string(r.type()), r.event_id, d.join());
}

std::string totals_diff(const engine::ProjectionTotals& l, const engine::ProjectionTotals& r) {
  FieldDiff d;
  d.add("applied", l.applied, r.applied);
  d.add("duplicates", l.duplicates, r.duplicates);
  d.add("rejected", l.rejected, r.rejected);
  for (size_t i = 0; i < engine::kRejectReasonCount; ++i) {
    d.add(fmt::format("rejected {}", engine::to_string(static_cast<engine::RejectReason>(i))),
          l.rejected_by_reason[i], r.rejected_by_reason[i]);
  }
  return d.join();
}

std::string rejection_diff(const engine::RejectionRecord& l, const engine::RejectionRecord& r) {
  FieldDiff d;
  d.add("event_id", l.event_id, r.event_id);
  auto type = [](const std::optional<events::EventType>& t) {
    return t ? std::string(events::to_string(*t)) : std::string("null");
  };
  d.add("type", type(l.type), type(r.type));
  d.add("reason", std::string(engine::to_string(l.reason)),
        std::string(engine::to_string(r.reason)));
  d.add("detail", l.detail, r.detail);
  return d.join();
}

// What differs between two values of the same key, in words.
std::string value_diff(KeyKind kind, std::string_view live, std::string_view replay) {
  auto undecodable = [](std::string_view side, const Error& error) {
    return fmt::format("the {} record does not decode ({})", side, error.message);
  };
  switch (kind) {
    case KeyKind::kCase: {
      auto l = decode_summary(live);
      auto r = decode_summary(replay);
      if (!l) return undecodable("live", l.error());
      if (!r) return undecodable("replay", r.error());
      return summary_diff(*l, *r);
    }
    case KeyKind::kRejection: {
      auto l = decode_rejection(live);
      auto r = decode_rejection(replay);
      if (!l) return undecodable("live", l.error());
      if (!r) return undecodable("replay", r.error());
      return rejection_diff(*l, *r);
    }
    case KeyKind::kTotals: {
      auto l = decode_totals(live);
      auto r = decode_totals(replay);
      if (!l) return undecodable("live", l.error());
      if (!r) return undecodable("replay", r.error());
      return totals_diff(*l, *r);
    }
    case KeyKind::kDonorCount: {
      auto l = decode_donor_count(live);
      auto r = decode_donor_count(replay);
      if (!l) return undecodable("live", l.error());
      if (!r) return undecodable("replay", r.error());
      return fmt::format("live {}, replay {}", *l, *r);
    }
    case KeyKind::kHistory: {
      const auto le = events::decode_event(live);
      const auto re = events::decode_event(replay);
      if (!le) return undecodable("live", le.error());
      if (!re) return undecodable("replay", re.error());
      if (*le == *re) return "the same event, encoded in other bytes";
      return event_diff(*le, *re);
    }
    default:
      return fmt::format("value bytes differ (live {}, replay {})", to_hex(live), to_hex(replay));
  }
}

// The binding to the log is checked before the audit reads anything (a
// store bound to another log is refused), and a store made before binding
// has none: neither is a difference in figures.
bool compared_here(std::string_view key) {
  return !key.starts_with(kChainIndexPrefix) && !key.starts_with(kCheckpointPrefix) &&
         key != kSourceKey;
}

void skip_uncompared(RecordCursor& cursor) {
  while (cursor.valid() && !compared_here(cursor.key())) cursor.next();
}

// One partition's chain index as a stream of (offset, 8-byte head prefix),
// read segment by segment (see ChainSegment).
class ChainStream {
 public:
  ChainStream(const RocksProjectionStore& store, Partition partition)
      : cursor_(store.open_cursor(partition_prefix(partition))) {}

  struct Entry {
    Offset offset;
    std::string prefix;
  };

  // The next entry; nullopt at the end or on an error (see `error`).
  std::optional<Entry> next() {
    if (error_) return std::nullopt;
    if (position_ == segment_.size() && !load_segment()) return std::nullopt;
    Entry entry{Offset(first_.value() + static_cast<int64_t>(position_ / kPrefix)),
                segment_.substr(position_, kPrefix)};
    position_ += kPrefix;
    return entry;
  }
  [[nodiscard]] const std::optional<Error>& error() const { return error_; }

 private:
  static constexpr size_t kPrefix = engine::kChainHeadPrefixBytes;

  static std::string partition_prefix(Partition partition) {
    std::string key = chain_record_key(partition, Offset(0));
    key.resize(kChainIndexPrefix.size() + 4);
    return key;
  }

  // Reads the next segment; false at the end or on an error.
  bool load_segment() {
    if (!cursor_->valid()) {
      if (auto status = cursor_->status(); !status) error_ = status.error();
      return false;
    }
    const DecodedKey k = decode_key(cursor_->key());
    const size_t size = cursor_->value().size();
    if (k.kind != KeyKind::kChainRecord || size == 0 || size % kPrefix != 0 ||
        size > kPrefix * static_cast<size_t>(engine::kChainWindowRecords)) {
      error_ = Error{ErrorCode::kCorruption, fmt::format("{} is damaged ({} value bytes)",
                                                         describe_key(cursor_->key()), size)};
      return false;
    }
    first_ = k.offset;
    segment_.assign(cursor_->value());
    position_ = 0;
    cursor_->next();
    return true;
  }

  std::unique_ptr<RecordCursor> cursor_;
  Offset first_;
  std::string segment_;
  size_t position_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<ComparisonSummary> compare_stores(const RocksProjectionStore& live,
                                         const RocksProjectionStore& replay, int64_t max_listed,
                                         Findings& findings) {
  ComparisonSummary summary;
  auto l = live.open_cursor();
  auto r = replay.open_cursor();

  auto report = [&](std::string_view key, std::string message) {
    ++summary.differences;
    if (summary.differences > max_listed) return;
    Finding& finding = findings.emplace_back();
    finding.check = Check::kComparison;
    finding.store = "live";
    finding.message = std::move(message);
    const DecodedKey k = decode_key(key);
    finding.case_id = std::string(k.case_id);
    if (k.kind == KeyKind::kRejection || k.kind == KeyKind::kHistory) {
      finding.partition = k.partition;
      finding.offset = k.offset;
    }
  };

  while (true) {
    skip_uncompared(*l);
    skip_uncompared(*r);
    if (!l->valid() || !r->valid()) break;
    ++summary.records_compared;
    const std::string_view lk = l->key();
    const std::string_view rk = r->key();
    if (lk == rk) {
      if (l->value() != r->value()) {
        report(rk, fmt::format("{} differs ({})", describe_key(rk),
                               value_diff(decode_key(rk).kind, l->value(), r->value())));
      }
      l->next();
      r->next();
    } else if (lk < rk) {
      report(lk, fmt::format("{} is in the live store but not in the replay", describe_key(lk)));
      l->next();
    } else {
      report(rk, fmt::format("{} is missing in the live store", describe_key(rk)));
      r->next();
    }
  }
  for (; l->valid(); l->next()) {
    if (!compared_here(l->key())) continue;
    ++summary.records_compared;
    report(l->key(),
           fmt::format("{} is in the live store but not in the replay", describe_key(l->key())));
  }
  for (; r->valid(); r->next()) {
    if (!compared_here(r->key())) continue;
    ++summary.records_compared;
    report(r->key(), fmt::format("{} is missing in the live store", describe_key(r->key())));
  }
  if (auto status = l->status(); !status) return std::unexpected(status.error());
  if (auto status = r->status(); !status) return std::unexpected(status.error());
  if (summary.differences > max_listed) {
    Finding& finding = findings.emplace_back();
    finding.check = Check::kComparison;
    finding.store = "live";
    finding.message = fmt::format("... and {} more differences (only the first {} are listed)",
                                  summary.differences - max_listed, max_listed);
  }
  return summary;
}

Result<ChainIndexSummary> compare_chain_index(const RocksProjectionStore& live,
                                              const RocksProjectionStore& replay,
                                              const engine::Checkpoints& live_positions,
                                              const engine::Checkpoints& replay_positions,
                                              Findings& findings) {
  ChainIndexSummary summary;
  for (const auto& [partition, live_checkpoint] : live_positions) {
    const auto replayed = replay_positions.find(partition);
    const int64_t replay_end =
        replayed == replay_positions.end() ? 0 : replayed->second.next_offset.value();
    const int64_t limit = std::min(live_checkpoint.next_offset.value(), replay_end);
    if (limit <= 0) continue;

    auto add = [&](Offset offset, std::string message) {
      Finding& finding = findings.emplace_back();
      finding.check = Check::kChain;
      finding.partition = partition;
      finding.offset = offset;
      finding.message = std::move(message);
      ++summary.partitions_with_differences;
    };

    ChainStream l(live, partition);
    ChainStream r(replay, partition);
    std::optional<ChainStream::Entry> le = l.next();
    std::optional<ChainStream::Entry> re = r.next();
    while (true) {
      const bool l_in = le && le->offset.value() < limit;
      const bool r_in = re && re->offset.value() < limit;
      if (!l_in && !r_in) break;
      if (l_in && r_in && le->offset == re->offset) {
        ++summary.records_compared;
        if (le->prefix != re->prefix) {
          add(le->offset,
              fmt::format("the record at this offset is not the one the live projections read: "
                          "the chain head after it starts {} in the live store and {} in the "
                          "log today (the first changed record of this partition)",
                          to_hex(le->prefix), to_hex(re->prefix)));
          break;
        }
        le = l.next();
        re = r.next();
      } else if (l_in && (!r_in || le->offset < re->offset)) {
        add(le->offset,
            "the live projections read a record at this offset that the log no longer holds "
            "(removed)");
        break;
      } else {
        add(re->offset,
            "the log holds a record at this offset that the live projections did not read "
            "(inserted, or the live chain index lacks it)");
        break;
      }
    }
    if (l.error()) {
      Finding& finding = findings.emplace_back();
      finding.check = Check::kChain;
      finding.store = "live";
      finding.partition = partition;
      finding.message = fmt::format("the chain index is damaged: {}", l.error()->message);
    }
    if (r.error()) return std::unexpected(*r.error());
  }
  return summary;
}

}  // namespace homeward::projections::audit
