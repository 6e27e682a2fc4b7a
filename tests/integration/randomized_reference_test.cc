// Randomized comparison of the real projector with a small reference fold.
//
// The reference (tests/support/reference_fold.h, shared with the projector's
// fuzz target) is a second, deliberately plain implementation of SPEC
// sections 4-5, written from the text of the SPEC and sharing no code with
// engine/rules.cc; section 6 (the impact report) is computed from it below. Thousands of
// random streams go through the real path: Publisher -> EmbeddedLog (RocksDB)
// -> Projector (decode, rules) -> RocksProjectionStore, and every figure of
// every case, every rejection and the impact report must match the reference.
//
// Each stream uses its own case ids (prefix "sN-"), so all streams share one
// log and one store: the projector resumes across streams (and a fresh
// Projector is created every few streams, so cases are reloaded from RocksDB),
// and the impact report is compared once over the union at the end. Donor refs
// are shared across streams so that the distinct-donor count spans cases.
//
// On a failure the seed, the stream number and the stream as NDJSON are
// printed; set HOMEWARD_REFERENCE_SEED to replay one seed.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "connectors/embedded_log/embedded_log.h"
#include "engine/projector.h"
#include "engine/publisher.h"
#include "events/event.h"
#include "events/money.h"
#include "events/ndjson.h"
#include "projections/rocksdb_store.h"
#include "tests/support/reference_fold.h"
#include "tests/support/temp_dir.h"

namespace homeward {
namespace {

using events::Category;
using events::Event;
using events::EventType;
using testing::RefCase;
using testing::ReferenceFold;
using testing::RefRejection;

// ---------------------------------------------------------------- generator

class StreamGenerator {
 public:
  explicit StreamGenerator(uint64_t seed) : rng_(seed) {}

