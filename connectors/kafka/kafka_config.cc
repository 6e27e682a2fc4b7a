#include "connectors/kafka/kafka_config.h"

#include <fstream>
#include <string>
#include <system_error>

#include <fmt/core.h>

namespace homeward::connectors {
namespace {

std::string_view trim(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n\f\v";
  const size_t first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(kBlanks);
  return text.substr(first, last - first + 1);
}

}  // namespace

Result<KafkaProperties> parse_kafka_properties(std::string_view text, std::string_view origin) {
  KafkaProperties properties;
  int64_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view raw_line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    const std::string_view line = trim(raw_line);
    if (line.empty() || line.front() == '#') continue;
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      // Quoted in part only: the line may be anything up to the file's limit.
      constexpr size_t kQuotedMax = 80;
      const std::string quoted =
          line.size() <= kQuotedMax
              ? std::string(line)
              : fmt::format("{}... ({} bytes)", line.substr(0, kQuotedMax), line.size());
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}:{}: expected key=value, got '{}'", origin, line_number, quoted));
    }
    const std::string_view key = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (key.empty()) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("{}:{}: the property name before '=' is empty", origin, line_number));
    }
    properties.emplace_back(std::string(key), std::string(value));
  }
  return properties;
}

Result<KafkaProperties> load_kafka_properties(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("Kafka properties file {} does not exist", file.string()));
  }
  std::ifstream input(file, std::ios::binary);
  if (!input) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot open Kafka properties file {}", file.string()));
  }
  // One byte more than the limit tells a file at the limit from a longer one.
  std::string contents(kMaxKafkaPropertiesBytes + 1, '\0');
  input.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (input.bad()) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot read Kafka properties file {}", file.string()));
  }
  contents.resize(static_cast<size_t>(input.gcount()));
  if (contents.size() > kMaxKafkaPropertiesBytes) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("Kafka properties file {} holds more than {} bytes (1 MiB), the "
                                  "most a properties file may hold; it was not read further",
                                  file.string(), kMaxKafkaPropertiesBytes));
  }
  return parse_kafka_properties(contents, file.string());
}

}  // namespace homeward::connectors
