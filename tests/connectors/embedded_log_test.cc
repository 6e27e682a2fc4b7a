// The embedded log against a real RocksDB in a temp dir: records come back
// byte-identical and in order, offsets continue across reopen, appends are
// durable and atomic (through the WAL or ingested as files), and a second
// open of the same directory is refused.
#include "connectors/embedded_log/embedded_log.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace homeward::connectors {
namespace {

using engine::AppendRequest;
using engine::LogRecord;
using engine::OffsetMap;
using engine::RecordBatch;
using testing::TempDir;

constexpr std::chrono::milliseconds kNoWait{0};

// A value with every byte value, NULs and high bytes included, so that any
// truncation or text conversion shows.
std::string binary_value(int index) {
  std::string value;
  for (int i = 0; i < 300 + index % 257; ++i)
    value.push_back(static_cast<char>((i * 7 + index) & 0xff));
  value[0] = '\0';
  return value;
}

std::vector<AppendRequest> make_requests(int first, int count) {
  std::vector<AppendRequest> requests;
  for (int i = first; i < first + count; ++i) {
    requests.push_back(AppendRequest{"case-" + std::to_string(i % 5), binary_value(i),
                                     events::EventType::kDonationReceived});
  }
  return requests;
}

std::unique_ptr<EmbeddedLog> open_log(const std::filesystem::path& dir) {
  auto log = EmbeddedLog::open(dir);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
  return log ? std::move(*log) : nullptr;
}

void append_all(EmbeddedLog& log, const std::vector<AppendRequest>& requests,
                int64_t first_offset) {
  auto results = log.append(requests);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  ASSERT_EQ(results->size(), requests.size());
  for (size_t i = 0; i < results->size(); ++i) {
    ASSERT_TRUE((*results)[i].has_value()) << (*results)[i].error().message;
    EXPECT_EQ((*results)[i]->partition, Partition{0});
    EXPECT_EQ((*results)[i]->offset, Offset{first_offset + static_cast<int64_t>(i)});
  }
}

// Reads from the current position to the end in batches of `batch_size`.
std::vector<LogRecord> read_to_end(EmbeddedLog& log, size_t batch_size) {
  std::vector<LogRecord> all;
  RecordBatch batch;
  for (;;) {
    auto status = log.read(batch_size, kNoWait, batch);
    EXPECT_TRUE(status.has_value()) << status.error().message;
    if (!status || batch.records.empty()) break;
    EXPECT_LE(batch.records.size(), batch_size);
    for (LogRecord& record : batch.records) all.push_back(std::move(record));
  }
  return all;
}

void expect_records(const std::vector<LogRecord>& records,
                    const std::vector<AppendRequest>& requests, int64_t first_offset) {
  ASSERT_EQ(records.size(), requests.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].partition, Partition{0});
    EXPECT_EQ(records[i].offset, Offset{first_offset + static_cast<int64_t>(i)});
    EXPECT_EQ(records[i].key, requests[i].key) << "record " << i;
    EXPECT_EQ(records[i].value, requests[i].value) << "record " << i;
  }
}

TEST(EmbeddedLogTest, AppendedRecordsReadBackByteIdenticalInOrder) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const auto requests = make_requests(0, 25);
  append_all(*log, requests, 0);
  expect_records(read_to_end(*log, 1000), requests, 0);
}

TEST(EmbeddedLogTest, EmptyKeyAndEmptyValueRoundTrip) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const std::vector<AppendRequest> requests = {
      {"", "no key", events::EventType::kCaseOpened},
      {"k", "", events::EventType::kCaseClosed},
      {"", "", events::EventType::kCaseClosed},
      {"after", std::string("\0\xff", 2), events::EventType::kCaseClosed},
  };
  append_all(*log, requests, 0);
  expect_records(read_to_end(*log, 3), requests, 0);
}

