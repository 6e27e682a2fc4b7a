// KafkaAppender and KafkaReader against librdkafka's mock cluster over TCP.
#include "connectors/kafka/kafka_log.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "events/codec.h"
#include "events/event.h"
#include "tests/kafka/support/kafka_clients.h"
#include "tests/kafka/support/mock_kafka_cluster.h"

namespace homeward::connectors {
namespace {

using engine::AppendRequest;
using engine::LogPosition;
using engine::LogRecord;
using engine::OffsetMap;
using std::chrono::milliseconds;
using testing::MockKafkaCluster;
using testing::read_records;

constexpr milliseconds kReadDeadline{20'000};

using testing::open_appender;
using testing::open_reader;

// Every record must be appended; returns the positions in request order.
std::vector<LogPosition> append_all(KafkaAppender& appender,
                                    const std::vector<AppendRequest>& requests) {
  std::vector<LogPosition> positions;
  auto results = appender.append(requests);
  if (!results) {
    ADD_FAILURE() << results.error().message;
    return positions;
  }
  EXPECT_EQ(results->size(), requests.size());
  for (size_t i = 0; i < results->size(); ++i) {
    const auto& result = (*results)[i];
    if (!result) {
      ADD_FAILURE() << "record " << i << " failed: " << result.error().message;
      continue;
    }
    positions.push_back(*result);
  }
  return positions;
}

// Binary values with NUL bytes and every byte value, so that nothing treats
// them as text.
std::string binary_value(size_t seed, size_t size) {
  std::string value(size, '\0');
  std::mt19937 random(static_cast<uint32_t>(seed));
  for (char& c : value) c = static_cast<char>(random() & 0xffU);
  return value;
}

TEST(KafkaLog, RoundTripIsByteIdenticalWithKeysAndHeaders) {
  MockKafkaCluster kafka(1, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests;
  for (size_t i = 0; i < 60; ++i) {
    AppendRequest& request = requests.emplace_back();
    request.key = fmt::format("case-{}", i % 7);
    request.value = binary_value(i, 1 + i * 13);
    request.type = static_cast<events::EventType>(i % events::kEventTypeCount);
  }
  const std::vector<LogPosition> positions = append_all(*appender, requests);
  ASSERT_EQ(positions.size(), requests.size());

  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->seek({}).has_value());
  const std::vector<LogRecord> records = read_records(*reader, requests.size(), kReadDeadline);
  ASSERT_EQ(records.size(), requests.size());
  std::map<std::pair<int32_t, int64_t>, const LogRecord*> by_position;
  for (const LogRecord& record : records) {
    by_position[{record.partition.value(), record.offset.value()}] = &record;
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto it = by_position.find({positions[i].partition.value(), positions[i].offset.value()});
    ASSERT_NE(it, by_position.end()) << "record " << i << " not read back at its position";
    EXPECT_EQ(it->second->key, requests[i].key);
    EXPECT_EQ(it->second->value, requests[i].value) << "record " << i;
  }

  // The headers, read with a plain librdkafka consumer as any other tool would.
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", kafka.bootstrap_servers().c_str(),
                              errstr.data(), errstr.size()),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(rd_kafka_conf_set(conf, "group.id", "header-check", errstr.data(), errstr.size()),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.data(), errstr.size());
  ASSERT_NE(consumer, nullptr) << errstr.data();
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(assignment, kafka.topic().c_str(),
                                    positions[5].partition.value())
      ->offset = positions[5].offset.value();
  ASSERT_EQ(rd_kafka_assign(consumer, assignment), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(assignment);
  rd_kafka_message_t* message = nullptr;
  const auto give_up = std::chrono::steady_clock::now() + kReadDeadline;
  while (message == nullptr && std::chrono::steady_clock::now() < give_up) {
    message = rd_kafka_consumer_poll(consumer, 100);
    if (message != nullptr && message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_message_destroy(message);
      message = nullptr;
    }
  }
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(message->offset, positions[5].offset.value());
  rd_kafka_headers_t* headers = nullptr;
  ASSERT_EQ(rd_kafka_message_headers(message, &headers), RD_KAFKA_RESP_ERR_NO_ERROR);
  const void* value = nullptr;
  size_t size = 0;
  ASSERT_EQ(rd_kafka_header_get_last(headers, "homeward.type", &value, &size),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(std::string(static_cast<const char*>(value), size),
            std::string(events::to_string(requests[5].type)));
  EXPECT_EQ(std::string(static_cast<const char*>(value), size), "PledgeFulfilled");
  ASSERT_EQ(rd_kafka_header_get_last(headers, "homeward.schema_version", &value, &size),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(std::string(static_cast<const char*>(value), size),
            std::to_string(events::kSchemaVersion));
  rd_kafka_message_destroy(message);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
}

class KafkaLogPartitions : public ::testing::TestWithParam<int> {};

TEST_P(KafkaLogPartitions, PerKeyOrderIsKeptAndEveryKeyStaysInOnePartition) {
  const int partitions = GetParam();
  MockKafkaCluster kafka(3, partitions);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  constexpr int kKeys = 40;
  constexpr int kPerKey = 30;
  std::vector<AppendRequest> requests;
  for (int sequence = 0; sequence < kPerKey; ++sequence) {
    for (int key = 0; key < kKeys; ++key) {
      AppendRequest& request = requests.emplace_back();
      request.key = fmt::format("case-{}", key);
      request.value = request.key + fmt::format("#{}", sequence);
    }
  }
  // Several appends, as the publisher makes them.
  std::vector<LogPosition> positions;
  for (size_t start = 0; start < requests.size(); start += 250) {
    const size_t end = std::min(requests.size(), start + 250);
    const std::vector<AppendRequest> chunk(requests.begin() + static_cast<ptrdiff_t>(start),
                                           requests.begin() + static_cast<ptrdiff_t>(end));
    for (const LogPosition& position : append_all(*appender, chunk)) positions.push_back(position);
  }
  ASSERT_EQ(positions.size(), requests.size());

  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->seek({}).has_value());
  const std::vector<LogRecord> records = read_records(*reader, requests.size(), kReadDeadline);
  ASSERT_EQ(records.size(), requests.size());

  std::map<std::string, int> next_sequence;
  std::map<std::string, int32_t> partition_of;
  std::map<int32_t, int64_t> last_offset;
  std::set<int32_t> used_partitions;
  for (const LogRecord& record : records) {
    const size_t hash = record.value.find('#');
    ASSERT_NE(hash, std::string::npos);
    const std::string key = record.value.substr(0, hash);
    EXPECT_EQ(record.key, key);
    const int sequence = std::stoi(record.value.substr(hash + 1));
    EXPECT_EQ(sequence, next_sequence[key]) << key << " out of order";
    next_sequence[key] = sequence + 1;
    const auto [it, inserted] = partition_of.emplace(key, record.partition.value());
    EXPECT_EQ(it->second, record.partition.value()) << key << " in two partitions";
    const auto previous = last_offset.find(record.partition.value());
    if (previous != last_offset.end()) {
      EXPECT_GT(record.offset.value(), previous->second);
    }
    last_offset[record.partition.value()] = record.offset.value();
    used_partitions.insert(record.partition.value());
  }
  EXPECT_EQ(next_sequence.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, count] : next_sequence) EXPECT_EQ(count, kPerKey) << key;
  // 40 keys spread over every partition of a small topic.
  EXPECT_EQ(used_partitions.size(), static_cast<size_t>(partitions));
}

INSTANTIATE_TEST_SUITE_P(Partitions, KafkaLogPartitions, ::testing::Values(1, 3, 8));

TEST(KafkaLog, EndOffsetsAreTheHighWatermarksOfEveryPartition) {
  MockKafkaCluster kafka(1, 4);
  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  auto empty = reader->end_offsets();
  ASSERT_TRUE(empty.has_value()) << empty.error().message;
  EXPECT_EQ(*empty, (OffsetMap{{Partition{0}, Offset{0}},
                               {Partition{1}, Offset{0}},
                               {Partition{2}, Offset{0}},
                               {Partition{3}, Offset{0}}}));

  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 37; ++i) {
    requests.push_back(AppendRequest{fmt::format("case-{}", i % 5), fmt::format("v{}", i),
                                     events::EventType::kDonationReceived});
  }
  const std::vector<LogPosition> positions = append_all(*appender, requests);
  ASSERT_EQ(positions.size(), requests.size());
  OffsetMap expected{{Partition{0}, Offset{0}},
                     {Partition{1}, Offset{0}},
                     {Partition{2}, Offset{0}},
                     {Partition{3}, Offset{0}}};
  for (const LogPosition& position : positions) {
    Offset& end = expected[position.partition];
    end = std::max(end, Offset{position.offset.value() + 1});
  }
  auto ends = reader->end_offsets();
  ASSERT_TRUE(ends.has_value()) << ends.error().message;
  EXPECT_EQ(*ends, expected);
  int64_t total = 0;
  for (const auto& [partition, end] : *ends) total += end.value();
  EXPECT_EQ(total, 37);
}

TEST(KafkaLog, SeekToTheMiddleResumesThere) {
  MockKafkaCluster kafka(1, 1);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 20; ++i) {
    requests.push_back(
        AppendRequest{"case-a", fmt::format("record-{}", i), events::EventType::kDonationReceived});
  }
  ASSERT_EQ(append_all(*appender, requests).size(), 20U);

  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  auto sought = reader->seek({{Partition{0}, Offset{12}}});
  ASSERT_TRUE(sought.has_value()) << sought.error().message;
  const std::vector<LogRecord> records = read_records(*reader, 8, kReadDeadline);
  ASSERT_EQ(records.size(), 8U);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].offset, Offset{static_cast<int64_t>(12 + i)});
    EXPECT_EQ(records[i].value, fmt::format("record-{}", 12 + i));
  }
  // Nothing more: an empty batch after the wait.
  engine::RecordBatch batch;
  ASSERT_TRUE(reader->read(10, milliseconds(200), batch).has_value());
  EXPECT_TRUE(batch.records.empty());

  // Seeking back re-reads from there.
  ASSERT_TRUE(reader->seek({{Partition{0}, Offset{18}}}).has_value());
  const std::vector<LogRecord> again = read_records(*reader, 2, kReadDeadline);
  ASSERT_EQ(again.size(), 2U);
  EXPECT_EQ(again[0].value, "record-18");
  EXPECT_EQ(again[1].value, "record-19");
}

