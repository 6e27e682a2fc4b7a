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
//   A. in batches of 1 to 16 events, watched by a reference written here from
//      SPEC sections 4 and 5 (it keeps its own donations, pledges and sums,
//      sharing nothing with engine/rules.cc);
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
#include "events/codec.h"
#include "events/event.h"
#include "events/money.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/memory_ledger.h"

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

struct RefDonation {
  Wide amount = 0;
  Wide refunded = 0;
};
struct RefPledge {
  std::string donor;
  Wide amount = 0;
  bool outstanding = true;
};
struct RefCase {
  bool opened = false;
  bool closed = false;
  bool chargeback = false;
  Currency currency;
  Wide goal = 0;
  Wide received = 0, refunded = 0, pledged = 0, disbursed = 0;
  std::map<Category, Wide> disbursed_by_category;
  int64_t donations = 0, refunds = 0;
  std::set<std::string> donors;
  int64_t applied = 0, duplicates = 0, rejected = 0;
  std::map<std::string, Event> seen;
  std::map<std::string, RefDonation> donation_records;
  std::map<std::string, RefPledge> pledge_records;
  [[nodiscard]] Wide available() const { return received - refunded - disbursed; }
};

template <typename Body>
const Body& body(const Event& event) {
  return std::get<Body>(event.body);
}

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
    count(outcome, applied_, duplicates_, rejected_);
    if (event == nullptr) {
      FUZZ_CHECK(outcome == Outcome::rejected(RejectReason::kMalformed),
                 "a record that did not decode must be rejected malformed (offset %lld)",
                 static_cast<long long>(record.offset.value()));
      return;
    }
    FUZZ_CHECK(
        outcome.reason != RejectReason::kMalformed || outcome.disposition != Disposition::kRejected,
        "a decoded event was rejected malformed");
    RefCase& c = cases_[event->case_id];
    // SPEC section 4, stage 2, rule 1: the duplicate rule comes first.
    if (const auto it = c.seen.find(event->event_id); it != c.seen.end()) {
      if (it->second == *event) {
        FUZZ_CHECK(outcome == Outcome::duplicate(), "an identical repeat of %s is not a duplicate",
                   event->event_id.c_str());
      } else {
        FUZZ_CHECK(outcome == Outcome::rejected(RejectReason::kConflictingDuplicate),
                   "a different event under the id %s is not conflicting_duplicate",
                   event->event_id.c_str());
      }
    } else {
      FUZZ_CHECK(outcome.disposition != Disposition::kDuplicate &&
                     outcome != Outcome::rejected(RejectReason::kConflictingDuplicate),
                 "a first-seen id %s was taken for a repeat", event->event_id.c_str());
      c.seen.emplace(event->event_id, *event);
      if (event->type() == EventType::kCaseOpened) {
        FUZZ_CHECK((outcome == Outcome::rejected(RejectReason::kCaseExists)) == c.opened,
                   "case_exists must be given exactly when the case is open");
      } else {
        FUZZ_CHECK((outcome == Outcome::rejected(RejectReason::kUnknownCase)) == !c.opened,
                   "unknown_case must be given exactly when the case never opened");
      }
      if (outcome.disposition == Disposition::kApplied) apply(c, *event);
    }
    if (c.opened) count(outcome, c.applied, c.duplicates, c.rejected);
  }

  void check(const MemoryStore& store) const {
    FUZZ_CHECK(store.totals().read() == records_, "totals count %lld records of %lld",
               static_cast<long long>(store.totals().read()), static_cast<long long>(records_));
    FUZZ_CHECK(store.totals().applied == applied_ && store.totals().duplicates == duplicates_ &&
                   store.totals().rejected == rejected_,
               "the totals by outcome differ from the records' outcomes");
    int64_t by_reason = 0;
    for (const int64_t n : store.totals().rejected_by_reason) by_reason += n;
    FUZZ_CHECK(by_reason == rejected_, "rejections by reason do not add up to the rejections");
    FUZZ_CHECK(static_cast<int64_t>(store.rejections().size()) == rejected_,
               "the rejection list has %zu entries for %lld rejections", store.rejections().size(),
               static_cast<long long>(rejected_));
    FUZZ_CHECK(store.cases().size() == cases_.size(), "the store has %zu cases, the log %zu",
               store.cases().size(), cases_.size());
    for (const auto& [case_id, ref] : cases_) {
      const auto it = store.cases().find(case_id);
      FUZZ_CHECK(it != store.cases().end(), "case %s is missing", case_id.c_str());
      check_case(case_id, it->second.summary, ref);
    }
  }

 private:
  static void count(const Outcome& outcome, int64_t& applied, int64_t& duplicates,
                    int64_t& rejected) {
    switch (outcome.disposition) {
      case Disposition::kApplied:
        ++applied;
        break;
      case Disposition::kDuplicate:
        ++duplicates;
        break;
      case Disposition::kRejected:
        ++rejected;
        break;
    }
  }

  // The effect of an applied event (SPEC section 4's last column), with the
  // conditions SPEC sets on an event being applied at all.
  static void apply(RefCase& c, const Event& event) {
    const char* id = event.event_id.c_str();
    if (event.type() != EventType::kCaseOpened) {
      FUZZ_CHECK(c.opened, "%s was applied to a case that never opened", id);
    }
    auto same_currency = [&](const Currency& currency) {
      FUZZ_CHECK(currency == c.currency, "%s was applied in another currency", id);
    };
    switch (event.type()) {
      case EventType::kCaseOpened: {
        const auto& plan = body<events::CaseOpened>(event).plan;
        c.opened = true;
        c.currency = plan.currency;
        c.goal = plan.goal.value();
        break;
      }
      case EventType::kCaseGoalChanged: {
        const auto& plan = body<events::CaseGoalChanged>(event).plan;
        FUZZ_CHECK(!c.closed, "a goal change %s was applied to a closed case", id);
        same_currency(plan.currency);
        c.goal = plan.goal.value();
        break;
      }
      case EventType::kCaseClosed:
        FUZZ_CHECK(!c.closed, "%s closed a closed case", id);
        c.closed = true;
        break;
      case EventType::kDonationReceived: {
        const auto& d = body<events::DonationReceived>(event);
        same_currency(d.currency);
        c.received += d.amount.value();
        ++c.donations;
        c.donors.insert(d.donor_ref);
        c.donation_records[event.event_id] = {d.amount.value(), 0};
        break;
      }
      case EventType::kPledgeMade: {
        const auto& p = body<events::PledgeMade>(event);
        FUZZ_CHECK(!c.closed, "a pledge %s was applied to a closed case", id);
        same_currency(p.currency);
        c.pledged += p.amount.value();
        c.pledge_records[event.event_id] = {p.donor_ref, p.amount.value(), true};
        break;
      }
      case EventType::kPledgeFulfilled: {
        const auto it = c.pledge_records.find(body<events::PledgeFulfilled>(event).pledge_id);
        FUZZ_CHECK(it != c.pledge_records.end() && it->second.outstanding,
                   "%s fulfilled a pledge that was not outstanding", id);
        it->second.outstanding = false;
        c.pledged -= it->second.amount;
        c.received += it->second.amount;
        ++c.donations;
        c.donors.insert(it->second.donor);
        c.donation_records[event.event_id] = {it->second.amount, 0};
        break;
      }
      case EventType::kPledgeCancelled: {
        const auto it = c.pledge_records.find(body<events::PledgeCancelled>(event).pledge_id);
        FUZZ_CHECK(it != c.pledge_records.end() && it->second.outstanding,
                   "%s cancelled a pledge that was not outstanding", id);
        it->second.outstanding = false;
        c.pledged -= it->second.amount;
        break;
      }
      case EventType::kRefundIssued: {
        const auto& r = body<events::RefundIssued>(event);
        same_currency(r.currency);
        const auto it = c.donation_records.find(r.donation_id);
        FUZZ_CHECK(it != c.donation_records.end(), "%s refunded an unknown donation", id);
        it->second.refunded += r.amount.value();
        FUZZ_CHECK(it->second.refunded <= it->second.amount, "%s refunded more than the donation",
                   id);
        c.refunded += r.amount.value();
        ++c.refunds;
        if (r.reason == events::RefundReason::kChargeback) {
          c.chargeback = true;
        } else {
          FUZZ_CHECK(c.available() >= 0, "refund %s was applied beyond the available funds", id);
        }
        break;
      }
      case EventType::kFundsDisbursed: {
        const auto& f = body<events::FundsDisbursed>(event);
        same_currency(f.currency);
        c.disbursed += f.amount.value();
        c.disbursed_by_category[f.category] += f.amount.value();
        FUZZ_CHECK(c.available() >= 0, "disbursement %s was applied beyond the available funds",
                   id);
        break;
      }
    }
    // SPEC section 1, principle 3: no total leaves the signed 64-bit range.
    constexpr Wide kMax = INT64_MAX;
    FUZZ_CHECK(c.received <= kMax && c.pledged <= kMax && c.disbursed <= kMax,
               "%s took a total past the 64-bit range", id);
  }

  static void check_case(const std::string& id, const engine::CaseSummary& s, const RefCase& ref) {
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
    FUZZ_CHECK(s.closed() == ref.closed && s.closed_at.has_value() == ref.closed,
               "case %s: closed differs", name);
    if (!ref.opened) return;
    FUZZ_CHECK(s.goal.value() == ref.goal && s.currency == ref.currency,
               "case %s: goal or currency differs", name);
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
      by_category += s.disbursed_by_category[i].value();
      const auto it = ref.disbursed_by_category.find(static_cast<Category>(i));
      FUZZ_CHECK(s.disbursed_by_category[i].value() ==
                     (it == ref.disbursed_by_category.end() ? 0 : it->second),
                 "case %s: disbursed in category %zu differs", name, i);
    }
    FUZZ_CHECK(by_category == s.disbursed.value(), "case %s: categories do not sum", name);
    const engine::CaseStatus status = ref.closed        ? engine::CaseStatus::kClosed
                                      : net >= ref.goal ? engine::CaseStatus::kFunded
                                                        : engine::CaseStatus::kOpen;
    FUZZ_CHECK(s.status() == status, "case %s: status", name);
    if (status == engine::CaseStatus::kFunded) {
      FUZZ_CHECK(s.fully_funded_at.has_value(), "case %s: funded without fully_funded_at", name);
    }
  }

  std::map<std::string, RefCase> cases_;
  int64_t records_ = 0, applied_ = 0, duplicates_ = 0, rejected_ = 0;
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
