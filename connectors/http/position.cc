#include "connectors/http/position.h"

#include <charconv>

#include <fmt/core.h>

namespace homeward::connectors::http {
namespace {

std::optional<int64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::string format_position(const engine::OffsetMap& position) {
  std::string text;
  for (const auto& [partition, offset] : position) {
    if (!text.empty()) text.push_back(',');
    text += fmt::format("{}:{}", partition.value(), offset.value());
  }
  return text;
}

std::optional<engine::OffsetMap> parse_position(std::string_view text) {
  engine::OffsetMap position;
  if (text.empty() || text.size() > 64 * 1024) return std::nullopt;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view pair = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (comma != std::string_view::npos && text.empty()) return std::nullopt;
    const size_t colon = pair.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto partition = parse_number(pair.substr(0, colon));
    const auto offset = parse_number(pair.substr(colon + 1));
    if (!partition || !offset || *partition > INT32_MAX) return std::nullopt;
    if (!position.emplace(Partition(static_cast<int32_t>(*partition)), Offset(*offset)).second) {
      return std::nullopt;
    }
  }
  return position;
}

bool position_reached(const engine::OffsetMap& at, const engine::OffsetMap& wanted) {
  for (const auto& [partition, offset] : wanted) {
    const auto it = at.find(partition);
    const int64_t reached = it == at.end() ? 0 : it->second.value();
    if (reached < offset.value()) return false;
  }
  return true;
}

engine::OffsetMap position_of(const engine::Checkpoints& checkpoints) {
  engine::OffsetMap position;
  for (const auto& [partition, checkpoint] : checkpoints) {
    position.emplace(partition, checkpoint.next_offset);
  }
  return position;
}

}  // namespace homeward::connectors::http