TEST(EmbeddedLogTest, ReadsInBatchesOfAnySizeReturnEveryRecordInOrder) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const auto requests = make_requests(0, 103);
  append_all(*log, requests, 0);
  for (const size_t batch_size :
       {size_t{1}, size_t{2}, size_t{7}, size_t{100}, size_t{103}, size_t{104}, size_t{100000}}) {
    SCOPED_TRACE(batch_size);
    ASSERT_TRUE(log->seek({}).has_value());
    expect_records(read_to_end(*log, batch_size), requests, 0);
  }
}

TEST(EmbeddedLogTest, ReadAtTheEndReturnsAnEmptyBatch) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  RecordBatch batch;
  batch.records.push_back(LogRecord{});  // read must replace, not append
  ASSERT_TRUE(log->read(10, kNoWait, batch).has_value());
  EXPECT_TRUE(batch.records.empty());
}

TEST(EmbeddedLogTest, OffsetsContinueAfterReopen) {
  TempDir dir;
  const auto first = make_requests(0, 10);
  const auto second = make_requests(10, 6);
  {
    auto log = open_log(dir.path());
    ASSERT_NE(log, nullptr);
    append_all(*log, first, 0);
  }
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  auto end = log->end_offsets();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, (OffsetMap{{Partition{0}, Offset{10}}}));
  append_all(*log, second, 10);

  std::vector<AppendRequest> all = first;
  all.insert(all.end(), second.begin(), second.end());
  expect_records(read_to_end(*log, 4), all, 0);
}

TEST(EmbeddedLogTest, AppendedRecordsSurviveReopen) {
  TempDir dir;
  const auto requests = make_requests(0, 40);
  {
    auto log = open_log(dir.path());
    ASSERT_NE(log, nullptr);
    append_all(*log, make_requests(0, 15), 0);
    append_all(*log, make_requests(15, 25), 15);
  }
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  expect_records(read_to_end(*log, 9), requests, 0);
}

TEST(EmbeddedLogTest, SecondOpenOfTheSameDirectoryIsBusy) {
  TempDir dir;
  auto first = open_log(dir.path());
  ASSERT_NE(first, nullptr);
  auto second = EmbeddedLog::open(dir.path());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kBusy);
  EXPECT_NE(second.error().message.find(dir.path().string()), std::string::npos)
      << second.error().message;
}

TEST(EmbeddedLogTest, ReadersOpenBesideTheWriterAndSeeItsAppendsAsTheyHappen) {
  TempDir dir;
  auto writer = open_log(dir.path());
  ASSERT_NE(writer, nullptr);
  const auto first = make_requests(0, 10);
  append_all(*writer, first, 0);

  std::vector<std::unique_ptr<EmbeddedLog>> readers;
  for (int i = 0; i < 3; ++i) {
    auto reader = EmbeddedLog::open(dir.path(), EmbeddedLogMode::kRead);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    readers.push_back(std::move(*reader));
  }
  // Appends both through the WAL (small) and as ingested files (large).
  const auto small = make_requests(10, 5);
  append_all(*writer, small, 10);
  const auto large = make_requests(15, 20'000);
  append_all(*writer, large, 15);
  std::vector<AppendRequest> all = first;
  all.insert(all.end(), small.begin(), small.end());
  all.insert(all.end(), large.begin(), large.end());
  for (auto& reader : readers) {
    auto ends = reader->end_offsets();
    ASSERT_TRUE(ends.has_value()) << ends.error().message;
    EXPECT_EQ(ends->at(Partition{0}), Offset{static_cast<int64_t>(all.size())});
    expect_records(read_to_end(*reader, 4096), all, 0);
  }
}

TEST(EmbeddedLogTest, AReaderRefusesToAppendAndHasTheWritersId) {
  TempDir dir;
  auto writer = open_log(dir.path());
  ASSERT_NE(writer, nullptr);
  append_all(*writer, make_requests(0, 3), 0);
  auto reader = EmbeddedLog::open(dir.path(), EmbeddedLogMode::kRead);
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  EXPECT_TRUE((*reader)->is_reader());
  auto refused = (*reader)->append(make_requests(3, 1));
  EXPECT_FALSE(refused.has_value() && (*refused)[0].has_value());

  auto writer_id = writer->identity();
  auto reader_id = (*reader)->identity();
  ASSERT_TRUE(writer_id.has_value()) << writer_id.error().message;
  ASSERT_TRUE(reader_id.has_value()) << reader_id.error().message;
  EXPECT_FALSE(writer_id->empty());
  EXPECT_EQ(*reader_id, *writer_id);
}

TEST(EmbeddedLogTest, ACopyKeepsItsIdAndAnotherLogHasAnother) {
  TempDir dir;
  std::string original_id;
  {
    auto log = open_log(dir.path() / "a");
    ASSERT_NE(log, nullptr);
    append_all(*log, make_requests(0, 3), 0);
    original_id = log->identity().value_or("");
  }
  std::filesystem::copy(dir.path() / "a", dir.path() / "copy",
                        std::filesystem::copy_options::recursive);
  auto copy = open_log(dir.path() / "copy");
  auto other = open_log(dir.path() / "b");
  ASSERT_NE(copy, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(copy->identity().value_or("?"), original_id);
  EXPECT_NE(other->identity().value_or(original_id), original_id);
}

TEST(EmbeddedLogTest, AReaderOfAMissingLogIsNotFoundAndCreatesNothing) {
  TempDir dir;
  auto reader = EmbeddedLog::open(dir.path() / "log", EmbeddedLogMode::kRead);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "log"));
}

