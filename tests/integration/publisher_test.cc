// The publisher over a real embedded log: every input line gets exactly one
// answer (appended, refused with its line and field, or failed to append),
// good lines are appended in input order, and all-or-nothing appends nothing
// when any line is refused.
#include "engine/publisher.h"

#include <chrono>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "bench/generator.h"
#include "connectors/embedded_log/embedded_log.h"
#include "events/codec.h"
#include "events/event.h"
#include "tests/engine/event_builders.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_streams.h"

namespace homeward::engine {
namespace {

using connectors::EmbeddedLog;
using testing::EndlessZeros;
using testing::FailingAfter;
using testing::TempDir;

std::string opened_line(const std::string& id, const std::string& case_id) {
  return fmt::format(
      R"({{"type":"CaseOpened","event_id":"{}","occurred_at":"2015-06-01T08:00:00Z",)"
      R"("case_id":"{}","currency":"USD","goal":"1500.00"}})",
      id, case_id);
}
std::string donation_line(const std::string& id, const std::string& case_id,
                          const std::string& amount = "25.00") {
  return fmt::format(
      R"({{"type":"DonationReceived","event_id":"{}","occurred_at":"2015-06-02T09:30:00Z",)"
      R"("case_id":"{}","donor_ref":"d-17","amount":"{}","currency":"USD"}})",
      id, case_id, amount);
}

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = EmbeddedLog::open(dir_.path());
    ASSERT_TRUE(log.has_value()) << log.error().message;
    log_ = std::move(*log);
  }

  Result<PublishReport> publish(const std::string& input, PublishOptions options = {}) {
    std::istringstream stream(input);
    Publisher publisher(*log_, options);
    return publisher.publish_ndjson(stream);
  }

  // Every record in the log, decoded; the key must be the event's case_id.
  std::vector<events::Event> logged_events() {
    std::vector<events::Event> out;
    EXPECT_TRUE(log_->seek({}).has_value());
    RecordBatch batch;
    for (;;) {
      auto status = log_->read(1000, std::chrono::milliseconds{0}, batch);
      EXPECT_TRUE(status.has_value());
      if (!status || batch.records.empty()) break;
      for (const LogRecord& record : batch.records) {
        auto event = events::decode_event(record.value);
        EXPECT_TRUE(event.has_value()) << (event ? "" : event.error().message);
        if (!event) continue;
        EXPECT_EQ(record.key, event->case_id);
        out.push_back(std::move(*event));
      }
    }
    return out;
  }

  std::vector<std::string> logged_ids() {
    std::vector<std::string> ids;
    for (const events::Event& event : logged_events()) ids.push_back(event.event_id);
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<EmbeddedLog> log_;
};

TEST_F(PublisherTest, GoodLinesAreAppendedInOrderAsTheirEvents) {
  const std::string input = opened_line("e1", "case-a") + "\n" + donation_line("e2", "case-a") +
                            "\n" + opened_line("e3", "case-b") + "\n" +
                            donation_line("e4", "case-b", "1.5") + "\n";
  auto report = publish(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 4);
  EXPECT_EQ(report->appended, 4);
  EXPECT_TRUE(report->refused.empty());
  EXPECT_TRUE(report->failed.empty());

  const auto logged = logged_events();
  ASSERT_EQ(logged.size(), 4u);
  EXPECT_EQ(logged[0].event_id, "e1");
  EXPECT_EQ(logged[1].event_id, "e2");
  EXPECT_EQ(logged[2].event_id, "e3");
  EXPECT_EQ(logged[2].case_id, "case-b");
  const auto& gift = std::get<events::DonationReceived>(logged[3].body);
  EXPECT_EQ(gift.amount, MinorUnits(150));
  EXPECT_EQ(gift.donor_ref, "d-17");
}

TEST_F(PublisherTest, EachAppendedLineIsReportedWithItsPositionInInputOrder) {
  // Line 2 is refused and line 3 is blank: neither has a position.
  const std::string input = opened_line("e1", "case-a") + "\nnot json\n\n" +
                            donation_line("e2", "case-a") + "\n" + opened_line("e3", "case-b") +
                            "\n";
  std::vector<std::pair<int64_t, LogPosition>> positions;
  std::vector<std::string> cases;
  PublishOptions options;
  options.batch_events_max = 2;  // two batches: the order holds across them
  options.on_appended = [&](int64_t line, std::string_view case_id, const LogPosition& position) {
    positions.emplace_back(line, position);
    cases.emplace_back(case_id);
  };
  auto report = publish(input, options);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->appended, 3);
  ASSERT_EQ(positions.size(), 3u);
  EXPECT_EQ(positions[0].first, 1);
  EXPECT_EQ(positions[1].first, 4);
  EXPECT_EQ(positions[2].first, 5);
  EXPECT_EQ(cases, (std::vector<std::string>{"case-a", "case-a", "case-b"}));
  // The positions are where the log holds each line's event.
  ASSERT_TRUE(log_->seek({}).has_value());
  RecordBatch batch;
  ASSERT_TRUE(log_->read(1000, std::chrono::milliseconds{0}, batch).has_value());
  ASSERT_EQ(batch.records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(positions[i].second.partition, batch.records[i].partition);
    EXPECT_EQ(positions[i].second.offset, batch.records[i].offset);
  }
}

