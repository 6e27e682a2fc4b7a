// Shared pieces of the projector integration tests: a rich event stream (every
// event type, duplicates, conflicting duplicates, every kind of rejection the
// rules can give without overflow, events before a case opens, malformed
// records), writing it to a real embedded log, projecting it into a real
// RocksProjectionStore, dumping a store for comparison, and fault-injecting
// wrappers around the log reader and the store.
//
// Header-only and test-only; everything is deterministic (fixed seeds), so a
// failure reproduces.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "connectors/embedded_log/embedded_log.h"
#include "engine/event_log.h"
#include "engine/projection_store.h"
#include "engine/projector.h"
#include "events/codec.h"
#include "events/event.h"
#include "projections/json_output.h"
#include "projections/rocksdb_store.h"
#include "tests/engine/event_builders.h"
#include "tests/support/temp_dir.h"

namespace homeward::testing {

using connectors::EmbeddedLog;
using engine::AppendRequest;
using projections::RocksProjectionStore;

// ------------------------------------------------------------------ streams

inline Event hours_after_open(Event event, int hours) {
  return at(std::move(event),
            TimestampMicros(june(1).value() + int64_t{hours} * 3600 * kMicrosPerSecond));
}

// The events of one case, in the case's order. `variant` picks the currency,
// whether the case has a budget, is closed, sees a chargeback, and so on, so
// that different cases exercise different paths. Event ids are unique per
// case (the duplicate rule is per case), but reused across cases on purpose:
// the same event id in two cases is two different events.
inline std::vector<Event> case_stream(const std::string& case_id, int variant) {
  const Currency currency = variant % 4 == 1 ? kJpy : (variant % 4 == 3 ? kEur : kUsd);
  const Currency other = currency == kUsd ? kEur : kUsd;
  const int64_t unit = currency.exponent == 0 ? 1 : 100;  // one major unit
  std::vector<Event> stream;
  int hour = 0;
  auto add = [&](Event event) -> const Event& {
    stream.push_back(in_case(hours_after_open(std::move(event), hour++), case_id));
    return stream.back();
  };
  // Applied money, tracked here so that the chargeback below is sure to
  // leave `available` negative.
  int64_t available = 0;

  if (variant % 3 == 0) add(donation("early", "d-1", 5 * unit, currency));  // unknown_case
  Event opening = variant % 2 == 0
                      ? add(opened_with_budget("open",
                                               {line(Category::kShelter, 400 * unit),
                                                line(Category::kRepatriation, 600 * unit)},
                                               currency))
                      : add(opened("open", 1000 * unit, currency));
  stream.push_back(opening);                           // identical: duplicate
  add(opened("open-again", 10 * unit, currency));      // case_exists
  add(donation("wrong-ccy", "d-2", 3 * unit, other));  // currency_mismatch

  const int donations = 12 + variant * 3;
  std::vector<Event> applied_donations;
  for (int i = 0; i < donations; ++i) {
    const int64_t amount = (15 + 7 * ((i + variant) % 6)) * unit;
    applied_donations.push_back(
        add(donation("don-" + std::to_string(i), "d-" + std::to_string((i * 5 + variant) % 9),
                     amount, currency)));
    available += amount;
  }
  stream.push_back(applied_donations[0]);             // identical: duplicate
  add(donation("don-1", "d-x", 1 * unit, currency));  // same id, other content: conflicting

  add(pledge("pl-1", "d-3", 50 * unit, currency));
  add(pledge("pl-2", "d-4", 20 * unit, currency));
  add(fulfilled("ful-1", "pl-1"));
  available += 50 * unit;
  add(fulfilled("ful-1b", "pl-1"));  // pledge_not_outstanding
  add(cancelled("can-2", "pl-2"));
  add(cancelled("can-2b", "pl-2"));       // pledge_not_outstanding
  add(fulfilled("ful-none", "pl-none"));  // unknown_pledge

  add(refund("ref-1", "don-2", 5 * unit, events::RefundReason::kDonorRequest, currency));
  available -= 5 * unit;
  add(refund("ref-2", "don-2", 500 * unit, events::RefundReason::kDonorRequest,
             currency));  // refund_exceeds_donation
  add(refund("ref-3", "don-none", 1 * unit, events::RefundReason::kDonorRequest,
             currency));  // unknown_donation
  add(refund("ref-4", "don-3", 1 * unit, events::RefundReason::kDonorRequest,
             other));  // currency_mismatch

  add(disbursement("dis-1", Category::kShelter, 30 * unit, currency));
  available -= 30 * unit;
  add(disbursement("dis-2", Category::kMedical, 1'000'000 * unit, currency));  // insufficient
  if (variant % 2 == 1) add(goal_changed("goal-1", 200 * unit, currency));     // lowered: funded
  if (variant % 5 == 2) {
    // Spend all but 10 units, then a chargeback of 15 leaves `available` at -5.
    add(disbursement("dis-3", Category::kLivelihood, available - 10 * unit, currency));
    add(refund("cb-1", "don-0", 15 * unit, events::RefundReason::kChargeback, currency));
  }
  if (variant % 2 == 0) {
    add(closed("close", variant % 4 == 0 ? CloseReason::kCompleted : CloseReason::kCancelled));
    add(pledge("pl-late", "d-5", 5 * unit, currency));     // case_closed
    add(goal_changed("goal-late", 10 * unit, currency));   // case_closed
    add(donation("don-late", "d-6", 2 * unit, currency));  // applied: money arrived
    add(closed("close-again"));                            // case_closed
  }
  return stream;
}

// `case_count` cases (case ids "case-0" ...) plus a case that never opens,
// each in its own order.
inline std::vector<std::vector<Event>> rich_case_streams(int case_count = 8) {
  std::vector<std::vector<Event>> streams;
  for (int c = 0; c < case_count; ++c)
    streams.push_back(case_stream("case-" + std::to_string(c), c));
  std::vector<Event> ghost;
  ghost.push_back(in_case(donation("g-1", "d-1", 100), "ghost"));
  ghost.push_back(in_case(pledge("g-2", "d-2", 100), "ghost"));
  ghost.push_back(in_case(donation("g-1", "d-1", 100), "ghost"));  // duplicate even unopened
  streams.push_back(std::move(ghost));
  return streams;
}

// Merges the streams in a random order that keeps each stream's own order.
inline std::vector<Event> interleave(const std::vector<std::vector<Event>>& streams,
                                     uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<size_t> next(streams.size(), 0);
  std::vector<Event> merged;
  for (;;) {
    std::vector<size_t> open;
    for (size_t s = 0; s < streams.size(); ++s) {
      if (next[s] < streams[s].size()) open.push_back(s);
    }
    if (open.empty()) break;
    const size_t pick = open[std::uniform_int_distribution<size_t>(0, open.size() - 1)(rng)];
    merged.push_back(streams[pick][next[pick]++]);
  }
  return merged;
}

inline AppendRequest request_for(const Event& event) {
  return AppendRequest{event.case_id, events::encode_event(event), event.type()};
}

// The full test log: the interleaved rich stream with malformed records mixed
// in (bytes that are not FlatBuffers, an empty value, a truncated event, and
// a valid event with one byte flipped), at fixed positions.
inline std::vector<AppendRequest> rich_log_records(uint32_t seed = 7) {
  const std::vector<Event> merged = interleave(rich_case_streams(), seed);
  std::vector<AppendRequest> records;
  for (size_t i = 0; i < merged.size(); ++i) {
    records.push_back(request_for(merged[i]));
    if (i == 3)
      records.push_back({"case-1", "not flatbuffers at all", events::EventType::kCaseOpened});
    if (i == 40) records.push_back({"", "", events::EventType::kCaseOpened});
    if (i == 90) {
      std::string bytes = events::encode_event(merged[i]);
      bytes.resize(bytes.size() / 2);
      records.push_back({"bad key!", std::move(bytes), merged[i].type()});
    }
    if (i == 150) {
      std::string bytes = events::encode_event(merged[i]);
      bytes[bytes.size() / 3] = static_cast<char>(bytes[bytes.size() / 3] ^ 0x5a);
      records.push_back({merged[i].case_id, std::move(bytes), merged[i].type()});
    }
  }
  return records;
}

// Appends in chunks, as a publisher would.
inline void append_records(EmbeddedLog& log, const std::vector<AppendRequest>& records,
                           size_t first = 0, size_t end = SIZE_MAX) {
  end = std::min(end, records.size());
  constexpr size_t kChunk = 50;
  for (size_t i = first; i < end; i += kChunk) {
    const size_t stop = std::min(end, i + kChunk);
    auto results = log.append(std::span(records.data() + i, stop - i));
    ASSERT_TRUE(results.has_value()) << results.error().message;
    for (const auto& result : *results) ASSERT_TRUE(result.has_value()) << result.error().message;
  }
}

inline std::unique_ptr<EmbeddedLog> open_log(const std::filesystem::path& dir) {
  auto log = EmbeddedLog::open(dir);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
  return log ? std::move(*log) : nullptr;
}

inline std::unique_ptr<RocksProjectionStore> open_store(const std::filesystem::path& dir) {
  auto store = RocksProjectionStore::open(dir);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return store ? std::move(*store) : nullptr;
}

// ---------------------------------------------------------------- projecting

inline Result<engine::CatchUpReport> project(engine::EventLogReader& log,
                                             engine::ProjectionStore& store,
                                             size_t batch_events_max) {
  engine::ProjectorOptions options;
  options.batch_events_max = batch_events_max;
  engine::Projector projector(log, store, options);
  return projector.catch_up();
}

// Everything a reader of the store can see: the raw key/value content and
// the documents of SPEC section 7.
struct StoreDump {
  std::vector<std::pair<std::string, std::string>> records;
  std::string cases;
  std::string impact;
  std::string rejections;
};

inline StoreDump dump_store(const RocksProjectionStore& store) {
  StoreDump dump;
  auto visited = store.for_each_record([&](std::string_view key, std::string_view value) {
    dump.records.emplace_back(std::string(key), std::string(value));
  });
  EXPECT_TRUE(visited.has_value()) << visited.error().message;
  auto cases = store.list_cases();
  EXPECT_TRUE(cases.has_value()) << cases.error().message;
  if (cases) dump.cases = projections::cases_json(*cases).dump(1);
  auto impact = store.impact_report();
  EXPECT_TRUE(impact.has_value()) << impact.error().message;
  if (impact) dump.impact = projections::impact_json(*impact).dump(1);
  auto rejections = store.list_rejections();
  EXPECT_TRUE(rejections.has_value()) << rejections.error().message;
  if (rejections) dump.rejections = projections::rejections_json(*rejections).dump(1);
  return dump;
}

inline std::string printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

// Compares two dumps and names the first record that differs, which says far
// more than "vectors differ".
inline void expect_same_dump(const StoreDump& actual, const StoreDump& expected) {
  EXPECT_EQ(actual.cases, expected.cases);
  EXPECT_EQ(actual.impact, expected.impact);
  EXPECT_EQ(actual.rejections, expected.rejections);
  EXPECT_EQ(actual.records.size(), expected.records.size());
  const size_t common = std::min(actual.records.size(), expected.records.size());
  for (size_t i = 0; i < common; ++i) {
    if (actual.records[i] != expected.records[i]) {
      ADD_FAILURE() << "store record " << i << " differs:\n  actual   "
                    << printable(actual.records[i].first) << " = "
                    << printable(actual.records[i].second) << "\n  expected "
                    << printable(expected.records[i].first) << " = "
                    << printable(expected.records[i].second);
      return;
    }
  }
}

// A clean single run of `records` into a fresh log and store, batch size 1000.
inline StoreDump clean_replay(const std::vector<AppendRequest>& records) {
  TempDir log_dir;
  TempDir store_dir;
  auto log = open_log(log_dir.path());
  auto store = open_store(store_dir.path());
  if (log == nullptr || store == nullptr) return {};
  append_records(*log, records);
  auto report = project(*log, *store, 1000);
  EXPECT_TRUE(report.has_value()) << report.error().message;
  return dump_store(*store);
}

// ---------------------------------------------------------- fault injection

// Delegates to a real store; the n-th commit or n-th load_case (1-based; 0 =
// never) fails as an I/O error would, before anything reaches the store.
class FaultyStore final : public engine::ProjectionStore {
 public:
  struct Faults {
    int fail_commit_at = 0;
    int fail_load_case_at = 0;
  };
  FaultyStore(engine::ProjectionStore& inner, Faults faults) : inner_(inner), faults_(faults) {}