  // A stream over 1-3 cases of one stream prefix, with deliberate collisions:
  // reused event ids, references to unknown or used pledges and donations,
  // mismatched currencies, closed cases, amounts around the available funds.
  std::vector<Event> stream(int index, int length) {
    std::vector<Event> out;
    const int case_count = 1 + pick(3);
    std::vector<std::string> case_ids;
    for (int i = 0; i < case_count; ++i) {
      case_ids.push_back(fmt::format("s{}-c{}", index, i));
    }
    std::vector<Event> history;
    int64_t clock = 1'430'000'000'000'000 + pick(1000) * 1'000'000LL;
    for (int n = 0; n < length; ++n) {
      clock += (pick(10) == 0 ? -1 : 1) * pick(200'000) * 1'000'000LL;  // mostly forward
      if (!history.empty() && pick(25) == 0) {
        Event again = history[pick(static_cast<int>(history.size()))];
        if (pick(2) == 0) again.source = fmt::format("retry-{}", pick(3));  // conflicting
        out.push_back(again);
        continue;
      }
      Event e;
      e.event_id = fmt::format("e{}-{}", index, n);
      e.case_id = case_ids[pick(case_count)];
      e.occurred_at = TimestampMicros(clock);
      e.body = body(n, history, e.case_id);
      history.push_back(e);
      out.push_back(std::move(e));
    }
    return out;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  events::Currency currency() {
    static const char* kCodes[] = {"USD", "USD", "USD", "JPY", "KWD"};
    return *events::find_currency(kCodes[pick(5)]);
  }
  MinorUnits amount() {
    switch (pick(8)) {
      case 0:
        return MinorUnits(1 + pick(5));
      case 1:
        return MinorUnits(100'000 + pick(900'000));
      default:
        // Round amounts, like the round goals below, so that net == goal
        // (the edge of "funded") happens often.
        return MinorUnits(100 * (1 + pick(200)));
    }
  }
  Category category() { return static_cast<Category>(pick(events::kCategoryCount)); }

  events::FundingPlan plan() {
    events::FundingPlan p;
    p.currency = currency();
    if (pick(3) == 0) {
      p.goal = MinorUnits(100 * (5 + pick(600)));
      return p;
    }
    std::vector<events::BudgetLine> lines;
    int64_t sum = 0;
    for (size_t c = 0; c < events::kCategoryCount; ++c) {
      if (pick(3) != 0) continue;
      const MinorUnits a(100 * (1 + pick(300)));
      lines.push_back({static_cast<Category>(c), a});
      sum += a.value();
    }
    if (lines.empty()) {
      lines.push_back({Category::kShelter, MinorUnits(1000)});
      sum = 1000;
    }
    p.goal = MinorUnits(sum);
    p.budget = std::move(lines);
    return p;
  }

  // An id that some earlier event of the stream carried (or a fresh one).
  std::string earlier_id(const std::vector<Event>& history, EventType wanted) {
    std::vector<const Event*> candidates;
    for (const auto& e : history) {
      if (e.type() == wanted) candidates.push_back(&e);
    }
    if (candidates.empty() || pick(8) == 0) return fmt::format("nope-{}", pick(1000));
    return candidates[pick(static_cast<int>(candidates.size()))]->event_id;
  }

  events::EventBody body(int n, const std::vector<Event>& history, const std::string&) {
    const int roll = n < 2 ? 0 : pick(100);
    if (roll < 6) return events::CaseOpened{plan()};
    if (roll < 9)
      return events::CaseGoalChanged{
          plan(), pick(2) ? std::optional<std::string>("needs reassessed") : std::nullopt};
    if (roll < 11) {
      return events::CaseClosed{static_cast<events::CloseReason>(pick(events::kCloseReasonCount))};
    }
    if (roll < 55) return events::DonationReceived{donor(), amount(), currency()};
    if (roll < 63) return events::PledgeMade{donor(), amount(), currency()};
    if (roll < 69) return events::PledgeFulfilled{earlier_id(history, EventType::kPledgeMade)};
    if (roll < 73) {
      return events::PledgeCancelled{earlier_id(history, EventType::kPledgeMade), std::nullopt};
    }
    if (roll < 87) {
      const EventType source_type =
          pick(4) == 0 ? EventType::kPledgeFulfilled : EventType::kDonationReceived;
      return events::RefundIssued{
          earlier_id(history, source_type), amount(), currency(),
          static_cast<events::RefundReason>(pick(events::kRefundReasonCount))};
    }
    return events::FundsDisbursed{category(), amount(), currency(),
                                  pick(2) ? std::optional<std::string>("inv-7") : std::nullopt};
  }

  std::string donor() { return fmt::format("d-{}", pick(60)); }

  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------- comparison

std::string stream_as_ndjson(const std::vector<Event>& stream) {
  std::string out;
  for (const auto& e : stream) out += events::format_event_json(e) + "\n";
  return out;
}

void expect_case_matches(const std::string& id, const RefCase& ref,
                         const engine::CaseSummary& got) {
  SCOPED_TRACE("case " + id);
  EXPECT_EQ(std::string(got.currency.code_view()), ref.currency);
  EXPECT_EQ(got.goal.value(), ref.goal);
  EXPECT_EQ(got.received.value(), ref.received);
  EXPECT_EQ(got.refunded.value(), ref.refunded);
  EXPECT_EQ(got.net().value(), ref.net());
  EXPECT_EQ(got.pledged.value(), ref.pledged);
  EXPECT_EQ(got.disbursed.value(), ref.disbursed);
  EXPECT_EQ(got.available().value(), ref.available());
  EXPECT_EQ(got.remaining().value(), std::max<int64_t>(ref.goal - ref.net(), 0));
  EXPECT_EQ(got.surplus().value(), std::max<int64_t>(ref.net() - ref.goal, 0));
  EXPECT_EQ(got.donations, ref.donations);
  EXPECT_EQ(got.donors, static_cast<int64_t>(ref.donors.size()));
  EXPECT_EQ(got.refunds, ref.refunds);
  EXPECT_EQ(got.opened_at.value(), ref.opened_at);
  EXPECT_EQ(got.fully_funded_at.has_value(), ref.fully_funded_at.has_value());
  if (got.fully_funded_at && ref.fully_funded_at) {
    EXPECT_EQ(got.fully_funded_at->value(), *ref.fully_funded_at);
  }
  EXPECT_EQ(got.closed_at.has_value(), ref.closed_at.has_value());
  if (got.closed_at && ref.closed_at) {
    EXPECT_EQ(got.closed_at->value(), *ref.closed_at);
  }
  EXPECT_EQ(got.close_reason, ref.close_reason);
  const engine::CaseStatus want_status = ref.close_reason        ? engine::CaseStatus::kClosed
                                         : ref.net() >= ref.goal ? engine::CaseStatus::kFunded
                                                                 : engine::CaseStatus::kOpen;
  EXPECT_EQ(got.status(), want_status);
  for (size_t i = 0; i < events::kCategoryCount; ++i) {
    const auto category = static_cast<Category>(i);
    const int64_t planned = ref.planned.contains(category) ? ref.planned.at(category) : 0;
    const int64_t disbursed =
        ref.disbursed_by_category.contains(category) ? ref.disbursed_by_category.at(category) : 0;
    SCOPED_TRACE(std::string(events::to_string(category)));
    EXPECT_EQ(got.shows_in_budget(category), planned > 0 || disbursed > 0);
    EXPECT_EQ(got.planned[i].value(), planned);
    EXPECT_EQ(got.disbursed_by_category[i].value(), disbursed);
  }
  EXPECT_EQ(got.events_applied, ref.applied);
  EXPECT_EQ(got.duplicates, ref.duplicates);
  EXPECT_EQ(got.events_rejected, ref.rejected);
}

uint64_t base_seed() {
  if (const char* s = std::getenv("HOMEWARD_REFERENCE_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

TEST(RandomizedReference, ProjectorAgreesWithReferenceFoldOnThousandsOfStreams) {
  const uint64_t seed = base_seed();
  std::cout << "randomized reference seed: " << seed
            << " (replay with HOMEWARD_REFERENCE_SEED=" << seed << ")\n";
  constexpr int kStreams = 2000;
  constexpr int kProjectorLifetimeStreams = 7;

  testing::TempDir dir;
  auto log = connectors::EmbeddedLog::open(dir.path() / "log");
  ASSERT_TRUE(log.has_value()) << log.error().message;
  auto store = projections::RocksProjectionStore::open(dir.path() / "projections");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  engine::Publisher publisher(**log);
  engine::ProjectorOptions options;
  options.batch_events_max = 13;  // batches end mid-stream and mid-case
  std::optional<engine::Projector> projector;

  ReferenceFold reference;
  StreamGenerator generator(seed);
  int64_t offset = 0;
  for (int s = 0; s < kStreams; ++s) {
    const std::vector<Event> stream = generator.stream(s, 5 + static_cast<int>(seed % 7) + s % 40);
    std::set<std::string> stream_cases;
    for (const auto& e : stream) {
      reference.fold(e, offset++);
      stream_cases.insert(e.case_id);
    }
    auto published = publisher.publish_events(stream);
    ASSERT_TRUE(published.has_value()) << published.error().message;
    ASSERT_EQ(published->appended, static_cast<int64_t>(stream.size()));

    if (s % kProjectorLifetimeStreams == 0) projector.emplace(**log, **store, options);
    auto caught_up = projector->catch_up();
    ASSERT_TRUE(caught_up.has_value()) << caught_up.error().message;

    SCOPED_TRACE(fmt::format("seed {}, stream {}:\n{}", seed, s, stream_as_ndjson(stream)));
    for (const auto& id : stream_cases) {
      auto got = (*store)->find_case(id);
      ASSERT_TRUE(got.has_value()) << got.error().message;
      const RefCase& ref = reference.cases.at(id);
      ASSERT_EQ(got->has_value(), ref.opened) << "case " << id;
      if (ref.opened) expect_case_matches(id, ref, **got);
    }
    if (::testing::Test::HasFailure()) return;  // one failing stream is enough to read
  }

  // Rejections: the reference lists them in log order; the store by case, then
  // log order. Sorting the reference the same way must give the same list.
  auto rejections = (*store)->list_rejections();
  ASSERT_TRUE(rejections.has_value()) << rejections.error().message;
  std::stable_sort(
      reference.rejections.begin(), reference.rejections.end(),
      [](const RefRejection& a, const RefRejection& b) { return a.case_id < b.case_id; });
  ASSERT_EQ(rejections->size(), reference.rejections.size());
  for (size_t i = 0; i < rejections->size(); ++i) {
    const auto& got = (*rejections)[i];
    const auto& want = reference.rejections[i];
    SCOPED_TRACE(fmt::format("rejection {} of event {}", i, want.event_id));
    EXPECT_EQ(got.case_id, want.case_id);
    EXPECT_EQ(got.event_id, want.event_id);
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(std::string(engine::to_string(got.reason)), want.reason);
    EXPECT_EQ(got.partition.value(), 0);
    EXPECT_EQ(got.offset.value(), want.offset);
  }

  // The impact report over every stream.
  auto report = (*store)->impact_report();
  ASSERT_TRUE(report.has_value()) << report.error().message;
  int64_t total = 0, open = 0, funded = 0, closed = 0, ever = 0, donations = 0, refunds = 0;
  std::map<std::string, std::array<__int128, 6>> by_currency;
  std::vector<int64_t> seconds;
  for (const auto& [id, c] : reference.cases) {
    if (!c.opened) continue;
    ++total;
    if (c.close_reason) {
      ++closed;
    } else if (c.net() >= c.goal) {
      ++funded;
    } else {
      ++open;
    }
    donations += c.donations;
    refunds += c.refunds;
    auto& sums = by_currency[c.currency];
    sums[0] += c.received;
    sums[1] += c.refunded;
    sums[2] += c.net();
    sums[3] += c.pledged;
    sums[4] += c.disbursed;
    sums[5] += std::max<int64_t>(c.net() - c.goal, 0);
    if (c.fully_funded_at) {
      ++ever;
      const int64_t micros = *c.fully_funded_at - c.opened_at;
      seconds.push_back(micros >= 0 ? micros / 1'000'000 : -((-micros + 999'999) / 1'000'000));
    }
  }
  EXPECT_EQ(report->cases_total, total);
  EXPECT_EQ(report->cases_open, open);
  EXPECT_EQ(report->cases_funded, funded);
  EXPECT_EQ(report->cases_closed, closed);
  EXPECT_EQ(report->cases_ever_fully_funded, ever);
  EXPECT_EQ(report->donations, donations);
  EXPECT_EQ(report->refunds, refunds);
  EXPECT_EQ(report->donors, static_cast<int64_t>(reference.all_donors.size()));
  ASSERT_EQ(report->by_currency.size(), by_currency.size());
  for (const auto& [code, sums] : by_currency) {
    SCOPED_TRACE(code);
    const auto& got = report->by_currency.at(code);
    EXPECT_TRUE(got.received == sums[0]);
    EXPECT_TRUE(got.refunded == sums[1]);
    EXPECT_TRUE(got.net == sums[2]);
    EXPECT_TRUE(got.pledged == sums[3]);
    EXPECT_TRUE(got.disbursed == sums[4]);
    EXPECT_TRUE(got.surplus == sums[5]);
  }
  std::sort(seconds.begin(), seconds.end());
  if (seconds.empty()) {
    EXPECT_FALSE(report->median_seconds_to_fully_funded.has_value());
  } else {
    ASSERT_TRUE(report->median_seconds_to_fully_funded.has_value());
    EXPECT_EQ(*report->median_seconds_to_fully_funded, seconds[(seconds.size() - 1) / 2]);
  }
  EXPECT_EQ(report->events.applied, reference.applied);
  EXPECT_EQ(report->events.duplicates, reference.duplicates);
  EXPECT_EQ(report->events.rejected, reference.rejected);
  for (size_t r = 0; r < engine::kRejectReasonCount; ++r) {
    const auto reason = static_cast<engine::RejectReason>(r);
    const std::string name(engine::to_string(reason));
    const int64_t want =
        reference.rejected_by_reason.contains(name) ? reference.rejected_by_reason.at(name) : 0;
    EXPECT_EQ(report->events.rejected_by_reason[r], want) << name;
  }
  EXPECT_GT(reference.duplicates, 0) << "the generator should produce duplicates";
  EXPECT_GE(reference.rejected_by_reason.size(), 8u) << "the generator should hit most reasons";
}

}  // namespace
}  // namespace homeward