TEST(KafkaLog, SeekPastTheEndOrToAMissingPartitionIsRefused) {
  MockKafkaCluster kafka(1, 2);
  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  auto past_end = reader->seek({{Partition{0}, Offset{5}}});
  ASSERT_FALSE(past_end.has_value());
  EXPECT_EQ(past_end.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(past_end.error().message.find("ends at offset 0"), std::string::npos)
      << past_end.error().message;
  auto missing = reader->seek({{Partition{2}, Offset{0}}});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("has only 2 partitions"), std::string::npos)
      << missing.error().message;
}

TEST(KafkaLog, ReadingATopicThatDoesNotExistIsNotFound) {
  MockKafkaCluster kafka(1, 1);
  KafkaOptions options = kafka.options();
  options.topic = "no.such.topic";
  // The mock would create it on the first metadata request.
  kafka.cluster().set_topic_error(options.topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  auto reader = open_reader(options);
  ASSERT_NE(reader, nullptr);
  auto sought = reader->seek({});
  ASSERT_FALSE(sought.has_value());
  EXPECT_EQ(sought.error().code, ErrorCode::kNotFound);
  EXPECT_NE(sought.error().message.find("'no.such.topic' does not exist"), std::string::npos)
      << sought.error().message;
}

// The mock keeps at most 5 MiB per partition and drops its oldest batches
// beyond that, as retention would: the deleted offsets must stop the reader.
TEST(KafkaLog, OffsetDeletedByRetentionIsAnErrorNotASkip) {
  MockKafkaCluster kafka(1, 1);
  KafkaOptions options = kafka.options();
  options.properties.emplace_back("compression.type", "none");
  options.properties.emplace_back("batch.size", "300000");
  auto appender = open_appender(options);
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 32; ++i) {
    requests.push_back(AppendRequest{"case-big", binary_value(static_cast<size_t>(i), 256 * 1024),
                                     events::EventType::kDonationReceived});
  }
  ASSERT_EQ(append_all(*appender, requests).size(), 32U);

  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  auto from_start = reader->seek({});
  ASSERT_FALSE(from_start.has_value()) << "offset 0 was deleted, seek must fail";
  EXPECT_EQ(from_start.error().code, ErrorCode::kNotFound);
  EXPECT_NE(from_start.error().message.find("were deleted"), std::string::npos)
      << from_start.error().message;
  auto resumed = reader->seek({{Partition{0}, Offset{1}}});
  ASSERT_FALSE(resumed.has_value());
  EXPECT_EQ(resumed.error().code, ErrorCode::kNotFound);

  // From the last offset, which is still there, reading works.
  auto last = reader->seek({{Partition{0}, Offset{31}}});
  ASSERT_TRUE(last.has_value()) << last.error().message;
  const std::vector<LogRecord> records = read_records(*reader, 1, kReadDeadline);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].value, requests[31].value);
}

