// The reads behind SPEC section 7: each one runs over a single snapshot, so
// it sees one batch boundary even while the projector commits.

#include <fmt/format.h>

#include "engine/impact.h"
#include "events/identifier.h"
#include "projections/record_codec.h"
#include "projections/rocksdb_store.h"
#include "projections/store_internal.h"

namespace homeward::projections {
namespace {

const std::string kCasesRange(1, kCasePrefix);
const std::string kRejectionsRange(1, kRejectionPrefix);

Error with_key_context(std::string_view what, std::string_view id, Error error) {
  error.message = fmt::format("{} {}: {}", what, id, error.message);
  return error;
}

}  // namespace

Result<std::vector<CaseView>> RocksProjectionStore::list_cases() const {
  ReadSnapshot snapshot(*handles_);
  std::vector<CaseView> cases;
  auto s = snapshot.scan(kCasesRange, [&](std::string_view key, std::string_view value) {
    const std::string_view case_id = key.substr(1);
    auto summary = decode_summary(value);
    if (!summary)
      return Status(std::unexpected(with_key_context("case", case_id, summary.error())));
    // Cases that only ever had rejected events are kept for their event ids
    // but are not cases anyone opened.
    if (summary->opened) cases.push_back(CaseView{std::string(case_id), *summary});
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  return cases;
}

Result<std::optional<engine::CaseSummary>> RocksProjectionStore::find_case(
    std::string_view case_id) const {
  // A query may carry any text (a CLI argument, a URL); an id that breaks
  // SPEC section 2 names no case.
  if (!events::is_valid_identifier(case_id)) return std::optional<engine::CaseSummary>();
  // One Get sees one batch boundary by itself (a WriteBatch is applied
  // atomically), so this read takes no snapshot: taking and releasing one
  // locks the DB mutex twice, a large share of a call that should take a
  // few microseconds (bench/micro: BM_FindCase).
  std::string value;
  const std::string key = case_key(case_id);
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handles_->handle_for(key), key, &value);
  if (s.IsNotFound()) return std::optional<engine::CaseSummary>();
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "reading the projection store"));
  auto summary = decode_summary(value);
  if (!summary) return std::unexpected(with_key_context("case", case_id, summary.error()));
  if (!summary->opened) return std::optional<engine::CaseSummary>();
  return std::optional<engine::CaseSummary>(*summary);
}

Result<std::vector<engine::RejectionRecord>> RocksProjectionStore::list_rejections() const {
  ReadSnapshot snapshot(*handles_);
  std::vector<engine::RejectionRecord> rejections;
  auto s = snapshot.scan(kRejectionsRange, [&](std::string_view key, std::string_view value) {
    auto record = decode_rejection(value);
    if (!record) return Status(std::unexpected(record.error()));
    // The key is derived from the record; a mismatch means the two were
    // written apart, and the listed order could not be trusted.
    if (rejection_key(record->case_id, record->partition, record->offset) != key) {
      return Status(make_error(
          ErrorCode::kCorruption,
          fmt::format("stored rejection at partition {} offset {} of case \"{}\" is filed "
                      "under another key",
                      record->partition.value(), record->offset.value(), record->case_id)));
    }
    rejections.push_back(std::move(*record));
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  return rejections;
}

Result<engine::ImpactReport> RocksProjectionStore::impact_report() const {
  ReadSnapshot snapshot(*handles_);
  engine::ImpactBuilder builder;
  auto s = snapshot.scan(kCasesRange, [&](std::string_view key, std::string_view value) {
    auto summary = decode_summary(value);
    if (!summary) {
      return Status(std::unexpected(with_key_context("case", key.substr(1), summary.error())));
    }
    builder.add_case(*summary);  // ignores cases that never opened
    return Status();
  });
  if (!s) return std::unexpected(s.error());

  // The number of `g` keys, one per distinct donor_ref of any applied
  // donation, kept with every commit (exact, and independent of the order
  // cases were projected in; the audit counts the keys against it).
  auto distinct_donors = snapshot.donor_count();
  if (!distinct_donors) return std::unexpected(distinct_donors.error());

  auto totals = snapshot.totals();
  if (!totals) return std::unexpected(totals.error());
  return std::move(builder).finish(*distinct_donors, *totals);
}

Status RocksProjectionStore::for_each_record(
    const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  ReadSnapshot snapshot(*handles_);
  return snapshot.scan("", [&](std::string_view key, std::string_view value) {
    visit(key, value);
    return Status();
  });
}

}  // namespace homeward::projections