// A creation killed inside RocksDB leaves its first files and no CURRENT
// (the crash loop found it). With the creation marker beside them, the next
// creating writer starts over; without it, files without CURRENT stay a
// damaged log that nothing may touch.
TEST(EmbeddedLogTest, ACreationInterruptedBeforeCurrentIsStartedAgainByTheNextCreation) {
  TempDir dir;
  const auto made = dir.path() / "made";
  {
    auto log = open_log(made);
    ASSERT_NE(log, nullptr);
    EXPECT_FALSE(std::filesystem::exists(made / "HOMEWARD-CREATING"));
  }
  auto interrupted_copy = [&](const std::filesystem::path& to, bool with_marker) {
    std::filesystem::copy(made, to, std::filesystem::copy_options::recursive);
    std::filesystem::remove(to / "CURRENT");
    if (with_marker) std::ofstream(to / "HOMEWARD-CREATING") << "x";
  };
  const auto interrupted = dir.path() / "interrupted";
  interrupted_copy(interrupted, true);
  auto reader = EmbeddedLog::open(interrupted, EmbeddedLogMode::kRead);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code, ErrorCode::kNotFound) << reader.error().message;
  auto writer = EmbeddedLog::open(interrupted, EmbeddedLogMode::kWrite);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, ErrorCode::kNotFound) << writer.error().message;
  {
    auto again = EmbeddedLog::open(interrupted, EmbeddedLogMode::kCreateIfMissing);
    ASSERT_TRUE(again.has_value()) << again.error().message;
    append_all(**again, make_requests(0, 3), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(interrupted / "HOMEWARD-CREATING"));
  auto reopened = EmbeddedLog::open(interrupted, EmbeddedLogMode::kRead);
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  EXPECT_EQ(*(*reopened)->end_offsets(), (OffsetMap{{Partition{0}, Offset{3}}}));

  const auto damaged = dir.path() / "damaged";
  interrupted_copy(damaged, false);
  auto refused = EmbeddedLog::open(damaged, EmbeddedLogMode::kCreateIfMissing);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kCorruption);
  EXPECT_FALSE(std::filesystem::exists(damaged / "CURRENT")) << "a damaged log is left alone";
}

TEST(EmbeddedLogTest, OpenCreatesAMissingDirectory) {
  TempDir dir;
  const auto nested = dir.path() / "a" / "b" / "log";
  auto log = open_log(nested);
  ASSERT_NE(log, nullptr);
  append_all(*log, make_requests(0, 1), 0);
  EXPECT_TRUE(std::filesystem::exists(nested));
}

TEST(EmbeddedLogTest, SeekToTheMiddleReadsFromThere) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const auto requests = make_requests(0, 20);
  append_all(*log, requests, 0);
  ASSERT_TRUE(log->seek({{Partition{0}, Offset{13}}}).has_value());
  const std::vector<AppendRequest> tail(requests.begin() + 13, requests.end());
  expect_records(read_to_end(*log, 5), tail, 13);
}