TEST_F(PublisherTest, RefusalsCarryLineNumbersAndFields) {
  const std::string input = opened_line("e1", "case-a") + "\n" +             // 1
                            "this is not json\n" +                           // 2
                            donation_line("e2", "case-a", "1.005") + "\n" +  // 3: 3 decimals
                            donation_line("e3", "bad case id!") + "\n" +     // 4
                            R"({"type":"Nope","event_id":"e4"})" + "\n" +    // 5
                            donation_line("e5", "case-a") + "\n";            // 6
  auto report = publish(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 6);
  EXPECT_EQ(report->appended, 2);
  ASSERT_EQ(report->refused.size(), 4u);
  EXPECT_EQ(report->refused[0].line, 2);
  EXPECT_EQ(report->refused[0].field, "");
  EXPECT_EQ(report->refused[1].line, 3);
  EXPECT_EQ(report->refused[1].field, "amount");
  EXPECT_EQ(report->refused[2].line, 4);
  EXPECT_EQ(report->refused[2].field, "case_id");
  EXPECT_EQ(report->refused[3].line, 5);
  EXPECT_EQ(report->refused[3].field, "type");
  for (const Refusal& refusal : report->refused) EXPECT_FALSE(refusal.reason.empty());
  EXPECT_EQ(logged_ids(), (std::vector<std::string>{"e1", "e5"}));
}

TEST_F(PublisherTest, BlankLinesAreSkippedButKeepTheLineNumbers) {
  const std::string input = "\n   \n" + opened_line("e1", "case-a") + "\n\t \n\n" +
                            donation_line("e2", "case-a", "-1") + "\n \n";
  auto report = publish(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 2);
  EXPECT_EQ(report->appended, 1);
  ASSERT_EQ(report->refused.size(), 1u);
  EXPECT_EQ(report->refused[0].line, 6);
  EXPECT_EQ(report->refused[0].field, "amount");
}

// Issue 11: a file saved with a UTF-8 byte order mark publishes its first line.
TEST_F(PublisherTest, AByteOrderMarkAtTheStartOfTheInputIsSkipped) {
  auto report = publish("\xEF\xBB\xBF" + opened_line("e1", "case-a") + "\r\n" +
                        donation_line("e2", "case-a") + "\r\n");
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->appended, 2);
  EXPECT_EQ(report->refused_count, 0);
  EXPECT_EQ(logged_ids(), (std::vector<std::string>{"e1", "e2"}));
}

TEST_F(PublisherTest, CrlfInputIsAccepted) {
  const std::string input = opened_line("e1", "case-a") + "\r\n" + "\r\n" +
                            donation_line("e2", "case-a") + "\r\n" + "nope\r\n" +
                            donation_line("e3", "case-a");  // no final newline
  auto report = publish(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 4);
  EXPECT_EQ(report->appended, 3);
  ASSERT_EQ(report->refused.size(), 1u);
  EXPECT_EQ(report->refused[0].line, 4);
  EXPECT_EQ(logged_ids(), (std::vector<std::string>{"e1", "e2", "e3"}));
}

TEST_F(PublisherTest, AllOrNothingAppendsNothingWhenOneLineIsRefused) {
  std::string input;
  for (int i = 0; i < 9; ++i) input += donation_line(fmt::format("e{}", i), "case-a") + "\n";
  input += donation_line("bad", "case-a", "0.00") + "\n";  // line 10: below the minimum
  auto report = publish(input, {.batch_events_max = 3, .all_or_nothing = true});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 10);
  EXPECT_EQ(report->appended, 0);
  ASSERT_EQ(report->refused.size(), 1u);
  EXPECT_EQ(report->refused[0].line, 10);
  EXPECT_TRUE(report->failed.empty());
  EXPECT_EQ(log_->end_offsets().value(), (OffsetMap{{Partition{0}, Offset{0}}}));
}

TEST_F(PublisherTest, AllOrNothingAppendsEverythingWhenEveryLineIsGood) {
  std::string input;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(fmt::format("e{}", i));
    input += donation_line(ids.back(), "case-a") + "\n";
  }
  auto report = publish(input, {.batch_events_max = 3, .all_or_nothing = true});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->appended, 10);
  EXPECT_EQ(logged_ids(), ids);
}