TEST(KafkaLog, NonRetriableProduceErrorIsReportedPerRecordNotDropped) {
  MockKafkaCluster kafka(1, 1);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  // Warm up: the producer id and metadata are in place before the fault.
  ASSERT_EQ(
      append_all(*appender, {AppendRequest{"case-a", "first", events::EventType::kCaseOpened}})
          .size(),
      1U);
  kafka.cluster().push_request_errors(kApiProduce, {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 5; ++i) {
    requests.push_back(
        AppendRequest{"case-a", fmt::format("after-{}", i), events::EventType::kDonationReceived});
  }
  auto results = appender->append(requests);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  ASSERT_EQ(results->size(), 5U);
  int failed = 0;
  for (const auto& result : *results) {
    if (result) continue;
    ++failed;
    EXPECT_NE(result.error().message.find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos)
        << result.error().message;
  }
  EXPECT_EQ(failed, 5) << "the produce request that failed held all five records";
}

TEST(KafkaLog, AppendingToATopicThatDoesNotExistFailsEveryRecord) {
  MockKafkaCluster kafka(1, 1);
  KafkaOptions options = kafka.options();
  options.topic = "missing.topic";
  kafka.cluster().set_topic_error(options.topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  auto appender = open_appender(options);
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests{
      {"case-a", "one", events::EventType::kCaseOpened},
      {"case-b", "two", events::EventType::kCaseOpened},
  };
  auto results = appender->append(requests);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  ASSERT_EQ(results->size(), 2U);
  for (const auto& result : *results) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kNotFound) << result.error().message;
    EXPECT_NE(result.error().message.find("UNKNOWN_TOPIC"), std::string::npos)
        << result.error().message;
  }
}

