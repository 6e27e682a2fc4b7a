#include "projections/rocksdb_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <system_error>
#include <utility>

#include "events/check.h"
#include "events/identifier.h"
#include "projections/record_codec.h"
#include "projections/store_internal.h"

namespace homeward::projections {
namespace {

// The log is the truth and the store can be rebuilt from it, so the WAL is
// off (DESIGN decision 2); atomic_flush keeps each WriteBatch whole on disk.
rocksdb::WriteOptions write_options() {
  rocksdb::WriteOptions options;
  options.disableWAL = true;
  return options;
}

Status put(rocksdb::WriteBatch& batch, std::string_view key, std::string_view value) {
  rocksdb::Status s =
      batch.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "adding a record to the write batch"));
  return {};
}

// Adds one touched case: its summary and exactly the records its `dirty`
// sets name. Every dirty name must be in the ledger (an invariant of the
// rules, checked here because writing a half record would be worse).
Status add_case(rocksdb::WriteBatch& batch, const engine::CaseLedger& ledger) {
  if (!events::is_valid_identifier(ledger.case_id)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("case id \"{}\" is not a valid identifier", ledger.case_id));
  }
  const std::string& case_id = ledger.case_id;
  if (auto s = put(batch, case_key(case_id), encode_summary(ledger.summary)); !s) return s;

  for (const std::string& event_id : ledger.dirty.handled_events) {
    auto it = ledger.handled_events.find(event_id);
    HOMEWARD_CHECK(it != ledger.handled_events.end(), "a dirty event id is not in its ledger");
    if (auto s = put(batch, case_record_key(kHandledEventPrefix, case_id, event_id),
                     encode_fingerprint(it->second));
        !s)
      return s;
  }
  for (const std::string& donation_id : ledger.dirty.donations) {
    auto it = ledger.donations.find(donation_id);
    HOMEWARD_CHECK(it != ledger.donations.end(), "a dirty donation is not in its ledger");
    if (auto s = put(batch, case_record_key(kDonationPrefix, case_id, donation_id),
                     encode_donation(it->second));
        !s)
      return s;
  }
  for (const std::string& pledge_id : ledger.dirty.pledges) {
    auto it = ledger.pledges.find(pledge_id);
    HOMEWARD_CHECK(it != ledger.pledges.end(), "a dirty pledge is not in its ledger");
    if (auto s = put(batch, case_record_key(kPledgePrefix, case_id, pledge_id),
                     encode_pledge(it->second));
        !s)
      return s;
  }
  for (const std::string& donor_ref : ledger.dirty.donors) {
    HOMEWARD_CHECK(ledger.donors.contains(donor_ref), "a dirty donor is not in its ledger");
    if (auto s = put(batch, case_record_key(kCaseDonorPrefix, case_id, donor_ref), ""); !s)
      return s;
    // Rewriting a donor that another case already added is harmless: the key
    // set, and so the distinct count, stays the same.
    if (auto s = put(batch, global_donor_key(donor_ref), ""); !s) return s;
  }
  return {};
}

// Decodes one `prefix case_id \0 id` key's id, which must not be empty.
Result<std::string_view> record_id(std::string_view key, size_t prefix_size) {
  if (key.size() <= prefix_size) {
    return make_error(ErrorCode::kCorruption, "stored record key has an empty id");
  }
  return key.substr(prefix_size);
}

Error with_case(std::string_view case_id, Error error) {
  error.message = fmt::format("case {}: {}", case_id, error.message);
  return error;
}

}  // namespace

Error rocksdb_error(const rocksdb::Status& status, std::string_view context) {
  ErrorCode code = ErrorCode::kIo;
  if (status.IsCorruption()) {
    code = ErrorCode::kCorruption;
  } else if (is_lock_error(status)) {
    code = ErrorCode::kBusy;
  }
  return Error{code, fmt::format("{}: {}", context, status.ToString())};
}

bool is_lock_error(const rocksdb::Status& status) {
  // RocksDB reports a held LOCK as an IOError; only its text tells it from
  // other I/O errors ("While lock file: DIR/LOCK: Resource temporarily
  // unavailable" from another process, "lock hold by current process" from
  // this one).
  if (!status.IsIOError() && !status.IsBusy()) return false;
  const std::string text = status.ToString();
  return text.find("While lock file") != std::string::npos ||
         text.find("lock hold by current process") != std::string::npos ||
         text.find("lock held by current process") != std::string::npos;
}

Result<std::optional<std::string>> ReadSnapshot::get(std::string_view key) const {
  std::string value;
  rocksdb::Status s = db_.Get(options(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "reading the projection store"));
  return std::optional<std::string>(std::move(value));
}

