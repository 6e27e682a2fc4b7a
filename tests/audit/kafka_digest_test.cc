// The same stream through the embedded log and through a Kafka topic of
// three partitions (librdkafka's mock cluster on loopback) audits to the same
// state digest, though the chain heads differ (they hash positions).
#include <gtest/gtest.h>

#include "connectors/kafka/kafka_log.h"
#include "tests/audit/audit_test_support.h"
#include "tests/kafka/support/mock_kafka_cluster.h"

namespace homeward::testing {
namespace {

Result<audit::AuditResult> audit_log(engine::EventLogReader& log,
                                     const std::filesystem::path& out) {
  audit::AuditOptions options;
  options.out_dir = out;
  options.batch_events_max = 64;
  return audit::run_audit(log, nullptr, options);
}

TEST(KafkaDigestTest, EmbeddedAndKafkaLogsOfTheSameStreamGiveTheSameDigest) {
  const std::vector<AppendRequest> records = rich_log_records();
  TempDir dir;

  auto embedded = open_log(dir.path() / "log");
  append_records(*embedded, records);
  auto from_embedded = audit_log(*embedded, dir.path() / "embedded");
  ASSERT_TRUE(from_embedded.has_value()) << from_embedded.error().message;
  EXPECT_TRUE(from_embedded->passed()) << all_findings(from_embedded->findings);

  MockKafkaCluster cluster(/*brokers=*/1, /*partitions=*/3);
  {
    auto appender = connectors::KafkaAppender::open(cluster.options());
    ASSERT_TRUE(appender.has_value()) << appender.error().message;
    auto appended = (*appender)->append(records);
    ASSERT_TRUE(appended.has_value()) << appended.error().message;
    for (const auto& result : *appended) ASSERT_TRUE(result.has_value()) << result.error().message;
  }
  auto reader = connectors::KafkaReader::open(cluster.options());
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  auto from_kafka = audit_log(**reader, dir.path() / "kafka");
  ASSERT_TRUE(from_kafka.has_value()) << from_kafka.error().message;
  EXPECT_TRUE(from_kafka->passed()) << all_findings(from_kafka->findings);

  EXPECT_EQ(from_kafka->report["events_read"], from_embedded->report["events_read"]);
  EXPECT_GT(from_kafka->report["partitions"].size(), 1u);
  EXPECT_EQ(from_kafka->report["state_digest"], from_embedded->report["state_digest"]);
  EXPECT_EQ(from_kafka->report["impact"], from_embedded->report["impact"]);
}

}  // namespace
}  // namespace homeward::testing