TEST(KafkaLog, RetriableProduceErrorsAreRetriedAndNothingIsLost) {
  MockKafkaCluster kafka(3, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  ASSERT_EQ(
      append_all(*appender, {AppendRequest{"case-a", "warm-up", events::EventType::kCaseOpened}})
          .size(),
      1U);
  kafka.cluster().push_request_errors(
      kApiProduce,
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
       RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND});
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 200; ++i) {
    requests.push_back(AppendRequest{fmt::format("case-{}", i % 9), fmt::format("r{}", i),
                                     events::EventType::kDonationReceived});
  }
  const std::vector<LogPosition> positions = append_all(*appender, requests);
  ASSERT_EQ(positions.size(), 200U);

  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  const std::vector<LogRecord> records = read_records(*reader, 201, kReadDeadline);
  std::multiset<std::string> values;
  for (const LogRecord& record : records) values.insert(record.value);
  for (const AppendRequest& request : requests) {
    EXPECT_GE(values.count(request.value), 1U) << request.value << " acknowledged but lost";
  }
}

TEST(KafkaLog, PipelinedAppendsAnswerEachBatchInOrderWithItsOwnPositions) {
  MockKafkaCluster kafka(1, 3);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  std::vector<std::vector<AppendRequest>> batches(3);
  for (int i = 0; i < 300; ++i) {
    batches[static_cast<size_t>(i / 100)].push_back(
        AppendRequest{fmt::format("case-{}", i % 7), fmt::format("p{}", i),
                      events::EventType::kDonationReceived});
  }
  // As the publisher does: the next batch is started before the previous
  // one is finished.
  appender->start_append(batches[0]);
  appender->start_append(batches[1]);
  std::vector<std::vector<LogPosition>> positions;
  for (size_t b = 0; b < batches.size(); ++b) {
    auto results = appender->finish_append();
    if (b + 2 < batches.size()) appender->start_append(batches[b + 2]);
    ASSERT_TRUE(results.has_value()) << results.error().message;
    ASSERT_EQ(results->size(), batches[b].size()) << "batch " << b;
    positions.emplace_back();
    for (const auto& result : *results) {
      ASSERT_TRUE(result.has_value()) << result.error().message;
      positions.back().push_back(*result);
    }
  }
  // Within a partition, offsets follow the order the records were handed over.
  std::map<int32_t, int64_t> last_offset;
  for (const auto& batch : positions) {
    for (const LogPosition& position : batch) {
      auto [it, fresh] = last_offset.emplace(position.partition.value(), position.offset.value());
      if (!fresh) {
        EXPECT_GT(position.offset.value(), it->second);
        it->second = position.offset.value();
      }
    }
  }
  auto reader = open_reader(kafka.options());
  ASSERT_NE(reader, nullptr);
  const std::vector<LogRecord> records = read_records(*reader, 300, kReadDeadline);
  ASSERT_EQ(records.size(), 300U);
  std::map<std::string, std::vector<std::string>> by_key;
  for (const LogRecord& record : records) by_key[record.key].push_back(record.value);
  for (const auto& [key, values] : by_key) {
    for (size_t i = 1; i < values.size(); ++i) {
      EXPECT_LT(std::stoi(values[i - 1].substr(1)), std::stoi(values[i].substr(1))) << key;
    }
  }
  // Each answer is the position of its own record: what is read there is
  // the request the position was returned for.
  std::map<std::pair<int32_t, int64_t>, const LogRecord*> at_position;
  for (const LogRecord& record : records) {
    at_position[{record.partition.value(), record.offset.value()}] = &record;
  }
  for (size_t b = 0; b < batches.size(); ++b) {
    for (size_t i = 0; i < batches[b].size(); ++i) {
      const LogPosition& position = positions[b][i];
      const auto found = at_position.find({position.partition.value(), position.offset.value()});
      ASSERT_NE(found, at_position.end()) << "batch " << b << " record " << i;
      EXPECT_EQ(found->second->key, batches[b][i].key);
      EXPECT_EQ(found->second->value, batches[b][i].value);
    }
  }
}