Status ReadSnapshot::scan(
    std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& visit) const {
  rocksdb::ReadOptions read = options();
  std::string upper;
  rocksdb::Slice upper_slice;
  if (!prefix.empty()) {
    upper = prefix_upper_bound(prefix);
    upper_slice = rocksdb::Slice(upper);
    read.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_.NewIterator(read));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    const rocksdb::Slice value = it->value();
    if (auto s = visit(std::string_view(key.data(), key.size()),
                       std::string_view(value.data(), value.size()));
        !s)
      return s;
  }
  if (!it->status().ok()) {
    return std::unexpected(rocksdb_error(it->status(), "scanning the projection store"));
  }
  return {};
}

Result<engine::ProjectionTotals> ReadSnapshot::totals() const {
  auto value = get(kTotalsKey);
  if (!value) return std::unexpected(value.error());
  if (!*value) return engine::ProjectionTotals{};
  return decode_totals(**value);
}

RocksProjectionStore::RocksProjectionStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

RocksProjectionStore::~RocksProjectionStore() {
  // With the WAL off, only flushed memtables survive; flush and wait so that
  // a clean exit keeps every committed batch. A destructor cannot return an
  // error, so a failure is reported on stderr (the next run then resumes from
  // an earlier batch boundary, which is safe, only slower).
  rocksdb::FlushOptions flush;
  flush.wait = true;
  rocksdb::Status s = db_->Flush(flush);
  if (!s.ok()) {
    std::fprintf(stderr, "homeward: flushing the projection store failed: %s\n",
                 s.ToString().c_str());
  }
  s = db_->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "homeward: closing the projection store failed: %s\n",
                 s.ToString().c_str());
  }
}

Result<std::unique_ptr<RocksProjectionStore>> RocksProjectionStore::open(
    const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot create the projection store directory {}: {}",
                                  dir.string(), ec.message()));
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  options.atomic_flush = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir.string(), &raw);
  if (!s.ok()) {
    if (is_lock_error(s)) {
      return make_error(ErrorCode::kBusy,
                        fmt::format("the projection store in {} is in use by another homeward "
                                    "process ({})",
                                    dir.string(), s.ToString()));
    }
    return std::unexpected(
        rocksdb_error(s, fmt::format("opening the projection store in {}", dir.string())));
  }
  std::unique_ptr<rocksdb::DB> db(raw);

  std::optional<std::string> format;
  bool empty = true;
  {
    ReadSnapshot snapshot(*db);
    auto value = snapshot.get(kFormatKey);
    if (!value) return std::unexpected(value.error());
    format = std::move(*value);
    if (!format) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(snapshot.options()));
      it->SeekToFirst();
      empty = !it->Valid();
      if (!it->status().ok()) {
        return std::unexpected(rocksdb_error(
            it->status(), fmt::format("reading the projection store in {}", dir.string())));
      }
    }
  }

  if (format) {
    auto version = decode_format_version(*format);
    if (!version) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("the projection store in {}: {}; run `homeward project "
                                    "--rebuild`",
                                    dir.string(), version.error().message));
    }
    if (*version != kStoreFormatVersion) {
      return make_error(ErrorCode::kCorruption,
                        fmt::format("the projection store in {}: store format {} is not "
                                    "supported (this homeward reads format {}); run `homeward "
                                    "project --rebuild`",
                                    dir.string(), *version, kStoreFormatVersion));
    }
  } else if (!empty) {
    // Records without a format record: not a store this code wrote.
    return make_error(ErrorCode::kCorruption,
                      fmt::format("the projection store in {} has no format record; run "
                                  "`homeward project --rebuild`",
                                  dir.string()));
  } else {
    const std::string value = encode_format_version(kStoreFormatVersion);
    s = db->Put(write_options(), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), value);
    if (!s.ok()) {
      return std::unexpected(
          rocksdb_error(s, fmt::format("creating the projection store in {}", dir.string())));
    }
  }
  return std::unique_ptr<RocksProjectionStore>(new RocksProjectionStore(std::move(db)));
}

Status RocksProjectionStore::destroy(const std::filesystem::path& dir) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot inspect {}: {}", dir.string(), ec.message()));
  }
  if (!exists) return {};
  // A wrong --data path must never cost someone a directory: only a RocksDB
  // database (it has CURRENT) or an empty directory is removed.
  const bool is_db = std::filesystem::exists(dir / "CURRENT", ec);
  const bool is_empty = !is_db && std::filesystem::is_empty(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot inspect {}: {}", dir.string(), ec.message()));
  }
  if (!is_db && !is_empty) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{} does not look like a projection store; not deleting it", dir.string()));
  }
  if (is_db) {
    rocksdb::Status s = rocksdb::DestroyDB(dir.string(), rocksdb::Options());
    if (!s.ok()) {
      if (is_lock_error(s)) {
        return make_error(ErrorCode::kBusy,
                          fmt::format("the projection store in {} is in use by another homeward "
                                      "process ({})",
                                      dir.string(), s.ToString()));
      }
      return std::unexpected(
          rocksdb_error(s, fmt::format("deleting the projection store in {}", dir.string())));
    }
  }
  std::filesystem::remove_all(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot remove {}: {}", dir.string(), ec.message()));
  }
  return {};
}

