// Fuzz target: the projector fed arbitrary record sequences (issue 14 item 2).
//
// An input is a sequence of log records. Most are events built from a few
// input bytes each over a small vocabulary (3 cases in 2 partitions, 24 event
// ids, 5 donors, amounts up to the 10^15 limit), so that the fuzzer reaches
// duplicates, refunds of refunds, chargebacks and overflow quickly; a record
// may also be raw bytes (kept as they are: a demo event, or garbage).
//
// Each input is projected three times through engine::Projector over an
// in-memory log and store (memory_ledger.h):
//   A. in batches of 1 to 16 events, watched by the reference fold of SPEC
//      sections 4 and 5 (tests/support/reference_fold.h: its own donations,
//      pledges and sums, sharing nothing with engine/rules.cc), whose verdict
//      on every event the projector's outcome must equal;
//   B. in batches of 1,000, in two catch-ups by two projectors (the second
//      reloads every case from the store by folding its history);
//   C. like A with a case cache of 1 byte, so that every case is written back
//      and evicted after each batch and reloaded on its next event.
// After each: every case's figures equal the reference's and satisfy SPEC's
// identities (net = received - refunded, available = net - disbursed >= 0
// unless a chargeback was applied, remaining, surplus, status, counters), the
// totals add up to the records read, and B and C hold exactly what A holds
// (SPEC principle 1: the same log gives the same state).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/projector.h"
#include "engine/rules.h"
#include "events/codec.h"
#include "events/event.h"
#include "events/money.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/memory_ledger.h"
#include "tests/support/reference_fold.h"