TEST_F(PublisherTest, ProgressIsReportedAfterEachAppendedBatch) {
  std::string input;
  for (int i = 0; i < 8; ++i) input += donation_line(fmt::format("e{}", i), "case-a") + "\n";
  std::istringstream stream(input);
  Publisher publisher(*log_, {.batch_events_max = 3});
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto report = publisher.publish_ndjson(stream, [&](const PublishProgress& progress) {
    calls.emplace_back(progress.lines_read, progress.appended);
  });
  ASSERT_TRUE(report.has_value()) << report.error().message;
  const std::vector<std::pair<int64_t, int64_t>> expected = {{3, 3}, {6, 6}, {8, 8}};
  EXPECT_EQ(calls, expected);
}

// SPEC stage 1 refuses a line with its number; a line longer than the limit
// (1 MiB, docs/design.md) is refused so, and the lines after it are read.
TEST_F(PublisherTest, ALineLongerThanTheLimitIsRefusedWithItsNumber) {
  const std::string padded_to_limit =
      opened_line("e2", "case-b") +
      std::string(events::kMaxLineBytes - opened_line("e2", "case-b").size(), ' ');
  ASSERT_EQ(padded_to_limit.size(), events::kMaxLineBytes);
  const std::string input = opened_line("e1", "case-a") + "\n" +           // 1
                            padded_to_limit + "\n" +                       // 2: at the limit
                            padded_to_limit + " \n" +                      // 3: one byte over
                            std::string(3 * events::kMaxLineBytes, 'x') +  // 4: far over
                            "\n" + donation_line("e5", "case-a") + "\n" +  // 5
                            padded_to_limit + "\t";                        // 6: over, at the end
  auto report = publish(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 6);
  EXPECT_EQ(report->appended, 3);
  ASSERT_EQ(report->refused.size(), 3u);
  const std::vector<int64_t> lines = {3, 4, 6};
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(report->refused[i].line, lines[i]);
    EXPECT_EQ(report->refused[i].field, "");
    EXPECT_EQ(report->refused[i].reason,
              "is longer than 1048576 bytes (1 MiB), the most one line may hold; not read");
  }
  EXPECT_EQ(logged_ids(), (std::vector<std::string>{"e1", "e2", "e5"}));
}

// Input with no newline is not read forever (nor held): its line is refused
// at the line limit once the skip limit passed without a newline, and the
// lines before it are appended.
TEST_F(PublisherTest, InputWithoutANewlineIsRefusedAtTheLineLimit) {
  for (const size_t threads : {size_t{1}, size_t{2}}) {
    SCOPED_TRACE(threads);
    TempDir dir;
    auto log = EmbeddedLog::open(dir.path());
    ASSERT_TRUE(log.has_value());
    EndlessZeros zeros(opened_line("e1", "case-a") + "\n\n");
    std::istream stream(&zeros);
    Publisher publisher(**log, {.parse_threads = threads});
    auto report = publisher.publish_ndjson(stream);
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->appended, 1);
    ASSERT_EQ(report->refused.size(), 1u);
    EXPECT_EQ(report->refused[0].line, 3);
    EXPECT_EQ(report->refused[0].reason,
              "is longer than 1048576 bytes (1 MiB), the most one line may hold; not read, and "
              "no newline came in the 67108864 bytes (64 MiB) after it: the input is not NDJSON, "
              "so nothing after this line was read");
    EXPECT_LE(zeros.given, 2 * events::kMaxLineBytes + events::kMaxLineSkipBytes + 8192);
  }
}

TEST_F(PublisherTest, AFailureToReadTheInputIsTheOuterError) {
  FailingAfter buffer(opened_line("e1", "case-a") + "\n" + donation_line("e2", "case-a"));
  std::istream stream(&buffer);
  Publisher publisher(*log_);
  auto report = publisher.publish_ndjson(stream);
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code, ErrorCode::kIo);
}

// An appender that fails chosen records, or whole calls.
class FlakyAppender final : public EventLogAppender {
 public:
  FlakyAppender(EventLogAppender& inner, std::vector<std::string> failing_cases, int failing_call)
      : inner_(inner), failing_cases_(std::move(failing_cases)), failing_call_(failing_call) {}

  Result<std::vector<Result<LogPosition>>> append(
      std::span<const AppendRequest> requests) override {
    if (++calls_ == failing_call_) return make_error(ErrorCode::kUnavailable, "broker down");
    std::vector<AppendRequest> passed;
    for (const AppendRequest& request : requests) {
      if (!is_failing(request.key)) passed.push_back(request);
    }
    auto appended = inner_.append(passed);
    if (!appended) return appended;
    std::vector<Result<LogPosition>> results;
    size_t next = 0;
    for (const AppendRequest& request : requests) {
      if (is_failing(request.key)) {
        results.emplace_back(make_error(ErrorCode::kIo, "record too large"));
      } else {
        results.push_back((*appended)[next++]);
      }
    }
    return results;
  }