Result<engine::Checkpoints> RocksProjectionStore::load_checkpoints() {
  ReadSnapshot snapshot(*db_);
  engine::Checkpoints checkpoints;
  auto s = snapshot.scan(kCheckpointPrefix, [&](std::string_view key, std::string_view value) {
    auto partition = checkpoint_partition(key);
    if (!partition) return Status(std::unexpected(partition.error()));
    auto checkpoint = decode_checkpoint(value);
    if (!checkpoint) return Status(std::unexpected(checkpoint.error()));
    checkpoints.emplace(*partition, *checkpoint);
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  return checkpoints;
}

Result<engine::ProjectionTotals> RocksProjectionStore::load_totals() {
  ReadSnapshot snapshot(*db_);
  return snapshot.totals();
}

Result<std::optional<engine::CaseLedger>> RocksProjectionStore::load_case(
    std::string_view case_id) {
  // No stored case has an id that breaks SPEC section 2 (commit refuses it).
  if (!events::is_valid_identifier(case_id)) return std::optional<engine::CaseLedger>();
  ReadSnapshot snapshot(*db_);
  auto summary_bytes = snapshot.get(case_key(case_id));
  if (!summary_bytes) return std::unexpected(summary_bytes.error());
  if (!*summary_bytes) return std::optional<engine::CaseLedger>();

  engine::CaseLedger ledger;
  ledger.case_id = std::string(case_id);
  auto summary = decode_summary(**summary_bytes);
  if (!summary) return std::unexpected(with_case(case_id, summary.error()));
  ledger.summary = *summary;

  // Each kind of record is one contiguous range `prefix case_id \0 ...`.
  auto scan_records = [&](char prefix, auto&& add) -> Status {
    const std::string range = case_records_prefix(prefix, case_id);
    return snapshot.scan(range, [&](std::string_view key, std::string_view value) -> Status {
      auto id = record_id(key, range.size());
      if (!id) return std::unexpected(with_case(case_id, id.error()));
      return add(std::string(*id), value);
    });
  };

  Status s = scan_records(kHandledEventPrefix, [&](std::string id, std::string_view value) {
    auto fingerprint = decode_fingerprint(value);
    if (!fingerprint) return Status(std::unexpected(with_case(case_id, fingerprint.error())));
    ledger.handled_events.emplace(std::move(id), *fingerprint);
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  s = scan_records(kDonationPrefix, [&](std::string id, std::string_view value) {
    auto donation = decode_donation(value);
    if (!donation) return Status(std::unexpected(with_case(case_id, donation.error())));
    ledger.donations.emplace(std::move(id), std::move(*donation));
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  s = scan_records(kPledgePrefix, [&](std::string id, std::string_view value) {
    auto pledge = decode_pledge(value);
    if (!pledge) return Status(std::unexpected(with_case(case_id, pledge.error())));
    ledger.pledges.emplace(std::move(id), std::move(*pledge));
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  s = scan_records(kCaseDonorPrefix, [&](std::string id, std::string_view value) {
    if (!value.empty()) {
      return Status(make_error(ErrorCode::kCorruption,
                               fmt::format("case {}: stored donor record has {} value bytes, "
                                           "not 0",
                                           case_id, value.size())));
    }
    ledger.donors.insert(std::move(id));
    return Status();
  });
  if (!s) return std::unexpected(s.error());
  return std::optional<engine::CaseLedger>(std::move(ledger));
}

Status RocksProjectionStore::commit(const engine::BatchCommit& batch) {
  rocksdb::WriteBatch write;
  for (const engine::CaseLedger* ledger : batch.cases) {
    HOMEWARD_CHECK(ledger != nullptr, "a BatchCommit names a null case");
    if (auto s = add_case(write, *ledger); !s) return s;
  }
  for (const engine::RejectionRecord& rejection : batch.rejections) {
    // Malformed records may not reveal their case: they are kept under the
    // empty case id, which sorts first.
    if (!rejection.case_id.empty() && !events::is_valid_identifier(rejection.case_id)) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("rejection at partition {} offset {}: case id \"{}\" is not "
                      "a valid identifier",
                      rejection.partition.value(), rejection.offset.value(), rejection.case_id));
    }
    if (auto s = put(write, rejection_key(rejection.case_id, rejection.partition, rejection.offset),
                     encode_rejection(rejection));
        !s)
      return s;
  }
  if (auto s = put(write, kTotalsKey, encode_totals(batch.totals)); !s) return s;
  for (const auto& [partition, checkpoint] : batch.checkpoints) {
    if (auto s = put(write, checkpoint_key(partition), encode_checkpoint(checkpoint)); !s) return s;
  }
  rocksdb::Status s = db_->Write(write_options(), &write);
  if (!s.ok())
    return std::unexpected(rocksdb_error(s, "committing a batch to the projection store"));
  return {};
}

}  // namespace homeward::projections