namespace homeward::fuzzing {
namespace {

using engine::Disposition;
using engine::Outcome;
using engine::RejectReason;
using events::Category;
using events::Currency;
using events::Event;
using events::EventType;
using Wide = __int128;

constexpr int kCases = 3;
// Longer sequences find little more and cost a thread per batch (the
// projector's prefetch): 256 records keep an input near a millisecond.
constexpr size_t kRecordsMax = 256;
const Currency kCurrencies[] = {{{'U', 'S', 'D'}, 2}, {{'J', 'P', 'Y'}, 0}, {{'K', 'W', 'D'}, 3}};
constexpr int64_t kT0 = int64_t{1'433'116'800} * 1'000'000;  // 2015-06-01T00:00:00Z

// Reads the input front to back; past its end every byte is zero.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
  [[nodiscard]] bool done() const { return at_ >= size_; }
  std::string take(size_t n) {
    n = std::min(n, size_ - at_);
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

struct Record {
  Partition partition;
  std::string key;
  std::string value;
};

int64_t amount_from(uint8_t scale, uint8_t digits) {
  switch (scale % 16) {
    case 15:
      return events::kAmountMax - digits;  // near the limit: overflow paths
    case 14:
      return events::kAmountMax / 2 + digits;
    case 0:
    case 1:
    case 2:
      return 1 + digits;
    default:
      return (1 + digits) * 100;
  }
}

events::FundingPlan plan_from(const Currency& currency, uint8_t a, uint8_t b) {
  const int64_t goal = amount_from(a, b) * 10 % events::kAmountMax + 1;
  events::FundingPlan plan{currency, MinorUnits(goal), std::nullopt};
  if (b & 1) {
    // A budget of two categories that sums to the goal (or one when the goal is 1).
    std::vector<events::BudgetLine> budget;
    const auto first = static_cast<Category>(a % 4);
    const auto second = static_cast<Category>(4 + b % 4);
    if (goal >= 2) {
      budget.push_back({first, MinorUnits(goal / 2)});
      budget.push_back({second, MinorUnits(goal - goal / 2)});
    } else {
      budget.push_back({first, MinorUnits(goal)});
    }
    plan.budget = std::move(budget);
  }
  return plan;
}

// One event of the vocabulary from the kind byte and six more.
Record generated_record(uint8_t kind, Bytes& in) {
  uint8_t b[6];
  for (uint8_t& byte : b) byte = in.next();
  const int case_number = b[0] % kCases;
  Event event;
  event.case_id = "c" + std::to_string(case_number);
  event.event_id = "e" + std::to_string(b[1] % 24);
  event.occurred_at = TimestampMicros(kT0 + int64_t{b[2]} * 3'600'000'000);
  if (b[2] == 0xff) event.source = "portal";
  // Mostly the case's own currency, sometimes another (currency_mismatch).
  const Currency currency =
      (b[4] >> 4) % 5 == 0 ? kCurrencies[(case_number + 1) % kCases] : kCurrencies[case_number];
  const MinorUnits amount(amount_from(b[4], b[3]));
  const std::string donor = "d" + std::to_string(b[5] % 5);
  const std::string reference = "e" + std::to_string(b[5] % 24);
  switch (kind % events::kEventTypeCount) {
    case 0:
      event.body = events::CaseOpened{plan_from(currency, b[4], b[3])};
      break;
    case 1:
      event.body = events::CaseGoalChanged{plan_from(currency, b[4], b[3]), std::nullopt};
      break;
    case 2:
      event.body = events::CaseClosed{static_cast<events::CloseReason>(b[3] % 3)};
      break;
    case 3:
      event.body = events::DonationReceived{donor, amount, currency};
      break;
    case 4:
      event.body = events::PledgeMade{donor, amount, currency};
      break;
    case 5:
      event.body = events::PledgeFulfilled{reference};
      break;
    case 6:
      event.body = events::PledgeCancelled{reference, std::nullopt};
      break;
    case 7:
      event.body = events::RefundIssued{reference, amount, currency,
                                        static_cast<events::RefundReason>(b[5] % 6)};
      break;
    default:
      event.body =
          events::FundsDisbursed{static_cast<Category>(b[3] % 8), amount, currency, std::nullopt};
      break;
  }
  return Record{Partition(case_number % 2), event.case_id, events::encode_event(event)};
}

std::vector<Record> records_from(Bytes& in) {
  std::vector<Record> records;
  while (!in.done() && records.size() < kRecordsMax) {
    const uint8_t kind = in.next();
    if (kind >= 0xf0) {
      // Raw bytes: a 2-byte little-endian length, then the value.
      size_t length = in.next();
      length |= size_t{in.next()} << 8;
      std::string value = in.take(length);
      const auto identity = events::peek_identity(value);
      records.push_back({Partition(0), identity.case_id.value_or("raw"), std::move(value)});
    } else {
      records.push_back(generated_record(kind, in));
    }
  }
  return records;
}

// ------------------------------------------------------------- the reference

// Watches run A record by record: every decoded event goes through the
// reference fold (tests/support/reference_fold.h, SPEC sections 4-5, shared
// with the randomized reference test), whose verdict the projector's outcome
// must equal; at the end every case's figures must equal the fold's.
class Reference final : public engine::ProjectionObserver {
 public:
  // The in-memory log has a record at every offset: a skip would mean the
  // projector invented a gap.
  void on_skip(Partition partition, Offset next_offset) override {
    FUZZ_CHECK(false, "a skip to offset %lld of partition %d in a log without gaps",
               static_cast<long long>(next_offset.value()), static_cast<int>(partition.value()));
  }

  void on_record(const engine::LogRecord& record, const Event* event,
                 const Outcome& outcome) override {
    ++records_;
    if (event == nullptr) {
      FUZZ_CHECK(outcome == Outcome::rejected(RejectReason::kMalformed),
                 "a record that did not decode must be rejected malformed (offset %lld)",
                 static_cast<long long>(record.offset.value()));
      ++malformed_;
      return;
    }
    const std::string verdict = fold_.fold(*event, record.offset.value());
    const std::string got = outcome.disposition == Disposition::kApplied ? std::string()
                            : outcome.disposition == Disposition::kDuplicate
                                ? "duplicate"
                                : std::string(engine::to_string(outcome.reason));
    FUZZ_CHECK(got == verdict, "event %s of case %s: the projector says '%s', SPEC '%s'",
               event->event_id.c_str(), event->case_id.c_str(), got.c_str(), verdict.c_str());
  }

  void check(const MemoryStore& store) const {
    FUZZ_CHECK(store.totals().read() == records_, "totals count %lld records of %lld",
               static_cast<long long>(store.totals().read()), static_cast<long long>(records_));
    FUZZ_CHECK(store.totals().applied == fold_.applied &&
                   store.totals().duplicates == fold_.duplicates &&
                   store.totals().rejected == fold_.rejected + malformed_,
               "the totals by outcome differ from the records' outcomes");
    for (size_t r = 0; r < engine::kRejectReasonCount; ++r) {
      const auto reason = static_cast<RejectReason>(r);
      const std::string name(engine::to_string(reason));
      const auto it = fold_.rejected_by_reason.find(name);
      const int64_t want = (it == fold_.rejected_by_reason.end() ? 0 : it->second) +
                           (reason == RejectReason::kMalformed ? malformed_ : 0);
      FUZZ_CHECK(store.totals().rejected_by_reason[r] == want, "totals: %lld rejected %s, not %lld",
                 static_cast<long long>(store.totals().rejected_by_reason[r]), name.c_str(),
                 static_cast<long long>(want));
    }
    FUZZ_CHECK(static_cast<int64_t>(store.rejections().size()) == fold_.rejected + malformed_,
               "the rejection list has %zu entries for %lld rejections", store.rejections().size(),
               static_cast<long long>(fold_.rejected + malformed_));
    FUZZ_CHECK(store.cases().size() == fold_.cases.size(), "the store has %zu cases, the log %zu",
               store.cases().size(), fold_.cases.size());
    for (const auto& [case_id, ref] : fold_.cases) {
      const auto it = store.cases().find(case_id);
      FUZZ_CHECK(it != store.cases().end(), "case %s is missing", case_id.c_str());
      check_case(case_id, it->second.summary, ref);
    }
  }

 private:
  static void check_case(const std::string& id, const engine::CaseSummary& s,
                         const testing::RefCase& ref) {
    const char* name = id.c_str();
    FUZZ_CHECK(s.opened == ref.opened, "case %s: opened differs", name);
    FUZZ_CHECK(s.received.value() == ref.received && s.refunded.value() == ref.refunded &&
                   s.pledged.value() == ref.pledged && s.disbursed.value() == ref.disbursed,
               "case %s: received/refunded/pledged/disbursed differ from the reference", name);
    FUZZ_CHECK(s.donations == ref.donations && s.refunds == ref.refunds &&
                   s.donors == static_cast<int64_t>(ref.donors.size()),
               "case %s: donations %lld/%lld, refunds %lld/%lld, donors %lld/%zu", name,
               static_cast<long long>(s.donations), static_cast<long long>(ref.donations),
               static_cast<long long>(s.refunds), static_cast<long long>(ref.refunds),
               static_cast<long long>(s.donors), ref.donors.size());
    FUZZ_CHECK(s.events_applied == ref.applied && s.duplicates == ref.duplicates &&
                   s.events_rejected == ref.rejected,
               "case %s: counters differ from the reference", name);
    FUZZ_CHECK(s.close_reason == ref.close_reason &&
                   s.closed_at.has_value() == ref.closed_at.has_value() &&
                   (!ref.closed_at || s.closed_at->value() == *ref.closed_at),
               "case %s: closed, its reason or its time differs", name);
    if (!ref.opened) return;
    FUZZ_CHECK(s.goal.value() == ref.goal && std::string(s.currency.code_view()) == ref.currency,
               "case %s: goal or currency differs", name);
    FUZZ_CHECK(s.opened_at.value() == ref.opened_at, "case %s: opened_at differs", name);
    FUZZ_CHECK(s.fully_funded_at.has_value() == ref.fully_funded_at.has_value() &&
                   (!ref.fully_funded_at || s.fully_funded_at->value() == *ref.fully_funded_at),
               "case %s: fully_funded_at differs", name);
    // SPEC section 5's identities.
    const Wide net = Wide{s.received.value()} - s.refunded.value();
    FUZZ_CHECK(s.net().value() == net, "case %s: net != received - refunded", name);
    FUZZ_CHECK(s.available().value() == net - s.disbursed.value(),
               "case %s: available != net - disbursed", name);
    FUZZ_CHECK(s.available().value() >= 0 || ref.chargeback,
               "case %s: available is negative without a chargeback", name);
    FUZZ_CHECK(s.remaining().value() == std::max<Wide>(Wide{s.goal.value()} - net, 0) &&
                   s.surplus().value() == std::max<Wide>(net - s.goal.value(), 0),
               "case %s: remaining or surplus", name);
    Wide by_category = 0;
    for (size_t i = 0; i < events::kCategoryCount; ++i) {
      const auto category = static_cast<Category>(i);
      by_category += s.disbursed_by_category[i].value();
      const auto disbursed = ref.disbursed_by_category.find(category);
      FUZZ_CHECK(s.disbursed_by_category[i].value() ==
                     (disbursed == ref.disbursed_by_category.end() ? 0 : disbursed->second),
                 "case %s: disbursed in category %zu differs", name, i);
      const auto planned = ref.planned.find(category);
      FUZZ_CHECK(s.planned[i].value() == (planned == ref.planned.end() ? 0 : planned->second),
                 "case %s: planned in category %zu differs", name, i);
    }
    FUZZ_CHECK(by_category == s.disbursed.value(), "case %s: categories do not sum", name);
    const engine::CaseStatus status = ref.close_reason  ? engine::CaseStatus::kClosed
                                      : net >= ref.goal ? engine::CaseStatus::kFunded
                                                        : engine::CaseStatus::kOpen;
    FUZZ_CHECK(s.status() == status, "case %s: status", name);
  }

  testing::ReferenceFold fold_;
  int64_t records_ = 0, malformed_ = 0;
};

// ---------------------------------------------------------------- the runs

void fill(MemoryLog& log, const std::vector<Record>& records) {
  for (const Record& record : records) log.add(record.partition, record.key, record.value);
}

void catch_up(engine::Projector& projector) {
  auto report = projector.catch_up();
  FUZZ_CHECK(report.has_value(), "catch_up failed: %s",
             report ? "" : report.error().message.c_str());
}

std::vector<engine::RejectionRecord> sorted_rejections(const MemoryStore& store) {
  std::vector<engine::RejectionRecord> sorted = store.rejections();
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::pair(a.partition, a.offset) < std::pair(b.partition, b.offset);
  });
  return sorted;
}

void expect_same(const MemoryStore& actual, const MemoryStore& expected, const char* run) {
  FUZZ_CHECK(actual.cases() == expected.cases(), "run %s: the cases differ", run);
  FUZZ_CHECK(sorted_rejections(actual) == sorted_rejections(expected),
             "run %s: the rejections differ", run);
  FUZZ_CHECK(actual.totals() == expected.totals(), "run %s: the totals differ", run);
  FUZZ_CHECK(actual.checkpoints() == expected.checkpoints(), "run %s: the positions differ", run);
  FUZZ_CHECK(actual.segments() == expected.segments(), "run %s: the chain index differs", run);
}

}  // namespace
}  // namespace homeward::fuzzing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace homeward;
  using namespace homeward::fuzzing;
  Bytes in(data, size);
  const uint8_t options = in.next();
  const std::vector<Record> records = records_from(in);