TEST(KafkaLog, FullLocalQueueWaitsInsteadOfFailing) {
  MockKafkaCluster kafka(1, 1);
  KafkaOptions options = kafka.options();
  // A queue of 20 records and a slow broker: most producev calls find it full.
  options.properties.emplace_back("queue.buffering.max.messages", "20");
  options.properties.emplace_back("linger.ms", "0");
  ASSERT_TRUE(kafka.cluster().set_broker_rtt(1, 20).has_value());
  auto appender = open_appender(options);
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 400; ++i) {
    requests.push_back(
        AppendRequest{"case-q", fmt::format("q{}", i), events::EventType::kDonationReceived});
  }
  const std::vector<LogPosition> positions = append_all(*appender, requests);
  ASSERT_EQ(positions.size(), 400U);
  for (size_t i = 0; i < positions.size(); ++i) {
    EXPECT_EQ(positions[i].offset, Offset{static_cast<int64_t>(i)});
  }
}

TEST(KafkaLog, GroupOffsetsAreCommittedAsInformation) {
  MockKafkaCluster kafka(1, 1);
  auto appender = open_appender(kafka.options());
  ASSERT_NE(appender, nullptr);
  std::vector<AppendRequest> requests;
  for (int i = 0; i < 10; ++i) {
    requests.push_back(
        AppendRequest{"case-c", fmt::format("c{}", i), events::EventType::kDonationReceived});
  }
  ASSERT_EQ(append_all(*appender, requests).size(), 10U);
  KafkaOptions options = kafka.options();
  options.group_id = "homeward-test-group";
  auto reader = open_reader(options);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->seek({{Partition{0}, Offset{4}}}).has_value());

  // Ask the group coordinator what it holds, as a monitoring tool would.
  rd_kafka_topic_partition_list_t* wanted = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(wanted, kafka.topic().c_str(), 0);
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", kafka.bootstrap_servers().c_str(),
                              errstr.data(), errstr.size()),
            RD_KAFKA_CONF_OK);
  ASSERT_EQ(
      rd_kafka_conf_set(conf, "group.id", "homeward-test-group", errstr.data(), errstr.size()),
      RD_KAFKA_CONF_OK);
  rd_kafka_t* monitor = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.data(), errstr.size());
  ASSERT_NE(monitor, nullptr);
  int64_t committed = -1;
  const auto give_up = std::chrono::steady_clock::now() + kReadDeadline;
  while (committed != 4 && std::chrono::steady_clock::now() < give_up) {
    // The commit is asynchronous: the reader's poll sends it.
    engine::RecordBatch batch;
    ASSERT_TRUE(reader->read(0, milliseconds(0), batch).has_value());
    if (rd_kafka_committed(monitor, wanted, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      committed = wanted->elems[0].offset;
    }
  }
  EXPECT_EQ(committed, 4);
  rd_kafka_topic_partition_list_destroy(wanted);
  rd_kafka_destroy(monitor);
}

