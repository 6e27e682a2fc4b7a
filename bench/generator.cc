#include "bench/generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/check.h"
#include "events/codec.h"
#include "events/money.h"
#include "events/ndjson.h"

namespace homeward::bench {
namespace {

using events::Category;
using events::EventType;

constexpr int64_t kMillion = 1'000'000;
// 2015-01-01T00:00:00Z: the pilot's year, so generated data reads like it.
constexpr int64_t kStartMicros = 1'420'070'400LL * kMillion;
constexpr size_t kRecentLines = 1024;  // the window that re-sent lines are taken from
constexpr size_t kFlushBytes = size_t{1} << 20;
constexpr double kZipfExponent = 1.1;

// Shares, in parts per million, of the events that follow the openings.
// Donations take what is left (about 85.5%); a kind that cannot happen at that
// moment (no outstanding pledge, nothing to refund) becomes a donation too.
constexpr int64_t kDuplicatePpm = 5'000;
constexpr int64_t kRejectPpm = 5'000;
constexpr int64_t kPledgeMadePpm = 35'000;
constexpr int64_t kPledgeResolvePpm = 30'000;
constexpr int64_t kRefundPpm = 15'000;
constexpr int64_t kDisbursePpm = 50'000;
constexpr int64_t kGoalChangePpm = 4'000;
constexpr int64_t kClosePpm = 1'000;

// Case currencies. Amounts are drawn in US cents and converted with a fixed
// integer rate (num / den minor units per US cent), then rounded to `step`
// minor units so that they look like what donors give (whole dollars, ten
// baht, a hundred yen, half a dinar).
struct CurrencyMix {
  std::string_view code;
  int64_t ppm;
  int64_t num;
  int64_t den;
  int64_t step;
};
constexpr std::array<CurrencyMix, 5> kCurrencyMix{{
    {"USD", 700'000, 1, 1, 100},
    {"EUR", 120'000, 92, 100, 100},
    {"THB", 100'000, 36, 1, 1'000},
    {"JPY", 50'000, 3, 2, 100},
    {"KWD", 30'000, 307, 100, 500},
}};

// Random numbers from std::mt19937_64, whose sequence the standard fixes, with
// our own sampling so that the output does not depend on the standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, n) by Lemire's multiply-shift; the bias is below n / 2^64.
  uint64_t below(uint64_t n) {
    HOMEWARD_CHECK(n > 0, "below() needs a positive bound");
    return static_cast<uint64_t>((static_cast<unsigned __int128>(engine_()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t between(int64_t lo, int64_t hi) {
    HOMEWARD_CHECK(lo <= hi, "between() needs lo <= hi");
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool chance_ppm(int64_t ppm) { return static_cast<int64_t>(below(kMillion)) < ppm; }
  // Uniform in [0, 1) with 53 random bits.
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

struct DonationState {
  int64_t seq = 0;  // the event id's number
  int64_t amount = 0;
  int64_t refunded = 0;
};

// What the generator must know of a case to write events that stage 2
// applies: the same figures the ledger keeps, reduced to what is needed.
struct CaseState {
  std::string id;
  size_t mix = 0;  // index into kCurrencyMix
  events::Currency currency;
  int64_t goal = 0;
  int64_t opening_goal = 0;          // goal changes stay around it, so goals cannot drift away
  std::vector<Category> categories;  // budget categories, sorted; empty: goal only
  int64_t net = 0;                   // received - refunded
  int64_t disbursed = 0;
  bool closed = false;
  std::vector<DonationState> donations;

  [[nodiscard]] int64_t available() const { return net - disbursed; }
};

struct OutstandingPledge {
  size_t case_index = 0;
  int64_t seq = 0;
  int64_t amount = 0;
};

struct RecentLine {
  std::string text;
  EventType type = EventType::kCaseOpened;
  int64_t wire_size = 0;
};

class Generator {
 public:
  Generator(const GeneratorOptions& options, std::ostream& out)
      : options_(options), out_(out), rng_(options.seed) {}

  Result<GeneratorSummary> run() {
    summary_.cases = options_.cases;
    summary_.donors = options_.donors;
    buffer_.reserve(kFlushBytes + 4096);
    build_zipf_table();
    for (int64_t i = 0; i < options_.cases && summary_.lines < options_.events; ++i) {
      if (auto status = open_case(); !status) return std::unexpected(status.error());
    }
    while (summary_.lines < options_.events) {
      if (auto status = next_event(); !status) return std::unexpected(status.error());
    }
    if (auto status = flush(); !status) return std::unexpected(status.error());
    return summary_;
  }

 private:
  // --- choosing ---------------------------------------------------------------------------

  // Case popularity follows Zipf(s): rank k draws in proportion to 1/k^s. The
  // ranks are shuffled over the case ids so that popular cases are spread
  // through the id space rather than being the first ones opened.
  void build_zipf_table() {
    const auto count = static_cast<size_t>(options_.cases);
    zipf_cdf_.resize(count);
    double total = 0;
    for (size_t k = 0; k < count; ++k) {
      total += 1.0 / std::pow(static_cast<double>(k + 1), kZipfExponent);
      zipf_cdf_[k] = total;
    }
    rank_to_case_.resize(count);
    for (size_t i = 0; i < count; ++i) rank_to_case_[i] = i;
    for (size_t i = count; i > 1; --i)
      std::swap(rank_to_case_[i - 1], rank_to_case_[rng_.below(i)]);
  }

  size_t pick_case() {
    const double u = rng_.unit() * zipf_cdf_.back();
    auto rank = static_cast<size_t>(std::upper_bound(zipf_cdf_.begin(), zipf_cdf_.end(), u) -
                                    zipf_cdf_.begin());
    rank = std::min(rank, zipf_cdf_.size() - 1);
    return rank_to_case_[rank];
  }

  size_t pick_currency() {
    auto r = static_cast<int64_t>(rng_.below(kMillion));
    for (size_t i = 0; i < kCurrencyMix.size(); ++i) {
      if (r < kCurrencyMix[i].ppm) return i;
      r -= kCurrencyMix[i].ppm;
    }
    return 0;
  }

  static int64_t round_to_step(int64_t minor, int64_t step) {
    return std::max(step, minor / step * step);
  }

  static int64_t convert(int64_t usd_cents, const CurrencyMix& mix) {
    return usd_cents * mix.num / mix.den;
  }

  // A gift in the case's currency: many small, few large (55% $5-50, 30%
  // $50-200, 12% $200-1,000, 3% $1,000-10,000), some with cents.
  int64_t donation_amount(const CaseState& c) {
    const auto tier = static_cast<int64_t>(rng_.below(100));
    int64_t dollars = 0;
    if (tier < 55) {
      dollars = rng_.between(5, 50);
    } else if (tier < 85) {
      dollars = rng_.between(50, 200);
    } else if (tier < 97) {
      dollars = rng_.between(200, 1'000);
    } else {
      dollars = rng_.between(1'000, 10'000);
    }
    const CurrencyMix& mix = kCurrencyMix[c.mix];
    int64_t minor = round_to_step(convert(dollars * 100, mix), mix.step);
    if (c.currency.exponent == 2 && mix.step == 100 && rng_.chance_ppm(150'000)) {
      minor += static_cast<int64_t>(rng_.below(100));
    }
    return minor;
  }

  // Goals and budget lines are whole multiples of ten `step`s (US$10, 100
  // baht, 1,000 yen, 5 dinars).
  static int64_t goal_step(const CaseState& c) { return kCurrencyMix[c.mix].step * 10; }

  // A goal of US$500-8,000 in the case's currency. The smallest possible goal
  // is at least 30 goal steps, enough to give each of 4 categories one.
  int64_t goal_amount(const CaseState& c) {
    return round_to_step(convert(rng_.between(500, 8'000) * 100, kCurrencyMix[c.mix]),
                         goal_step(c));
  }

  // Splits `goal` (a multiple of the goal step, at least one per category)
  // over the case's categories; every line gets at least one step.
  events::FundingPlan plan_for(const CaseState& c, int64_t goal) {
    events::FundingPlan plan{c.currency, MinorUnits(goal), std::nullopt};
    if (c.categories.empty()) return plan;
    const int64_t step = goal_step(c);
    const auto count = static_cast<int64_t>(c.categories.size());
    int64_t remaining = goal / step - count;
    HOMEWARD_CHECK(goal % step == 0 && remaining >= 0, "a goal too small to split");
    std::vector<events::BudgetLine> lines;
    for (int64_t i = 0; i < count; ++i) {
      int64_t extra = remaining;
      if (i + 1 < count) {
        extra = std::min(remaining, static_cast<int64_t>(rng_.below(
                                        static_cast<uint64_t>(remaining / (count - i) * 2 + 1))));
      }
      remaining -= extra;
      lines.push_back({c.categories[static_cast<size_t>(i)], MinorUnits((1 + extra) * step)});
    }
    plan.budget = std::move(lines);
    return plan;
  }

  // --- writing -----------------------------------------------------------------------------

  // Keeps the last kRecentLines lines, for re-sending.
  void remember(std::string_view line, EventType type, int64_t wire_size) {
    if (recent_.size() < kRecentLines) {
      recent_.push_back({std::string(line), type, wire_size});
    } else {
      recent_[recent_next_] = {std::string(line), type, wire_size};
      recent_next_ = (recent_next_ + 1) % kRecentLines;
    }
  }

  Status write_line(std::string_view line, EventType type, int64_t wire_size) {
    buffer_.append(line);
    buffer_.push_back('\n');
    ++summary_.lines;
    summary_.bytes += static_cast<int64_t>(line.size()) + 1;
    summary_.wire_bytes += wire_size;
    ++summary_.by_type[static_cast<size_t>(type)];
    if (buffer_.size() >= kFlushBytes) return flush();
    return {};
  }

  Status flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
    if (!out_) return make_error(ErrorCode::kIo, "writing the generated events failed");
    return {};
  }

  Status emit(size_t case_index, events::EventBody body) {
    events::Event event{event_id(next_seq()), next_time(), cases_[case_index].id, std::nullopt,
                        std::move(body)};
    return emit_event(event);
  }

  Status emit_event(const events::Event& event) {
    const std::string line = events::format_event_json(event);
    // The size of the record the log will hold, for benchmarks that compare
    // with raw RocksDB writes of the same size.
    const auto wire_size = static_cast<int64_t>(events::encode_event(event).size());
    remember(line, event.type(), wire_size);
    return write_line(line, event.type(), wire_size);
  }

  int64_t next_seq() { return ++seq_; }
  // Ids are unique over the whole stream, so a re-sent line is the only
  // repeated id and always an exact duplicate.
  static std::string event_id(int64_t seq) { return fmt::format("ev-{}", seq); }

  // Events are 1 to 90 seconds apart, one in ten with microseconds.
  TimestampMicros next_time() {
    clock_ += rng_.between(1, 90) * kMillion;
    if (rng_.chance_ppm(100'000)) clock_ += static_cast<int64_t>(rng_.below(kMillion));
    return TimestampMicros(clock_);
  }

  // --- the event kinds ----------------------------------------------------------------------

  Status open_case() {
    CaseState c;
    c.id = fmt::format("case-{:06d}", cases_.size() + 1);
    c.mix = pick_currency();
    const std::optional<events::Currency> currency =
        events::find_currency(kCurrencyMix[c.mix].code);
    HOMEWARD_CHECK(currency.has_value(), "a currency of the mix is not in the currency table");
    c.currency = *currency;
    c.goal = goal_amount(c);
    c.opening_goal = c.goal;
    if (rng_.chance_ppm(850'000)) {
      std::array<Category, events::kCategoryCount> all{};
      for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Category>(i);
      const auto count = static_cast<size_t>(rng_.between(2, 4));
      for (size_t i = 0; i < count; ++i) {
        std::swap(all[i], all[i + rng_.below(all.size() - i)]);
      }
      c.categories.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count));
      std::sort(c.categories.begin(), c.categories.end());
    }
    ++summary_.cases_by_currency[std::string(c.currency.code_view())];
    cases_.push_back(std::move(c));
    const size_t index = cases_.size() - 1;
    return emit(index, events::CaseOpened{plan_for(cases_[index], cases_[index].goal)});
  }

  Status donation(size_t case_index) {
    CaseState& c = cases_[case_index];
    const int64_t amount = donation_amount(c);
    const int64_t seq = next_seq();
    c.donations.push_back({seq, amount, 0});
    c.net += amount;
    events::Event event{event_id(seq), next_time(), c.id, std::nullopt,
                        events::DonationReceived{donor_ref(), MinorUnits(amount), c.currency}};
    return emit_event(event);
  }

  std::string donor_ref() {
    return fmt::format("donor-{}", rng_.below(static_cast<uint64_t>(options_.donors)) + 1);
  }

  Status pledge_made(size_t case_index) {
    CaseState& c = cases_[case_index];
    if (c.closed) return donation(case_index);  // stage 2 refuses pledges to closed cases
    const int64_t amount = donation_amount(c);
    const int64_t seq = next_seq();
    pledges_.push_back({case_index, seq, amount});
    events::Event event{event_id(seq), next_time(), c.id, std::nullopt,
                        events::PledgeMade{donor_ref(), MinorUnits(amount), c.currency}};
    return emit_event(event);
  }

  // Keeps three pledges in four; the rest are cancelled.
  Status pledge_resolved(size_t fallback_case) {
    if (pledges_.empty()) return donation(fallback_case);
    const size_t pick = rng_.below(pledges_.size());
    const OutstandingPledge pledge = pledges_[pick];
    pledges_[pick] = pledges_.back();
    pledges_.pop_back();
    CaseState& c = cases_[pledge.case_index];
    if (rng_.chance_ppm(750'000)) {
      const int64_t seq = next_seq();
      c.donations.push_back({seq, pledge.amount, 0});
      c.net += pledge.amount;
      events::Event event{event_id(seq), next_time(), c.id, std::nullopt,
                          events::PledgeFulfilled{event_id(pledge.seq)}};
      return emit_event(event);
    }
    std::optional<std::string> reason;
    if (rng_.chance_ppm(500'000)) reason = "Donor withdrew the pledge.";
    return emit(pledge.case_index, events::PledgeCancelled{event_id(pledge.seq), reason});
  }

  // One refund in five is a chargeback of the whole gift (applied even when
  // the money was spent); donor requests give back all or half of what is
  // left of the gift, never more than the case has available.
  Status refund(size_t case_index) {
    CaseState& c = cases_[case_index];
    if (c.donations.empty()) return donation(case_index);
    DonationState& d = c.donations[rng_.below(c.donations.size())];
    const int64_t refundable = d.amount - d.refunded;
    if (refundable <= 0) return donation(case_index);
    int64_t amount = refundable;
    events::RefundReason reason = events::RefundReason::kChargeback;
    if (!rng_.chance_ppm(200'000)) {
      reason = events::RefundReason::kDonorRequest;
      if (rng_.chance_ppm(500'000)) amount = std::max<int64_t>(1, refundable / 2);
      amount = std::min(amount, c.available());
      if (amount <= 0) return donation(case_index);
    }
    d.refunded += amount;
    c.net -= amount;
    return emit(case_index,
                events::RefundIssued{event_id(d.seq), MinorUnits(amount), c.currency, reason});
  }

  // 20-80% of what is available, against a budget category when there is one.
  Status disbursement(size_t case_index) {
    CaseState& c = cases_[case_index];
    const int64_t available = c.available();
    if (available <= 0) return donation(case_index);
    int64_t amount = available * rng_.between(20, 80) / 100;
    amount = amount / kCurrencyMix[c.mix].step * kCurrencyMix[c.mix].step;
    if (amount <= 0) amount = available;
    c.disbursed += amount;
    const int64_t seq = next_seq();
    std::optional<std::string> reference;
    if (rng_.chance_ppm(500'000)) reference = fmt::format("inv-{}", seq);
    events::Event event{event_id(seq), next_time(), c.id, std::nullopt,
                        events::FundsDisbursed{pick_category(c), MinorUnits(amount), c.currency,
                                               std::move(reference)}};
    return emit_event(event);
  }

  Category pick_category(const CaseState& c) {
    if (!c.categories.empty()) return c.categories[rng_.below(c.categories.size())];
    return static_cast<Category>(rng_.below(events::kCategoryCount));
  }

  // The officer reassesses the needs: the new goal is 80% to 150% of the
  // goal at opening (never of the latest one, which could drift without
  // bound over many changes); the budget keeps its categories.
  Status goal_change(size_t case_index) {
    CaseState& c = cases_[case_index];
    if (c.closed) return donation(case_index);  // stage 2 refuses changes to closed cases
    c.goal = round_to_step(c.opening_goal * rng_.between(80, 150) / 100, goal_step(c));
    std::optional<std::string> reason;
    if (rng_.chance_ppm(500'000)) reason = "Needs reassessment by the case officer.";
    return emit(case_index, events::CaseGoalChanged{plan_for(c, c.goal), reason});
  }

  Status close(size_t fallback_case) {
    const size_t case_index = rng_.below(cases_.size());
    CaseState& c = cases_[case_index];
    if (c.closed) return donation(fallback_case);
    c.closed = true;
    const auto r = rng_.below(100);
    const auto reason = r < 60   ? events::CloseReason::kCompleted
                        : r < 85 ? events::CloseReason::kCancelled
                                 : events::CloseReason::kOther;
    return emit(case_index, events::CaseClosed{reason});
  }

  // An event that stage 2 must reject: a refund of a donation that does not
  // exist (unknown_donation) or a disbursement over the funds available
  // (insufficient_funds). The generator's state is left unchanged.
  Status rejected_event(size_t case_index) {
    const CaseState& c = cases_[case_index];
    ++summary_.expected_rejections;
    if (rng_.below(2) == 0) {
      const int64_t seq = next_seq();
      events::Event event{
          event_id(seq), next_time(), c.id, std::nullopt,
          events::RefundIssued{fmt::format("void-{}", seq), MinorUnits(kCurrencyMix[c.mix].step),
                               c.currency, events::RefundReason::kDonorRequest}};
      return emit_event(event);
    }
    const int64_t amount =
        std::max<int64_t>(c.available(), 0) + rng_.between(1, 100) * kCurrencyMix[c.mix].step;
    return emit(case_index, events::FundsDisbursed{pick_category(c), MinorUnits(amount), c.currency,
                                                   std::nullopt});
  }

  // A line sent again, byte for byte, as a client retrying after a timeout would.
  Status duplicate(size_t fallback_case) {
    if (recent_.empty()) return donation(fallback_case);
    const RecentLine& line = recent_[rng_.below(recent_.size())];
    ++summary_.duplicates;
    return write_line(line.text, line.type, line.wire_size);
  }

  Status next_event() {
    const size_t case_index = pick_case();
    auto r = static_cast<int64_t>(rng_.below(kMillion));
    if ((r -= kDuplicatePpm) < 0) return duplicate(case_index);
    if ((r -= kRejectPpm) < 0) return rejected_event(case_index);
    if ((r -= kPledgeMadePpm) < 0) return pledge_made(case_index);
    if ((r -= kPledgeResolvePpm) < 0) return pledge_resolved(case_index);
    if ((r -= kRefundPpm) < 0) return refund(case_index);
    if ((r -= kDisbursePpm) < 0) return disbursement(case_index);
    if ((r -= kGoalChangePpm) < 0) return goal_change(case_index);
    if ((r -= kClosePpm) < 0) return close(case_index);
    return donation(case_index);
  }

  GeneratorOptions options_;
  std::ostream& out_;
  Rng rng_;
  GeneratorSummary summary_;
  std::string buffer_;
  int64_t seq_ = 0;
  int64_t clock_ = kStartMicros;
  std::vector<CaseState> cases_;
  std::vector<double> zipf_cdf_;
  std::vector<size_t> rank_to_case_;
  std::vector<OutstandingPledge> pledges_;
  std::vector<RecentLine> recent_;
  size_t recent_next_ = 0;
};

}  // namespace

Result<GeneratorOptions> resolve_options(const GeneratorOptions& options) {
  GeneratorOptions resolved = options;
  if (resolved.events < 1) {
    return make_error(ErrorCode::kInvalidArgument, "--events must be at least 1");
  }
  if (resolved.cases < 0 || resolved.donors < 0) {
    return make_error(ErrorCode::kInvalidArgument, "--cases and --donors must not be negative");
  }
  if (resolved.cases == 0) resolved.cases = std::max<int64_t>(1, resolved.events / 100);
  if (resolved.donors == 0) resolved.donors = std::max<int64_t>(1, resolved.events / 5);
  if (resolved.cases > resolved.events) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("--cases ({}) must not exceed --events ({}): every case is "
                                  "opened by one event",
                                  resolved.cases, resolved.events));
  }
  return resolved;
}

Result<GeneratorSummary> generate(const GeneratorOptions& options, std::ostream& out) {
  Result<GeneratorOptions> resolved = resolve_options(options);
  if (!resolved) return std::unexpected(resolved.error());
  Generator generator(*resolved, out);
  return generator.run();
}

}  // namespace homeward::bench