TEST(EmbeddedLogTest, SeekToTheEndReadsNothingUntilMoreIsAppended) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  append_all(*log, make_requests(0, 4), 0);
  ASSERT_TRUE(log->seek({{Partition{0}, Offset{4}}}).has_value());
  EXPECT_TRUE(read_to_end(*log, 10).empty());
  const auto more = make_requests(4, 3);
  append_all(*log, more, 4);
  expect_records(read_to_end(*log, 10), more, 4);
}

TEST(EmbeddedLogTest, SeekBeyondTheEndIsAnError) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  append_all(*log, make_requests(0, 4), 0);
  auto beyond = log->seek({{Partition{0}, Offset{5}}});
  ASSERT_FALSE(beyond.has_value());
  EXPECT_EQ(beyond.error().code, ErrorCode::kInvalidArgument);
  auto negative = log->seek({{Partition{0}, Offset{-1}}});
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code, ErrorCode::kInvalidArgument);
}

TEST(EmbeddedLogTest, SeekToAnotherPartitionIsAnError) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  auto status = log->seek({{Partition{1}, Offset{0}}});
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
}

TEST(EmbeddedLogTest, EmptyLogReportsPartitionZeroAtOffsetZero) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  auto end = log->end_offsets();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, (OffsetMap{{Partition{0}, Offset{0}}}));
}

TEST(EmbeddedLogTest, EndOffsetsFollowAppends) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  append_all(*log, make_requests(0, 3), 0);
  append_all(*log, make_requests(3, 2), 3);
  auto end = log->end_offsets();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, (OffsetMap{{Partition{0}, Offset{5}}}));
}

TEST(EmbeddedLogTest, AppendOfNothingWritesNothing) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  auto results = log->append({});
  ASSERT_TRUE(results.has_value());
  EXPECT_TRUE(results->empty());
  EXPECT_EQ(log->end_offsets().value(), (OffsetMap{{Partition{0}, Offset{0}}}));
}

TEST(EmbeddedLogTest, ZeroMaxRecordsReadsNothingAndKeepsThePosition) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const auto requests = make_requests(0, 3);
  append_all(*log, requests, 0);
  RecordBatch batch;
  ASSERT_TRUE(log->read(0, kNoWait, batch).has_value());
  EXPECT_TRUE(batch.records.empty());
  expect_records(read_to_end(*log, 2), requests, 0);
}

// --- large appends, written as files that RocksDB ingests

constexpr size_t kLarge = EmbeddedLog::kIngestMinRecords;

TEST(EmbeddedLogTest, LargeAndSmallAppendsInterleaveAndReadBackInOrder) {
  TempDir dir;
  std::vector<AppendRequest> all;
  {
    auto log = open_log(dir.path());
    ASSERT_NE(log, nullptr);
    int64_t next = 0;
    for (const size_t count : {size_t{3}, kLarge, size_t{1}, kLarge + 17, size_t{5}}) {
      const auto requests = make_requests(static_cast<int>(next), static_cast<int>(count));
      append_all(*log, requests, next);
      all.insert(all.end(), requests.begin(), requests.end());
      next += static_cast<int64_t>(count);
    }
    expect_records(read_to_end(*log, 1'000), all, 0);
  }
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->end_offsets().value(),
            (OffsetMap{{Partition{0}, Offset{static_cast<int64_t>(all.size())}}}));
  expect_records(read_to_end(*log, 777), all, 0);
}

TEST(EmbeddedLogTest, LargeAppendWithoutRecordKeysRoundTrips) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  auto requests = make_requests(0, static_cast<int>(kLarge));
  for (AppendRequest& request : requests) request.key.clear();
  requests[10].value.clear();  // an empty value too
  append_all(*log, requests, 0);
  expect_records(read_to_end(*log, 1'000), requests, 0);
}

TEST(EmbeddedLogTest, LargeAppendThatCannotBeWrittenFailsEveryRecordAndAppendsNothing) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  append_all(*log, make_requests(0, 2), 0);
  // The directory where the files are written before ingestion is gone.
  std::filesystem::remove_all(dir.path() / "ingest");
  const auto requests = make_requests(2, static_cast<int>(kLarge));
  auto results = log->append(requests);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  ASSERT_EQ(results->size(), requests.size());
  for (const auto& result : *results) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kIo) << result.error().message;
  }
  EXPECT_EQ(log->end_offsets().value(), (OffsetMap{{Partition{0}, Offset{2}}}));
  // Small appends do not need that directory, and continue the offsets.
  append_all(*log, make_requests(2, 3), 2);
  EXPECT_EQ(read_to_end(*log, 100).size(), 5u);
}

