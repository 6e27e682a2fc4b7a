#include "projections/paging.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <memory>
#include <utility>

#include "events/identifier.h"
#include "projections/record_codec.h"

namespace homeward::projections {
namespace {

const std::string kCasesRange(1, kCasePrefix);
const std::string kRejectionsRange(1, kRejectionPrefix);

Status check_limit(const std::optional<size_t>& limit) {
  if (limit && *limit == 0) {
    return make_error(ErrorCode::kInvalidArgument, "a page holds at least one record (limit 0)");
  }
  return {};
}

// The smallest key greater than `key`: no key lies between the two, so a
// seek there starts just after a cursor whether or not its record exists.
std::string successor(std::string key) {
  key.push_back('\0');
  return key;
}

// A decimal number from 0 to `max`, nothing else (no sign, no spaces).
template <typename Int>
std::optional<Int> parse_number(std::string_view text, Int max) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

Result<CasePage> query_cases(const RocksProjectionStore& store, const CaseQuery& query) {
  if (auto s = check_limit(query.limit); !s) return std::unexpected(s.error());
  if (!query.after.empty() && !events::is_valid_identifier(query.after)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("the cursor \"{}\" is not a case_id (SPEC section 2)", query.after));
  }
  const std::string start = query.after.empty() ? std::string() : successor(case_key(query.after));
  CasePage page;
  std::unique_ptr<RecordCursor> cursor = store.open_cursor(kCasesRange, start);
  for (; cursor->valid(); cursor->next()) {
    const std::string_view case_id = cursor->key().substr(1);
    auto summary = decode_summary(cursor->value());
    if (!summary) {
      Error error = summary.error();
      error.message = fmt::format("case {}: {}", case_id, error.message);
      return std::unexpected(std::move(error));
    }
    // Cases that only ever had rejected events are kept for their event ids
    // but are not cases anyone opened (as list_cases).
    if (!summary->opened) continue;
    if (query.status && summary->status() != *query.status) continue;
    if (query.limit && page.cases.size() == *query.limit) {
      // One more matches: the page is not the last.
      page.next = page.cases.back().case_id;
      return page;
    }
    page.cases.push_back(CaseView{std::string(case_id), *summary});
  }
  if (auto s = cursor->status(); !s) return std::unexpected(s.error());
  return page;
}

std::string format_rejection_cursor(const RejectionKey& key) {
  return fmt::format("{}/{}/{}", key.case_id, key.partition.value(), key.offset.value());
}

Result<RejectionKey> parse_rejection_cursor(std::string_view text) {
  auto bad = [text](std::string_view why) -> Result<RejectionKey> {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("the cursor \"{}\" is not CASE_ID/PARTITION/OFFSET: {}", text, why));
  };
  const size_t last = text.rfind('/');
  if (last == std::string_view::npos || last == 0) return bad("it needs two '/'");
  const size_t middle = text.rfind('/', last - 1);
  if (middle == std::string_view::npos) return bad("it needs two '/'");
  const std::string_view case_id = text.substr(0, middle);
  if (!case_id.empty() && !events::is_valid_identifier(case_id)) {
    return bad("the case_id is not an identifier (SPEC section 2)");
  }
  const auto partition = parse_number<int32_t>(text.substr(middle + 1, last - middle - 1),
                                               std::numeric_limits<int32_t>::max());
  if (!partition) return bad("the partition is not a number from 0");
  const auto offset =
      parse_number<int64_t>(text.substr(last + 1), std::numeric_limits<int64_t>::max());
  if (!offset) return bad("the offset is not a number from 0");
  return RejectionKey{std::string(case_id), Partition(*partition), Offset(*offset)};
}

Result<RejectionPage> query_rejections(const RocksProjectionStore& store,
                                       const RejectionQuery& query) {
  if (auto s = check_limit(query.limit); !s) return std::unexpected(s.error());
  std::string start;
  if (query.after) {
    if (!query.after->case_id.empty() && !events::is_valid_identifier(query.after->case_id)) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("the cursor's case_id \"{}\" is not an identifier", query.after->case_id));
    }
    start =
        successor(rejection_key(query.after->case_id, query.after->partition, query.after->offset));
  }
  RejectionPage page;
  std::unique_ptr<RecordCursor> cursor = store.open_cursor(kRejectionsRange, start);
  for (; cursor->valid(); cursor->next()) {
    if (query.limit && page.rejections.size() == *query.limit) {
      const engine::RejectionRecord& last = page.rejections.back();
      page.next = RejectionKey{last.case_id, last.partition, last.offset};
      return page;
    }
    auto record = decode_rejection(cursor->value());
    if (!record) return std::unexpected(record.error());
    // The key is derived from the record; a mismatch means the two were
    // written apart, and neither the order nor a cursor could be trusted.
    if (rejection_key(record->case_id, record->partition, record->offset) != cursor->key()) {
      return make_error(
          ErrorCode::kCorruption,
          fmt::format("stored rejection at partition {} offset {} of case \"{}\" is filed "
                      "under another key",
                      record->partition.value(), record->offset.value(), record->case_id));
    }
    page.rejections.push_back(std::move(*record));
  }
  if (auto s = cursor->status(); !s) return std::unexpected(s.error());
  return page;
}

}  // namespace homeward::projections