 private:
  bool is_failing(const std::string& key) const {
    return std::find(failing_cases_.begin(), failing_cases_.end(), key) != failing_cases_.end();
  }
  EventLogAppender& inner_;
  std::vector<std::string> failing_cases_;
  int failing_call_;
  int calls_ = 0;
};

TEST_F(PublisherTest, AppendFailuresCarryTheLineNumberAndReason) {
  // Batches of 2: lines (1,2) (4,5) (6,7); line 3 is refused. The second
  // call fails as a whole; in the others, records of case-x fail alone.
  const std::string input = donation_line("e1", "case-a") + "\n" +  // 1
                            donation_line("e2", "case-x") + "\n" +  // 2: record fails
                            "{}\n" +                                // 3: refused
                            donation_line("e4", "case-a") + "\n" +  // 4: call fails
                            donation_line("e5", "case-a") + "\n" +  // 5: call fails
                            donation_line("e6", "case-x") + "\n" +  // 6: record fails
                            donation_line("e7", "case-a") + "\n";   // 7
  FlakyAppender appender(*log_, {"case-x"}, 2);
  Publisher publisher(appender, {.batch_events_max = 2});
  std::istringstream stream(input);
  auto report = publisher.publish_ndjson(stream);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 7);
  EXPECT_EQ(report->appended, 2);
  ASSERT_EQ(report->refused.size(), 1u);
  EXPECT_EQ(report->refused[0].line, 3);
  ASSERT_EQ(report->failed.size(), 4u);
  EXPECT_EQ(report->failed[0].line, 2);
  EXPECT_EQ(report->failed[0].reason, "record too large");
  EXPECT_EQ(report->failed[1].line, 4);
  EXPECT_EQ(report->failed[1].reason, "broker down");
  EXPECT_EQ(report->failed[2].line, 5);
  EXPECT_EQ(report->failed[3].line, 6);
  EXPECT_EQ(logged_ids(), (std::vector<std::string>{"e1", "e7"}));
}

// An appender whose records of one case get no answer (a Kafka delivery
// that timed out): they may be in the log or not.
class UnansweringAppender final : public EventLogAppender {
 public:
  UnansweringAppender(EventLogAppender& inner, std::string unanswered_case)
      : inner_(inner), unanswered_case_(std::move(unanswered_case)) {}

  Result<std::vector<Result<LogPosition>>> append(
      std::span<const AppendRequest> requests) override {
    auto appended = inner_.append(requests);
    if (!appended) return appended;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (requests[i].key == unanswered_case_) {
        (*appended)[i] = make_error(ErrorCode::kUnknownOutcome, "no answer");
      }
    }
    return appended;
  }

 private:
  EventLogAppender& inner_;
  std::string unanswered_case_;
};

TEST_F(PublisherTest, UnansweredAppendsAreUnknownNeverFailed) {
  const std::string input = donation_line("e1", "case-a") + "\n" +  // 1
                            donation_line("e2", "case-u") + "\n" +  // 2: no answer
                            donation_line("e3", "case-a") + "\n";   // 3
  UnansweringAppender appender(*log_, "case-u");
  Publisher publisher(appender, {.batch_events_max = 2});
  std::istringstream stream(input);
  auto report = publisher.publish_ndjson(stream);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->appended, 2);
  EXPECT_TRUE(report->failed.empty());
  ASSERT_EQ(report->unknown.size(), 1u);
  EXPECT_EQ(report->unknown[0].line, 2);
  EXPECT_EQ(report->unknown[0].reason, "no answer");
}

TEST_F(PublisherTest, PublishEventsAppendsCheckedEventsAndRefusesInvalidOnes) {
  using namespace homeward::testing;  // event builders
  const std::vector<events::Event> input = {
      opened("e1", 150000),
      donation("e2", "d-1", 2500),
      donation("e3", "d-1", 0),              // below the minimum amount
      donation("e4", "not a donor ref", 1),  // invalid identifier
      donation("e5", "d-2", 100),
  };
  Publisher publisher(*log_, {.batch_events_max = 2});
  auto report = publisher.publish_events(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 5);
  EXPECT_EQ(report->appended, 3);
  ASSERT_EQ(report->refused.size(), 2u);
  EXPECT_EQ(report->refused[0].line, 3);
  EXPECT_EQ(report->refused[1].line, 4);
  const auto logged = logged_events();
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_EQ(logged[0], input[0]);
  EXPECT_EQ(logged[1], input[1]);
  EXPECT_EQ(logged[2], input[4]);
}

TEST_F(PublisherTest, PublishEventsAllOrNothingAppendsNothingWhenOneIsInvalid) {
  using namespace homeward::testing;
  const std::vector<events::Event> input = {opened("e1", 150000), donation("e2", "d-1", 0)};
  Publisher publisher(*log_, {.all_or_nothing = true});
  auto report = publisher.publish_events(input);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->appended, 0);
  EXPECT_EQ(report->refused.size(), 1u);
  EXPECT_TRUE(logged_ids().empty());
}

