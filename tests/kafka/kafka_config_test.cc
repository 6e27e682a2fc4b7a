// The `--kafka-config` properties file and the properties Homeward refuses.
#include "connectors/kafka/kafka_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "connectors/kafka/kafka_log.h"
#include "tests/support/temp_dir.h"

namespace homeward::connectors {
namespace {

TEST(KafkaConfig, PropertiesFileSkipsCommentsAndBlankLinesAndKeepsEqualsInValues) {
  auto properties = parse_kafka_properties(
      "# SASL for the production cluster\n"
      "\n"
      "  security.protocol = SASL_SSL  \r\n"
      "sasl.mechanism=PLAIN\n"
      "sasl.password=a=b==c\n"
      "   # indented comment\n"
      "socket.timeout.ms=30000",
      "test.properties");
  ASSERT_TRUE(properties.has_value()) << properties.error().message;
  const KafkaProperties expected = {
      {"security.protocol", "SASL_SSL"},
      {"sasl.mechanism", "PLAIN"},
      {"sasl.password", "a=b==c"},
      {"socket.timeout.ms", "30000"},
  };
  EXPECT_EQ(*properties, expected);
}

TEST(KafkaConfig, LineWithoutEqualsIsRefusedWithItsLineNumber) {
  auto properties = parse_kafka_properties("a=1\n# fine\nlinger.ms 10\n", "my.properties");
  ASSERT_FALSE(properties.has_value());
  EXPECT_EQ(properties.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(properties.error().message, "my.properties:3: expected key=value, got 'linger.ms 10'");
}

TEST(KafkaConfig, EmptyKeyIsRefused) {
  auto properties = parse_kafka_properties("=value\n", "f");
  ASSERT_FALSE(properties.has_value());
  EXPECT_EQ(properties.error().message, "f:1: the property name before '=' is empty");
}

TEST(KafkaConfig, MissingFileIsNotFound) {
  testing::TempDir dir;
  auto properties = load_kafka_properties(dir.path() / "absent.properties");
  ASSERT_FALSE(properties.has_value());
  EXPECT_EQ(properties.error().code, ErrorCode::kNotFound);
}

TEST(KafkaConfig, FileIsReadFromDisk) {
  testing::TempDir dir;
  const auto file = dir.path() / "client.properties";
  std::ofstream(file) << "client.id=homeward-test\n";
  auto properties = load_kafka_properties(file);
  ASSERT_TRUE(properties.has_value()) << properties.error().message;
  EXPECT_EQ(*properties, (KafkaProperties{{"client.id", "homeward-test"}}));
}

// `--kafka-config /dev/zero` (or any endless input) is refused at the size
// limit instead of being read into memory without end.
TEST(KafkaConfig, AFileLargerThanTheLimitIsRefusedUnreadPastIt) {
  auto zeros = load_kafka_properties("/dev/zero");
  ASSERT_FALSE(zeros.has_value());
  EXPECT_EQ(zeros.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(zeros.error().message,
            "Kafka properties file /dev/zero holds more than 1048576 bytes (1 MiB), the most a "
            "properties file may hold; it was not read further");

  testing::TempDir dir;
  const auto file = dir.path() / "big.properties";
  const std::string setting = "client.id=homeward-test\n";
  const std::string padding(kMaxKafkaPropertiesBytes - setting.size() - 2, 'x');
  std::ofstream(file) << setting << "#" << padding << "\n";
  auto at_limit = load_kafka_properties(file);
  ASSERT_TRUE(at_limit.has_value()) << at_limit.error().message;
  EXPECT_EQ(*at_limit, (KafkaProperties{{"client.id", "homeward-test"}}));
  std::ofstream(file, std::ios::app) << "#";
  EXPECT_EQ(load_kafka_properties(file).error().code, ErrorCode::kInvalidArgument);
}

TEST(KafkaConfig, ALongBadLineIsQuotedInPart) {
  auto properties = parse_kafka_properties(std::string(1000, 'k') + "\n", "f");
  ASSERT_FALSE(properties.has_value());
  EXPECT_EQ(properties.error().message,
            "f:1: expected key=value, got '" + std::string(80, 'k') + "... (1000 bytes)'");
}

TEST(KafkaConfig, TurningIdempotenceOffIsRefused) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"enable.idempotence", "false"}};
  auto appender = KafkaAppender::open(options);
  ASSERT_FALSE(appender.has_value());
  EXPECT_EQ(appender.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(appender.error().message.find("enable.idempotence=false is not allowed"),
            std::string::npos)
      << appender.error().message;
}

TEST(KafkaConfig, AcksMinusOneIsTheSameAsAll) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"acks", "-1"}};
  auto appender = KafkaAppender::open(options);
  EXPECT_TRUE(appender.has_value()) << appender.error().message;
  options.properties = {{"acks", "1"}};
  auto weaker = KafkaAppender::open(options);
  ASSERT_FALSE(weaker.has_value());
  EXPECT_NE(weaker.error().message.find("acks=1 is not allowed"), std::string::npos);
}

TEST(KafkaConfig, AutoOffsetResetCannotBeChanged) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"auto.offset.reset", "earliest"}};
  auto reader = KafkaReader::open(options);
  ASSERT_FALSE(reader.has_value());
  EXPECT_NE(reader.error().message.find("auto.offset.reset=earliest is not allowed"),
            std::string::npos)
      << reader.error().message;
}

TEST(KafkaConfig, ReadingUncommittedTransactionsIsRefused) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"isolation.level", "read_uncommitted"}};
  auto reader = KafkaReader::open(options);
  ASSERT_FALSE(reader.has_value());
  EXPECT_NE(reader.error().message.find("isolation.level=read_uncommitted is not allowed"),
            std::string::npos)
      << reader.error().message;
  options.properties = {{"isolation.level", "read_committed"}};
  EXPECT_TRUE(KafkaReader::open(options).has_value());
}

TEST(KafkaConfig, TurningPartitionEndEventsOffIsRefused) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"enable.partition.eof", "false"}};
  auto reader = KafkaReader::open(options);
  ASSERT_FALSE(reader.has_value());
  EXPECT_NE(reader.error().message.find("transaction markers"), std::string::npos)
      << reader.error().message;
}

TEST(KafkaConfig, UnknownPropertyIsRefusedWithLibrdkafkasReason) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"no.such.property", "1"}};
  auto reader = KafkaReader::open(options);
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(reader.error().message.find("No such configuration property"), std::string::npos)
      << reader.error().message;
}

TEST(KafkaConfig, NoBrokersIsRefused) {
  KafkaOptions options;
  auto appender = KafkaAppender::open(options);
  ASSERT_FALSE(appender.has_value());
  EXPECT_NE(appender.error().message.find("no Kafka brokers named"), std::string::npos);
}

TEST(KafkaConfig, ZeroMessageTimeoutIsRefusedBecauseAppendWouldNeverEnd) {
  KafkaOptions options;
  options.brokers = "127.0.0.1:1";
  options.properties = {{"message.timeout.ms", "0"}};
  auto appender = KafkaAppender::open(options);
  ASSERT_FALSE(appender.has_value());
  EXPECT_NE(appender.error().message.find("message.timeout.ms=0"), std::string::npos);
}

}  // namespace
}  // namespace homeward::connectors