TEST(EmbeddedLogTest, AFileLeftBeforeIngestionIsNeverPartOfTheLog) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    ASSERT_NE(log, nullptr);
    append_all(*log, make_requests(0, 4), 0);
  }
  // What a process that died after writing an append's file, before
  // RocksDB ingested it, leaves behind: the next offsets, never acknowledged.
  {
    rocksdb::Options options;
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
    ASSERT_TRUE(writer.Open((dir.path() / "ingest" / "values-000001.sst").string()).ok());
    const char key[8] = {0, 0, 0, 0, 0, 0, 0, 4};
    ASSERT_TRUE(writer.Put(rocksdb::Slice(key, sizeof key), "never acknowledged").ok());
    ASSERT_TRUE(writer.Finish().ok());
  }
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->end_offsets().value(), (OffsetMap{{Partition{0}, Offset{4}}}));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() / "ingest"));
  const auto more = make_requests(4, static_cast<int>(kLarge));
  append_all(*log, more, 4);
  ASSERT_TRUE(log->seek({{Partition{0}, Offset{4}}}).has_value());
  expect_records(read_to_end(*log, 1'000), more, 4);
}

// serve appends on one thread while its projector reads on another: the
// reader sees every record exactly once, in order and whole, whether an
// append went through the WAL or was ingested as files, and never a record
// beyond the end it was told.
TEST(EmbeddedLogTest, AReaderBesideAnAppenderThreadSeesEveryRecordOnceInOrder) {
  TempDir dir;
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  // Small appends through the WAL, with one large (ingested) append among them.
  std::vector<int> sizes;
  for (int i = 0; i < 200; ++i) sizes.push_back(1 + i % 37);
  sizes[100] = static_cast<int>(kLarge);
  int total = 0;
  for (const int size : sizes) total += size;
  const auto requests = make_requests(0, total);

  std::thread appender([&] {
    int next = 0;
    for (const int size : sizes) {
      const std::vector<AppendRequest> part(requests.begin() + next,
                                            requests.begin() + next + size);
      auto results = log->append(part);
      if (!results || !(*results)[0]) {
        ADD_FAILURE() << "append failed";
        return;
      }
      next += size;
    }
  });
  std::vector<LogRecord> seen;
  RecordBatch batch;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen.size() < requests.size() && std::chrono::steady_clock::now() < give_up) {
    const int64_t end = log->end_offsets().value().at(Partition{0}).value();
    auto read = log->read(500, kNoWait, batch);
    ASSERT_TRUE(read.has_value()) << read.error().message;
    for (LogRecord& record : batch.records) {
      // end_offsets was taken before the read: the read may see more, never
      // a record that is not durable yet.
      EXPECT_LT(record.offset.value(), log->end_offsets().value().at(Partition{0}).value());
      seen.push_back(std::move(record));
    }
    EXPECT_LE(end, log->end_offsets().value().at(Partition{0}).value());
  }
  appender.join();
  expect_records(seen, requests, 0);
}