TEST(KafkaLog, ClusterIdNamesTheClusterTheBrokersBelongTo) {
  MockKafkaCluster kafka(3, 1);
  MockKafkaCluster other(1, 1);
  auto reader = open_reader(kafka.options());
  auto second = open_reader(kafka.options());
  auto elsewhere = open_reader(other.options());
  ASSERT_NE(reader, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(elsewhere, nullptr);
  auto id = reader->cluster_id();
  auto again = second->cluster_id();
  auto other_id = elsewhere->cluster_id();
  ASSERT_TRUE(id.has_value()) << id.error().message;
  ASSERT_TRUE(again.has_value()) << again.error().message;
  ASSERT_TRUE(other_id.has_value()) << other_id.error().message;
  EXPECT_FALSE(id->empty());
  EXPECT_EQ(*id, *again);
  EXPECT_NE(*id, *other_id);
}

TEST(KafkaLog, ClusterIdOfUnreachableBrokersIsUnavailable) {
  KafkaOptions options;
  // Port 1 on loopback: nothing listens there (tcpmux is long gone).
  options.brokers = "127.0.0.1:1";
  options.request_timeout = milliseconds(500);
  auto reader = open_reader(options);
  ASSERT_NE(reader, nullptr);
  auto id = reader->cluster_id();
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(id.error().message.find("127.0.0.1:1"), std::string::npos) << id.error().message;
}

TEST(KafkaLog, AppendingWhenNoBrokerCanBeReachedFailsAtOnceAndQueuesNothing) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";  // nothing listens there
  auto appender = open_appender(options);
  ASSERT_NE(appender, nullptr);
  const std::vector<AppendRequest> requests = {
      {"case-a", "a", events::EventType::kCaseOpened},
      {"case-b", "b", events::EventType::kCaseOpened},
  };
  // Twice: the second append does not wait again for the same failure.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto started = std::chrono::steady_clock::now();
    auto results = appender->append(requests);
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(results.has_value());
    EXPECT_EQ(results.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(results.error().message.find("all brokers down"), std::string::npos)
        << results.error().message;
    // Far below message.timeout.ms (60 s), which queued records would wait.
    EXPECT_LT(took, std::chrono::seconds(20));
  }
}

}  // namespace
}  // namespace homeward::connectors