  Result<engine::Checkpoints> load_checkpoints() override { return inner_.load_checkpoints(); }
  Result<engine::ProjectionTotals> load_totals() override { return inner_.load_totals(); }
  Result<std::optional<engine::CaseLedger>> load_case(std::string_view case_id) override {
    if (++load_cases_ == faults_.fail_load_case_at) {
      return make_error(ErrorCode::kIo, "injected: load_case failed");
    }
    return inner_.load_case(case_id);
  }
  Result<engine::ChainSegment> load_open_chain_segment(Partition partition,
                                                       Offset next_offset) override {
    return inner_.load_open_chain_segment(partition, next_offset);
  }
  Status commit(const engine::BatchCommit& batch) override {
    if (++commits_ == faults_.fail_commit_at) {
      return make_error(ErrorCode::kIo, "injected: commit failed");
    }
    return inner_.commit(batch);
  }

  [[nodiscard]] int commits() const { return commits_; }
  [[nodiscard]] int load_cases() const { return load_cases_; }

 private:
  engine::ProjectionStore& inner_;
  Faults faults_;
  int commits_ = 0;
  int load_cases_ = 0;
};

// Delegates to a real reader; the n-th read hands out the first half of its
// batch and then reports an error, like a connection that drops mid-fetch.
class FaultyReader final : public engine::EventLogReader {
 public:
  FaultyReader(engine::EventLogReader& inner, int fail_read_at)
      : inner_(inner), fail_read_at_(fail_read_at) {}

  Status seek(const engine::OffsetMap& next_offsets) override { return inner_.seek(next_offsets); }
  Status read(size_t max_records, std::chrono::milliseconds wait,
              engine::RecordBatch& batch) override {
    auto status = inner_.read(max_records, wait, batch);
    if (!status) return status;
    if (++reads_ == fail_read_at_) {
      batch.records.resize(batch.records.size() / 2);
      return make_error(ErrorCode::kUnavailable, "injected: connection lost mid-batch");
    }
    return status;
  }
  Result<engine::OffsetMap> end_offsets() override { return inner_.end_offsets(); }

 private:
  engine::EventLogReader& inner_;
  int fail_read_at_;
  int reads_ = 0;
};

}  // namespace homeward::testing