  MemoryStore store_a;
  Reference reference;
  {
    MemoryLog log;
    fill(log, records);
    engine::ProjectorOptions a;
    a.batch_events_max = 1 + (options & 15);
    a.read_wait = std::chrono::milliseconds(0);
    a.observer = &reference;
    engine::Projector projector(log, store_a, a);
    catch_up(projector);
  }
  reference.check(store_a);

  MemoryStore store_b;
  {
    MemoryLog log;
    fill(log, records);
    engine::ProjectorOptions b;
    b.batch_events_max = 1000;
    b.read_wait = std::chrono::milliseconds(0);
    log.set_visible(records.size() / 4);
    {
      engine::Projector first(log, store_b, b);
      catch_up(first);
    }
    log.set_visible(SIZE_MAX);
    engine::Projector second(log, store_b, b);
    catch_up(second);
  }
  expect_same(store_b, store_a, "B (two projectors, batches of 1000)");

  MemoryStore store_c;
  {
    MemoryLog log;
    fill(log, records);
    engine::ProjectorOptions c;
    c.batch_events_max = 1 + (options & 15);
    c.read_wait = std::chrono::milliseconds(0);
    c.case_cache_bytes = 1;  // every case evicted after each commit
    engine::Projector projector(log, store_c, c);
    catch_up(projector);
  }
  expect_same(store_c, store_a, "C (a case cache of 1 byte)");
  return 0;
}