// A child process appends large batches until it is killed (SIGKILL, at no
// chosen point); every append it saw return is in the log, and the log ends
// at a batch boundary: an append is in the log whole or not at all.
TEST(EmbeddedLogTest, KilledWhileAppendingLeavesEveryAcknowledgedAppendAndNoHalfOne) {
  TempDir dir;
  constexpr int kBatch = static_cast<int>(kLarge);
  constexpr int kAcknowledgedBeforeKill = 3;
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    auto log = EmbeddedLog::open(dir.path());
    if (!log) ::_exit(2);
    for (int batch = 0;; ++batch) {
      auto results = (*log)->append(make_requests(batch * kBatch, kBatch));
      if (!results || !(*results)[0]) ::_exit(3);
      const char acknowledged = 'a';
      if (::write(pipe_fds[1], &acknowledged, 1) != 1) ::_exit(4);
    }
  }
  ::close(pipe_fds[1]);
  int acknowledged = 0;
  char byte = 0;
  while (acknowledged < kAcknowledgedBeforeKill && ::read(pipe_fds[0], &byte, 1) == 1) {
    ++acknowledged;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipe_fds[0]);
  ASSERT_EQ(acknowledged, kAcknowledgedBeforeKill) << "the child stopped early: " << status;

  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const int64_t end = log->end_offsets().value().at(Partition{0}).value();
  EXPECT_GE(end, int64_t{kAcknowledgedBeforeKill} * kBatch);
  EXPECT_EQ(end % kBatch, 0) << "half an append is in the log";
  expect_records(read_to_end(*log, 10'000), make_requests(0, static_cast<int>(end)), 0);
}

// A log whose last appends are only in its WAL, as a writer killed before it
// closed leaves it: `batches` appends of `per_batch` records each, made in a
// child process that ends without closing the log.
void leave_appends_in_the_wal(const std::filesystem::path& dir, int batches, int per_batch) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log = EmbeddedLog::open(dir);
    if (!log) ::_exit(2);
    for (int batch = 0; batch < batches; ++batch) {
      auto results = (*log)->append(make_requests(batch * per_batch, per_batch));
      if (!results || !(*results)[0]) ::_exit(3);
    }
    ::_exit(0);  // no close, no flush: the records are in the WAL only
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

std::filesystem::path the_wal(const std::filesystem::path& dir) {
  std::filesystem::path wal;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log" && entry.file_size() > 0) wal = entry.path();
  }
  return wal;
}

TEST(EmbeddedLogTest, DamageInsideTheWalIsAnErrorNotALogWithRecordsMissing) {
  TempDir dir;
  leave_appends_in_the_wal(dir.path(), 10, 10);
  const std::filesystem::path wal = the_wal(dir.path());
  ASSERT_FALSE(wal.empty()) << "no WAL with records";
  {
    std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(std::filesystem::file_size(wal));
    file.seekg(size / 2);
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(size / 2);
    byte = static_cast<char>(byte ^ 0x5a);
    file.write(&byte, 1);
  }
  for (const EmbeddedLogMode mode : {EmbeddedLogMode::kRead, EmbeddedLogMode::kWrite}) {
    auto log = EmbeddedLog::open(dir.path(), mode);
    if (!log) {
      EXPECT_EQ(log.error().code, ErrorCode::kCorruption) << log.error().message;
      continue;
    }
    // A reader may open (RocksDB reads a secondary's WAL as it can), but it
    // must not answer with a log cut short in silence.
    auto ends = (*log)->end_offsets();
    if (ends) {
      ADD_FAILURE() << "opened a damaged log with " << ends->at(Partition{0}).value()
                    << " of 100 records";
    }
  }
}

TEST(EmbeddedLogTest, ATornLastAppendIsDroppedAndEveryEarlierOneKept) {
  TempDir dir;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 10;
  leave_appends_in_the_wal(dir.path(), kBatches, kPerBatch);
  const std::filesystem::path wal = the_wal(dir.path());
  ASSERT_FALSE(wal.empty()) << "no WAL with records";
  // A crash in the middle of the last write: its end never reached the disk.
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - 7);
  auto log = open_log(dir.path());
  ASSERT_NE(log, nullptr);
  const auto kept = make_requests(0, (kBatches - 1) * kPerBatch);
  expect_records(read_to_end(*log, 1000), kept, 0);
}

}  // namespace
}  // namespace homeward::connectors
