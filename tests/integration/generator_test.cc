// The load generator (bench/generator.h): deterministic, exact in length,
// every line a valid event, a realistic mix, and a stream whose outcome under
// the real ledger rules is exactly what the generator meant.
#include "bench/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/case_ledger.h"
#include "engine/rules.h"
#include "events/event.h"
#include "events/ndjson.h"

namespace homeward::bench {
namespace {

using events::EventType;

struct Generated {
  GeneratorSummary summary;
  std::string text;
};

Generated generate_text(GeneratorOptions options) {
  std::ostringstream out;
  Result<GeneratorSummary> summary = generate(options, out);
  EXPECT_TRUE(summary.has_value()) << (summary ? "" : summary.error().message);
  return {summary.value_or(GeneratorSummary{}), out.str()};
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "the output does not end with a newline";
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

int64_t count_of(const GeneratorSummary& summary, EventType type) {
  return summary.by_type[static_cast<size_t>(type)];
}

TEST(GeneratorTest, SameSeedGivesIdenticalBytes) {
  const GeneratorOptions options{.events = 5'000, .cases = 40, .donors = 700, .seed = 42};
  const Generated first = generate_text(options);
  const Generated second = generate_text(options);
  ASSERT_FALSE(first.text.empty());
  EXPECT_EQ(first.text, second.text);

  GeneratorOptions other_seed = options;
  other_seed.seed = 43;
  EXPECT_NE(generate_text(other_seed).text, first.text);
}

TEST(GeneratorTest, WritesExactlyTheRequestedNumberOfLines) {
  for (const int64_t events : {1, 2, 7, 1'000, 12'345}) {
    const Generated generated = generate_text({.events = events, .seed = 3});
    const auto newlines = std::count(generated.text.begin(), generated.text.end(), '\n');
    EXPECT_EQ(newlines, events) << "events " << events;
    EXPECT_EQ(generated.summary.lines, events);
    EXPECT_EQ(generated.summary.bytes, static_cast<int64_t>(generated.text.size()));
  }
}

TEST(GeneratorTest, EveryLineParsesAndIsCanonical) {
  const Generated generated = generate_text({.events = 20'000, .seed = 11});
  const std::vector<std::string_view> lines = split_lines(generated.text);
  ASSERT_EQ(lines.size(), 20'000u);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto event = events::parse_event_json(lines[i]);
    ASSERT_TRUE(event.has_value())
        << "line " << i + 1 << ": " << event.error().field << ": " << event.error().reason << "\n"
        << lines[i];
    ASSERT_EQ(events::format_event_json(*event), lines[i]) << "line " << i + 1;
  }
}

TEST(GeneratorTest, OpensEveryCaseFirst) {
  const Generated generated = generate_text({.events = 3'000, .cases = 25, .seed = 5});
  const std::vector<std::string_view> lines = split_lines(generated.text);
  ASSERT_EQ(lines.size(), 3'000u);
  std::vector<std::string> opened;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto event = events::parse_event_json(lines[i]);
    ASSERT_TRUE(event.has_value());
    if (i < 25) {
      ASSERT_EQ(event->type(), EventType::kCaseOpened) << "line " << i + 1;
      opened.push_back(event->case_id);
    } else if (event->type() == EventType::kCaseOpened) {
      // Only a re-sent line may open a case again, and it repeats an opening.
      EXPECT_NE(std::find(opened.begin(), opened.end(), event->case_id), opened.end());
    }
  }
  EXPECT_EQ(opened.size(), 25u);
  EXPECT_EQ(generated.summary.cases, 25);
}

TEST(GeneratorTest, MixIsMostlyDonationsWithEveryOtherKind) {
  const Generated generated = generate_text({.events = 100'000, .seed = 1});
  const GeneratorSummary& s = generated.summary;
  ASSERT_EQ(s.lines, 100'000);
  const double donations =
      static_cast<double>(count_of(s, EventType::kDonationReceived)) / static_cast<double>(s.lines);
  EXPECT_GE(donations, 0.75);
  EXPECT_LE(donations, 0.92);
  for (size_t i = 0; i < events::kEventTypeCount; ++i) {
    EXPECT_GT(s.by_type[i], 0) << events::to_string(static_cast<EventType>(i));
  }
  // Every case is opened once; more openings can only be re-sent lines.
  EXPECT_GE(count_of(s, EventType::kCaseOpened), s.cases);
  EXPECT_LE(count_of(s, EventType::kCaseOpened), s.cases + s.duplicates);
  // About 0.5% each of re-sent lines and of lines meant to be rejected.
  EXPECT_GE(s.duplicates, 300);
  EXPECT_LE(s.duplicates, 800);
  EXPECT_GE(s.expected_rejections, 300);
  EXPECT_LE(s.expected_rejections, 800);
  // USD for most cases, and the other currencies present.
  ASSERT_EQ(s.cases, 1'000);
  EXPECT_GT(s.cases_by_currency.at("USD"), 600);
  for (const char* code : {"EUR", "THB", "JPY", "KWD"}) {
    EXPECT_GT(s.cases_by_currency.at(code), 0) << code;
  }
}

TEST(GeneratorTest, DonationsConcentrateOnFewCases) {
  const Generated generated = generate_text({.events = 50'000, .cases = 500, .seed = 9});
  std::map<std::string, int64_t> donations_by_case;
  for (std::string_view line : split_lines(generated.text)) {
    auto event = events::parse_event_json(line);
    ASSERT_TRUE(event.has_value());
    if (event->type() == EventType::kDonationReceived) ++donations_by_case[event->case_id];
  }
  std::vector<int64_t> counts;
  for (const auto& [case_id, count] : donations_by_case) counts.push_back(count);
  std::sort(counts.begin(), counts.end(), std::greater<>());
  ASSERT_GT(counts.size(), 100u);
  // With Zipf s = 1.1 over 500 cases the top case draws about 19% of the
  // donations, the median case well under 0.2%.
  const int64_t median = counts[counts.size() / 2];
  EXPECT_GT(counts.front(), 20 * std::max<int64_t>(median, 1));
}

// Folds the stream with the real stage-2 rules: every line is applied except
// the re-sent ones (duplicates) and the ones written to be rejected.
TEST(GeneratorTest, StageTwoOutcomesMatchWhatTheGeneratorIntended) {
  const Generated generated = generate_text({.events = 30'000, .cases = 200, .seed = 21});
  std::map<std::string, engine::CaseLedger> ledgers;
  int64_t applied = 0;
  int64_t duplicates = 0;
  std::map<engine::RejectReason, int64_t> rejected;
  for (std::string_view line : split_lines(generated.text)) {
    auto event = events::parse_event_json(line);
    ASSERT_TRUE(event.has_value());
    engine::CaseLedger& ledger = ledgers[event->case_id];
    ledger.case_id = event->case_id;
    const engine::Outcome outcome = engine::handle_event(ledger, *event).value();
    switch (outcome.disposition) {
      case engine::Disposition::kApplied:
        ++applied;
        break;
      case engine::Disposition::kDuplicate:
        ++duplicates;
        break;
      case engine::Disposition::kRejected:
        ++rejected[outcome.reason];
        break;
    }
  }
  const GeneratorSummary& s = generated.summary;
  EXPECT_EQ(duplicates, s.duplicates);
  int64_t rejected_total = 0;
  for (const auto& [reason, count] : rejected) {
    EXPECT_TRUE(reason == engine::RejectReason::kUnknownDonation ||
                reason == engine::RejectReason::kInsufficientFunds)
        << engine::to_string(reason) << " x" << count;
    rejected_total += count;
  }
  EXPECT_EQ(rejected_total, s.expected_rejections);
  EXPECT_EQ(applied + duplicates + rejected_total, s.lines);
}

TEST(GeneratorTest, RefusesMoreCasesThanEvents) {
  auto resolved = resolve_options({.events = 10, .cases = 11});
  ASSERT_FALSE(resolved.has_value());
  EXPECT_EQ(resolved.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(resolved.error().message.find("--cases"), std::string::npos);

  EXPECT_FALSE(resolve_options({.events = 0}).has_value());
  EXPECT_FALSE(resolve_options({.events = 10, .donors = -1}).has_value());

  auto automatic = resolve_options({.events = 1'000});
  ASSERT_TRUE(automatic.has_value());
  EXPECT_EQ(automatic->cases, 10);
  EXPECT_EQ(automatic->donors, 200);
}

}  // namespace
}  // namespace homeward::bench