// --- parsing on several threads

// `events` generated NDJSON lines (bench/generator.h).
std::string generated_stream(int64_t events, uint64_t seed) {
  std::ostringstream generated;
  auto summary = bench::generate({.events = events, .seed = seed}, generated);
  EXPECT_TRUE(summary.has_value());
  return generated.str();
}

// Every record of `log`, front to back.
std::vector<LogRecord> all_records(EmbeddedLog& log) {
  std::vector<LogRecord> records;
  RecordBatch batch;
  for (;;) {
    EXPECT_TRUE(log.read(4'096, std::chrono::milliseconds{0}, batch).has_value());
    if (batch.records.empty()) break;
    for (LogRecord& record : batch.records) records.push_back(std::move(record));
  }
  return records;
}

// A generated stream of `lines` events, damaged so that it has a bit of
// everything stage 1 and the line reader must handle: refused lines of
// several kinds, blank lines, CRLF endings, a refused line longer than a
// chunk of the parsing pipeline, and no final newline.
std::string damaged_stream(int64_t lines) {
  std::istringstream in(generated_stream(lines, 3));
  std::string out;
  std::string line;
  for (int64_t i = 0; std::getline(in, line); ++i) {
    if (i % 97 == 5) {
      out += "not json at all\n";
    } else if (i % 89 == 7) {
      out += line.substr(0, line.size() - 1) + R"(,"surplus":1})" + "\n";  // unknown field
    } else if (i % 83 == 11) {
      out += "\n  \t\n";  // blank lines instead of the event
    } else if (i % 79 == 13) {
      out += line + "\r\n";
    } else if (i == 3'001) {
      // Longer than the pipeline's 256 KiB chunks: a chunk of its own.
      out += R"({"type":"CaseClosed","event_id":"long","reason":")" + std::string(300'000, 'x') +
             "\"}\n";
    } else if (i == 7'001) {
      // Longer than the line limit: refused without being read whole.
      out += line + std::string(events::kMaxLineBytes, ' ') + "\n";
    } else {
      out += line + "\n";
    }
  }
  out.pop_back();  // no final newline
  return out;
}

struct PublishRun {
  Result<PublishReport> report;
  std::vector<LogRecord> records;
  std::vector<std::pair<int64_t, int64_t>> progress;
};

PublishRun publish_into_new_log(std::istream& input, const PublishOptions& options) {
  TempDir dir;
  auto log = EmbeddedLog::open(dir.path());
  EXPECT_TRUE(log.has_value());
  if (!log) return {Result<PublishReport>(std::unexpected(log.error())), {}, {}};
  PublishRun run;
  Publisher publisher(**log, options);
  run.report = publisher.publish_ndjson(input, [&](const PublishProgress& progress) {
    run.progress.emplace_back(progress.lines_read, progress.appended);
  });
  run.records = all_records(**log);
  return run;
}

PublishRun publish_into_new_log(const std::string& input, const PublishOptions& options) {
  std::istringstream stream(input);
  return publish_into_new_log(stream, options);
}

void expect_same_run(const PublishRun& actual, const PublishRun& expected) {
  ASSERT_EQ(actual.report.has_value(), expected.report.has_value());
  if (!expected.report) {
    EXPECT_EQ(actual.report.error().message, expected.report.error().message);
  } else {
    EXPECT_EQ(actual.report->lines_read, expected.report->lines_read);
    EXPECT_EQ(actual.report->appended, expected.report->appended);
    ASSERT_EQ(actual.report->refused.size(), expected.report->refused.size());
    for (size_t i = 0; i < expected.report->refused.size(); ++i) {
      EXPECT_EQ(actual.report->refused[i].line, expected.report->refused[i].line);
      EXPECT_EQ(actual.report->refused[i].field, expected.report->refused[i].field);
      EXPECT_EQ(actual.report->refused[i].reason, expected.report->refused[i].reason);
    }
    EXPECT_EQ(actual.report->failed.size(), expected.report->failed.size());
  }
  ASSERT_EQ(actual.records.size(), expected.records.size());
  for (size_t i = 0; i < expected.records.size(); ++i) {
    ASSERT_EQ(actual.records[i].offset, expected.records[i].offset);
    ASSERT_EQ(actual.records[i].key, expected.records[i].key) << "record " << i;
    ASSERT_EQ(actual.records[i].value, expected.records[i].value) << "record " << i;
  }
  EXPECT_EQ(actual.progress, expected.progress);
}

TEST(PublisherThreadsTest, SeveralParsingThreadsGiveTheSameReportLogAndProgressAsOne) {
  // 20,000 lines: many chunks of the pipeline, and (with the embedded log's
  // own batch size) one append large enough to be ingested as a file.
  const std::string input = damaged_stream(20'000);
  for (const std::optional<size_t> batch :
       {std::optional<size_t>(1'000), std::optional<size_t>()}) {
    SCOPED_TRACE(batch.value_or(0));
    const PublishRun one =
        publish_into_new_log(input, {.batch_events_max = batch, .parse_threads = 1});
    ASSERT_TRUE(one.report.has_value()) << one.report.error().message;
    EXPECT_GT(one.report->refused.size(), 400u);
    EXPECT_GT(one.report->appended, 19'000);
    EXPECT_EQ(one.report->refused.front().line, 6);
    for (const size_t threads : {size_t{2}, size_t{4}}) {
      SCOPED_TRACE(threads);
      expect_same_run(
          publish_into_new_log(input, {.batch_events_max = batch, .parse_threads = threads}), one);
    }
  }
}

// Refusals handed to on_refusal as the publish goes, in input order, are the
// refusals the report would have held; the report then only counts them.
TEST(PublisherThreadsTest, RefusalsAreStreamedInInputOrderAndNotHeld) {
  const std::string input = damaged_stream(20'000);
  const PublishRun held = publish_into_new_log(input, {.parse_threads = 1});
  ASSERT_TRUE(held.report.has_value());
  ASSERT_GT(held.report->refused.size(), 400u);
  EXPECT_EQ(held.report->refused_count, static_cast<int64_t>(held.report->refused.size()));
  for (const size_t threads : {size_t{1}, size_t{2}, size_t{4}}) {
    SCOPED_TRACE(threads);
    std::vector<Refusal> streamed;
    PublishRun run = publish_into_new_log(
        input, {.parse_threads = threads,
                .on_refusal = [&](const Refusal& refusal) { streamed.push_back(refusal); }});
    ASSERT_TRUE(run.report.has_value());
    EXPECT_TRUE(run.report->refused.empty());
    EXPECT_EQ(run.report->refused_count, held.report->refused_count);
    ASSERT_EQ(streamed.size(), held.report->refused.size());
    for (size_t i = 0; i < streamed.size(); ++i) {
      EXPECT_EQ(streamed[i].line, held.report->refused[i].line);
      EXPECT_EQ(streamed[i].field, held.report->refused[i].field);
      EXPECT_EQ(streamed[i].reason, held.report->refused[i].reason);
    }
    // The same log and progress as when the refusals were held.
    run.report->refused = held.report->refused;
    expect_same_run(run, held);
  }
}

// "As they happen": the first refusal reaches the caller before the input
// has been read to its end, not with the report.
TEST(PublisherThreadsTest, ARefusalReachesTheCallerBeforeTheInputEnds) {
  std::string input = "not json\n" + generated_stream(50'000, 5);
  std::istringstream stream(input);
  std::streampos read_at_first_refusal = -1;
  TempDir dir;
  auto log = EmbeddedLog::open(dir.path());
  ASSERT_TRUE(log.has_value());
  Publisher publisher(**log, {.parse_threads = 1, .on_refusal = [&](const Refusal& refusal) {
                                if (refusal.line == 1) read_at_first_refusal = stream.tellg();
                              }});
  auto report = publisher.publish_ndjson(stream);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->refused_count, 1);
  ASSERT_NE(read_at_first_refusal, std::streampos(-1));
  EXPECT_LT(static_cast<size_t>(read_at_first_refusal), input.size() / 10);
}

TEST(PublisherThreadsTest, AllOrNothingAppendsNothingWhenTheLastLineIsRefused) {
  const std::string input = generated_stream(20'000, 5) + R"({"type":"CaseClosed"})" + "\n";
  for (const size_t threads : {size_t{1}, size_t{4}}) {
    SCOPED_TRACE(threads);
    const PublishRun run = publish_into_new_log(
        input, {.batch_events_max = 1'000, .all_or_nothing = true, .parse_threads = threads});
    ASSERT_TRUE(run.report.has_value()) << run.report.error().message;
    EXPECT_EQ(run.report->lines_read, 20'001);
    EXPECT_EQ(run.report->appended, 0);
    ASSERT_EQ(run.report->refused.size(), 1u);
    EXPECT_EQ(run.report->refused[0].line, 20'001);
    EXPECT_TRUE(run.records.empty());
    EXPECT_TRUE(run.progress.empty());
  }
}

TEST(PublisherThreadsTest, AReadFailureAfterSeveralBatchesLeavesWhatOneThreadLeaves) {
  const std::string generated = generated_stream(5'500, 9);
  std::vector<PublishRun> runs;
  for (const size_t threads : {size_t{1}, size_t{2}, size_t{4}}) {
    FailingAfter buffer(generated);
    std::istream stream(&buffer);
    runs.push_back(
        publish_into_new_log(stream, {.batch_events_max = 1'000, .parse_threads = threads}));
  }
  ASSERT_FALSE(runs[0].report.has_value());
  EXPECT_EQ(runs[0].report.error().code, ErrorCode::kIo);
  // The full batches before the failure were appended; the rest was not.
  EXPECT_EQ(runs[0].records.size(), 5'000u);
  expect_same_run(runs[1], runs[0]);
  expect_same_run(runs[2], runs[0]);
}

TEST(PublisherThreadsTest, ABatchAlsoEndsAtItsByteLimit) {
  std::string input;
  for (int i = 0; i < 10; ++i) input += donation_line(fmt::format("e{}", i), "case-a") + "\n";
  // Every record is over one byte: each is a batch of its own.
  const PublishRun run = publish_into_new_log(input, {.batch_bytes_max = 1});
  ASSERT_TRUE(run.report.has_value()) << run.report.error().message;
  EXPECT_EQ(run.report->appended, 10);
  ASSERT_EQ(run.progress.size(), 10u);
  EXPECT_EQ(run.progress.back(), (std::pair<int64_t, int64_t>{10, 10}));
}

// An exception from the progress callback or from the log reaches the caller
// as it is: batches already handed to the log are finished first, none is
// finished twice, and the process goes on.
TEST(PublisherThreadsTest, AnExceptionFromTheProgressCallbackReachesTheCaller) {
  const std::string generated = generated_stream(5'000, 4);
  for (const size_t threads : {size_t{1}, size_t{2}}) {
    SCOPED_TRACE(threads);
    TempDir dir;
    auto log = EmbeddedLog::open(dir.path());
    ASSERT_TRUE(log.has_value()) << log.error().message;
    Publisher publisher(**log, {.batch_events_max = 1'000, .parse_threads = threads});
    std::istringstream input(generated);
    int calls = 0;
    EXPECT_THROW(
        {
          auto ignored = publisher.publish_ndjson(input, [&](const PublishProgress&) {
            if (++calls == 2) throw std::runtime_error("the terminal went away");
          });
        },
        std::runtime_error);
    EXPECT_EQ(calls, 2);
    // Batches 1 and 2 were answered; batch 3 was in flight when the callback
    // threw, and was finished (durable) before the exception left.
    EXPECT_EQ(all_records(**log).size(), 3'000u);
  }
}

// A log whose second append throws (as an allocation failure would).
class ThrowingOnSecondAppend final : public EventLogAppender {
 public:
  explicit ThrowingOnSecondAppend(EventLogAppender& log) : log_(log) {}
  Result<std::vector<Result<LogPosition>>> append(
      std::span<const AppendRequest> requests) override {
    if (++appends_ == 2) throw std::bad_alloc();
    return log_.append(requests);
  }

 private:
  EventLogAppender& log_;
  int appends_ = 0;
};

TEST(PublisherThreadsTest, AnExceptionFromTheLogReachesTheCallerAfterTheStartedBatches) {
  const std::string generated = generated_stream(5'000, 6);
  for (const size_t threads : {size_t{1}, size_t{2}}) {
    SCOPED_TRACE(threads);
    TempDir dir;
    auto log = EmbeddedLog::open(dir.path());
    ASSERT_TRUE(log.has_value()) << log.error().message;
    ThrowingOnSecondAppend throwing(**log);
    Publisher publisher(throwing, {.batch_events_max = 1'000, .parse_threads = threads});
    std::istringstream input(generated);
    EXPECT_THROW({ auto ignored = publisher.publish_ndjson(input); }, std::bad_alloc);
    EXPECT_EQ(all_records(**log).size(), 1'000u);  // the first batch only
  }
}

// --- stopping and going on (--from-line)

TEST_F(PublisherTest, FirstLineSkipsTheLinesBeforeItAndKeepsTheInputsLineNumbers) {
  const std::string input = opened_line("e1", "case-a") + "\n" +    // 1: skipped
                            "not json\n" +                          // 2: skipped, not refused
                            donation_line("e2", "case-a") + "\n" +  // 3
                            "\n" +                                  // 4: blank
                            "still not json\n" +                    // 5: refused
                            donation_line("e3", "case-a");          // 6: no final newline
  auto report = publish(input, {.first_line = 3});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->lines_read, 3);
  EXPECT_EQ(report->appended, 2);
  ASSERT_EQ(report->refused.size(), 1u);
  EXPECT_EQ(report->refused[0].line, 5);
  EXPECT_EQ(report->last_appended_line, 6);
  EXPECT_EQ(report->next_line, 7);
  EXPECT_FALSE(report->interrupted);
  EXPECT_EQ(logged_ids(), (std::vector<std::string>{"e2", "e3"}));
}

TEST_F(PublisherTest, FirstLinePastTheEndOfTheInputIsAnError) {
  const std::string input = opened_line("e1", "case-a") + "\n" + donation_line("e2", "case-a");
  // Line 3 is one past the end: nothing left, which is what a publish
  // interrupted after its last line says to go on with.
  auto at_end = publish(input, {.first_line = 3});
  ASSERT_TRUE(at_end.has_value()) << at_end.error().message;
  EXPECT_EQ(at_end->lines_read, 0);
  EXPECT_EQ(at_end->next_line, 3);
  auto past_end = publish(input, {.first_line = 4});
  ASSERT_FALSE(past_end.has_value());
  EXPECT_EQ(past_end.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(past_end.error().message.find("has 2 lines"), std::string::npos)
      << past_end.error().message;
  EXPECT_TRUE(logged_ids().empty());
}

TEST_F(PublisherTest, AStopRequestedBeforeAnyLineAppendsNothingAndGoesOnFromTheFirstLine) {
  const std::string input = opened_line("e1", "case-a") + "\n" + donation_line("e2", "case-a");
  auto report = publish(input, {.first_line = 2, .stop_requested = [] { return true; }});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(report->interrupted);
  EXPECT_EQ(report->appended, 0);
  EXPECT_EQ(report->last_appended_line, 0);
  EXPECT_EQ(report->next_line, 2);
  EXPECT_TRUE(logged_ids().empty());
}

// A stop predicate that turns true at its `calls`-th question and stays true.
std::function<bool()> stop_after(int calls) {
  auto asked = std::make_shared<int>(0);
  return [asked, calls] { return ++*asked >= calls; };
}

// An interrupted publish and a second one from its next_line, into one log,
// leave exactly the log, the refusals and the appended count of one
// uninterrupted publish; every line before next_line has its answer in the
// first report, none after it.
TEST(PublisherStopTest, GoingOnFromNextLineGivesTheLogOfOneUninterruptedPublish) {
  const std::string input = damaged_stream(30'000);
  const PublishRun clean = publish_into_new_log(input, {.batch_events_max = 1'000});
  ASSERT_TRUE(clean.report.has_value()) << clean.report.error().message;
  for (const size_t threads : {size_t{1}, size_t{4}}) {
    for (const int stop_at : {2, 7, 20}) {
      SCOPED_TRACE(fmt::format("{} threads, stop at question {}", threads, stop_at));
      TempDir dir;
      auto log = EmbeddedLog::open(dir.path());
      ASSERT_TRUE(log.has_value()) << log.error().message;
      std::istringstream first_input(input);
      Publisher first(**log, {.batch_events_max = 1'000,
                              .parse_threads = threads,
                              .stop_requested = stop_after(stop_at)});
      auto stopped = first.publish_ndjson(first_input);
      ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
      ASSERT_TRUE(stopped->interrupted);
      EXPECT_GT(stopped->next_line, 1);
      EXPECT_GT(stopped->appended, 0);
      EXPECT_LT(stopped->last_appended_line, stopped->next_line);
      for (const Refusal& refusal : stopped->refused) EXPECT_LT(refusal.line, stopped->next_line);
      // Every record of the lines before next_line is in the log, and only those.
      const std::vector<LogRecord> after_stop = all_records(**log);
      ASSERT_EQ(static_cast<int64_t>(after_stop.size()), stopped->appended);

      std::istringstream rest_input(input);
      Publisher rest(
          **log,
          {.batch_events_max = 1'000, .parse_threads = threads, .first_line = stopped->next_line});
      auto finished = rest.publish_ndjson(rest_input);
      ASSERT_TRUE(finished.has_value()) << finished.error().message;
      EXPECT_FALSE(finished->interrupted);
      for (const Refusal& refusal : finished->refused) EXPECT_GE(refusal.line, stopped->next_line);

      PublishRun both;
      both.report = *stopped;
      both.report->lines_read += finished->lines_read;
      both.report->appended += finished->appended;
      both.report->refused.insert(both.report->refused.end(), finished->refused.begin(),
                                  finished->refused.end());
      ASSERT_TRUE((*log)->seek({}).has_value());  // all_records read from where it stopped
      both.records = all_records(**log);
      both.progress = clean.progress;  // progress is not what this test is about
      expect_same_run(both, clean);
    }
  }
}

TEST(PublisherStopTest, AllOrNothingInterruptedAppendsNothingAndGoesOnFromItsFirstLine) {
  const std::string input = generated_stream(20'000, 8);
  for (const size_t threads : {size_t{1}, size_t{4}}) {
    SCOPED_TRACE(threads);
    const PublishRun run = publish_into_new_log(input, {.batch_events_max = 1'000,
                                                        .all_or_nothing = true,
                                                        .parse_threads = threads,
                                                        .first_line = 5,
                                                        .stop_requested = stop_after(3)});
    ASSERT_TRUE(run.report.has_value()) << run.report.error().message;
    EXPECT_TRUE(run.report->interrupted);
    EXPECT_EQ(run.report->appended, 0);
    EXPECT_EQ(run.report->next_line, 5);
    EXPECT_TRUE(run.records.empty());
  }
}

}  // namespace
}  // namespace homeward::engine
