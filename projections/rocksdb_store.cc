#include "projections/rocksdb_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <stdio.h>  // renameat2
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/id_table.h"
#include "engine/scratch_dir.h"
#include "engine/writer_lock.h"
#include "events/check.h"
#include "events/identifier.h"
#include "projections/case_history.h"
#include "projections/record_codec.h"
#include "projections/rocksdb_info_log.h"
#include "projections/store_internal.h"
#include "projections/store_writer.h"

namespace homeward::projections {

// The case ids this store has been given, when it was empty at open (a new
// store, a rebuild): load_case of any other id is then answered without
// reading, so that a replay into an empty store skips a lookup for each of
// its cases. A case counts from the commit that hands it over, written or
// not: for an id in the set load_case reads, which is always right.
// Heterogeneous lookup, so that a view needs no copy. Used by the committing
// thread only.
struct WrittenKeys {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  bool knows_every_case = false;
  std::unordered_set<std::string, Hash, std::equal_to<>> cases;
};

// The set behind SPEC section 6's donor count: a `g` key per distinct
// donor_ref of an applied donation in any case, and the number of those keys
// in m/donors, written with every commit, so that the impact report reads one
// number instead of scanning a key per donor (a million at 10M events).
//
// `known_` holds every donor whose key is in the store or in a commit handed
// to the writer since open; a donor not in it is looked up in the store,
// which is exact because no pending commit can hold its key. A store empty at
// open needs no lookup. After a failed write the writer drops every pending
// commit, so the set and the count are dropped too and read again. Used by
// the committing thread only.
class GlobalDonors {
 public:
  explicit GlobalDonors(bool store_was_empty) : store_was_empty_(store_was_empty) {}

  // For a donor whose first applied donation in some case is in the commit
  // being encoded: true when it is the first in any case (the commit then
  // puts its key, and the count grows). `store` is read only for donors the
  // set does not know.
  Result<bool> note_giver(const ReadSnapshot& store, std::string_view donor_ref) {
    if (known_.find(donor_ref)) return false;
    if (!store_was_empty_) {
      auto stored = store.get(global_donor_key(donor_ref));
      if (!stored) return std::unexpected(stored.error());
      if (stored->has_value()) {
        if (auto added = known_.insert(donor_ref); !added) return full(added.error());
        return false;
      }
    }
    auto count = this->count(store);
    if (!count) return std::unexpected(count.error());
    if (auto added = known_.insert(donor_ref); !added) return full(added.error());
    count_ = *count + 1;
    return true;
  }

  // The count as of the commits handed to the writer.
  Result<int64_t> count(const ReadSnapshot& store) {
    if (!count_) {
      auto stored = store.donor_count();
      if (!stored) return std::unexpected(stored.error());
      count_ = *stored;
    }
    return *count_;
  }

  // A hint, a commit ahead of note_giver: the set holds a million donors at
  // 10M events, and most of a replay's lookups in it missed the cache.
  void prefetch(std::string_view donor_ref) const { known_.prefetch(donor_ref); }

  static std::unexpected<Error> full(const Error& error) {
    return std::unexpected(Error{
        error.code, fmt::format("the set of donors across cases cannot grow: {}", error.message)});
  }

  void forget() {
    store_was_empty_ = false;
    known_ = engine::IdTable();
    count_.reset();
  }

 private:
  bool store_was_empty_;
  engine::IdTable known_;
  std::optional<int64_t> count_;
};

namespace {

constexpr size_t kWriteBufferBytes = 128 << 20;
constexpr size_t kBlockCacheBytes = 64 << 20;
// Files a bulk family holds before universal compaction merges some: more
// than a replay of 10M events ingests (about 35 per family, one per spill of
// kSpillBytes and two per drain). At 32 a 10M-event replay spent a quarter of
// its CPU compacting (bench/README.md).
constexpr int kBulkCompactionTrigger = 64;

// Where the StoreWriter builds its SST files, inside the store's directory so
// that RocksDB can link them in rather than copy them.
std::filesystem::path commit_file_dir(const std::filesystem::path& store_dir) {
  return store_dir / "commit-files";
}

std::string_view view(const auto& bytes) { return {bytes.data(), bytes.size()}; }

constexpr std::string_view kSeparator("\0", 1);

// Adds one touched case: its summary, its new history events, and the donor
// index entries of its new donors (its new givers are the caller's, who puts
// a global donor key for the first giver of each donor_ref). Its donations,
// pledges and handled ids are not records of their own: they are the fold of
// its history. Keys are built in place: a commit of a replay adds one history
// record per event.
Status add_case(EncodedBatch& batch, engine::CaseLedger& ledger) {
  if (!events::is_valid_identifier(ledger.case_id)) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("case id \"{}\" is not a valid identifier", ledger.case_id));
  }
  const std::string_view case_id = ledger.case_id;
  engine::DirtyRecords& dirty = ledger.dirty;
  batch.put_filled({std::string_view(&kCasePrefix, 1), case_id},
                   [&ledger](std::string& out) { append_summary(ledger.summary, out); });
  int64_t sequence = ledger.history_events - static_cast<int64_t>(dirty.history.size());
  HOMEWARD_CHECK(sequence >= 0, "a case has more new history events than events");
  for (engine::HistoryEvent& event : dirty.history) {
    const auto suffix = history_key_suffix(sequence++, event.partition, event.offset);
    // The bytes are taken, not copied (BatchCommit::cases).
    batch.put_owned({std::string_view(&kHistoryPrefix, 1), case_id, kSeparator, view(suffix)},
                    std::move(event.bytes));
  }
  // Every donor of an applied donation or pledge leads to the case (a
  // pledge's donor may never give: the index must still lead here).
  for (const uint32_t donor : dirty.new_donors) {
    batch.put_parts(
        {std::string_view(&kDonorCasePrefix, 1), ledger.donor_ref(donor), kSeparator, case_id}, {});
  }
  return {};
}

Error with_case(std::string_view case_id, Error error) {
  error.message = fmt::format("case {}: {}", case_id, error.message);
  return error;
}

}  // namespace

Error rocksdb_error(const rocksdb::Status& status, std::string_view context) {
  ErrorCode code = ErrorCode::kIo;
  if (status.IsCorruption()) code = ErrorCode::kCorruption;
  if (status.IsNoSpace()) code = ErrorCode::kNoSpace;
  return Error{code, fmt::format("{}: {}", context, status.ToString())};
}

Family family_of(std::string_view key) {
  if (key.empty()) return Family::kDefault;
  switch (key[0]) {
    case kCasePrefix:
      return Family::kCases;
    case kHistoryPrefix:
      return Family::kHistory;
    default:
      return Family::kDefault;
  }
}

StoreIterator::StoreIterator(const StoreDb& db, rocksdb::ReadOptions read, std::string_view prefix,
                             std::string_view start) {
  HOMEWARD_CHECK(start.starts_with(prefix) || start.empty(),
                 "a store iterator's start key lies outside its prefix");
  if (start.empty()) start = prefix;
  if (!prefix.empty()) {
    upper_ = prefix_upper_bound(prefix);
    upper_slice_ = rocksdb::Slice(upper_);
    read.iterate_upper_bound = &upper_slice_;
    iterators_.emplace_back(db.db->NewIterator(read, db.handle_for(prefix)));
  } else {
    for (rocksdb::ColumnFamilyHandle* family : db.families) {
      iterators_.emplace_back(db.db->NewIterator(read, family));
    }
  }
  for (auto& it : iterators_) it->Seek(rocksdb::Slice(start.data(), start.size()));
  pick();
}

void StoreIterator::pick() {
  // The families hold disjoint keys: the smallest current key is the next.
  current_ = nullptr;
  for (auto& it : iterators_) {
    if (!it->Valid()) continue;
    if (current_ == nullptr || it->key().compare(current_->key()) < 0) current_ = it.get();
  }
}

std::string_view StoreIterator::key() const {
  const rocksdb::Slice k = current_->key();
  return {k.data(), k.size()};
}

std::string_view StoreIterator::value() const {
  const rocksdb::Slice v = current_->value();
  return {v.data(), v.size()};
}

void StoreIterator::next() {
  current_->Next();
  pick();
}

Status StoreIterator::status() const {
  for (const auto& it : iterators_) {
    if (!it->status().ok()) {
      return std::unexpected(rocksdb_error(it->status(), "scanning the projection store"));
    }
  }
  return {};
}

Result<std::optional<std::string>> ReadSnapshot::get(std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_.db->Get(options(), db_.handle_for(key), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "reading the projection store"));
  return std::optional<std::string>(std::move(value));
}

Status ReadSnapshot::scan(
    std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& visit) const {
  StoreIterator it(db_, options(), prefix);
  for (; it.valid(); it.next()) {
    if (auto s = visit(it.key(), it.value()); !s) return s;
  }
  return it.status();
}

Result<engine::ProjectionTotals> ReadSnapshot::totals() const {
  auto value = get(kTotalsKey);
  if (!value) return std::unexpected(value.error());
  if (!*value) return engine::ProjectionTotals{};
  return decode_totals(**value);
}

Result<int64_t> ReadSnapshot::donor_count() const {
  auto value = get(kDonorCountKey);
  if (!value) return std::unexpected(value.error());
  if (!*value) return int64_t{0};
  return decode_donor_count(**value);
}

RocksProjectionStore::RocksProjectionStore(std::unique_ptr<rocksdb::DB> db,
                                           std::unique_ptr<StoreDb> handles)
    : db_(std::move(db)),
      handles_(std::move(handles)),
      written_(std::make_unique<WrittenKeys>()),
      donors_(std::make_unique<GlobalDonors>(false)) {}

RocksProjectionStore::~RocksProjectionStore() {
  const std::vector<rocksdb::ColumnFamilyHandle*> families(handles_->families.begin(),
                                                           handles_->families.end());
  rocksdb::Status s;
  if (writer_ != nullptr) {
    if (auto written = wait_for_commits(); !written) {
      std::fprintf(stderr, "homeward: %s\n", written.error().message.c_str());
    }
    writer_.reset();  // its thread must end before the database closes
    // The WAL is not synced; flush and wait so that a clean exit keeps every
    // committed batch on disk and the next open has no WAL to replay. A
    // destructor cannot return an error, so a failure is reported on stderr
    // (the next run then resumes from an earlier batch boundary, which is
    // safe, only slower).
    rocksdb::FlushOptions flush;
    flush.wait = true;
    s = db_->Flush(flush, families);
    if (!s.ok()) {
      std::fprintf(stderr, "homeward: flushing the projection store failed: %s\n",
                   s.ToString().c_str());
    }
  }
  for (rocksdb::ColumnFamilyHandle* family : families) {
    s = db_->DestroyColumnFamilyHandle(family);
    if (!s.ok()) {
      std::fprintf(stderr, "homeward: releasing a column family of the projection store: %s\n",
                   s.ToString().c_str());
    }
  }
  s = db_->Close();
  if (!s.ok()) {
    std::fprintf(stderr, "homeward: closing the projection store failed: %s\n",
                 s.ToString().c_str());
  }
}

namespace {

// Options of each column family (store_internal.h says what each holds).
rocksdb::ColumnFamilyOptions family_options(Family family,
                                            const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  // Most of a replay is ingested as files (store_writer.h); the memtables
  // take the small remainders of drains, and larger ones flush less often.
  options.write_buffer_size = kWriteBufferBytes;
  options.max_write_buffer_number = 2;
  // Until files are compacted, a point read would look in each of them: a
  // Bloom filter per file lets it skip the files that lack the key. The
  // block cache (64 MiB, shared) keeps the summaries of 100k cases in memory
  // once read.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = cache;
  switch (family) {
    case Family::kCases:
      // Small (a few hundred bytes per case) and read by dashboards one case
      // at a time: leveled compaction keeps it in few files, so that one
      // case's figures are a Bloom filter probe and a cached block.
      break;
    case Family::kHistory:
    case Family::kDefault:
      // Written in bulk: every file a replay ingests spans the whole key
      // space, and leveled compaction rewrote all of it each time a few more
      // files arrived (at 10M events a third of the replay's CPU). Universal
      // compaction merges only files of similar size, and not before there
      // are many; their readers scan one case's or one donor's keys, for
      // which a few dozen files cost little.
      options.compaction_style = rocksdb::kCompactionStyleUniversal;
      options.level0_file_num_compaction_trigger = kBulkCompactionTrigger;
      options.level0_slowdown_writes_trigger = 4 * kBulkCompactionTrigger;
      options.level0_stop_writes_trigger = 8 * kBulkCompactionTrigger;
      break;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

namespace {

// What a store's directory holds before it is opened.
struct OpenedDb {
  std::unique_ptr<rocksdb::DB> db;
  std::unique_ptr<StoreDb> handles;
};

// Releases the family handles before the database closes, on an early return
// (once the store owns them, its destructor does).
struct ReleaseHandles {
  StoreDb* handles;
  ~ReleaseHandles() {
    if (handles == nullptr) return;
    for (rocksdb::ColumnFamilyHandle* family : handles->families) {
      (void)handles->db->DestroyColumnFamilyHandle(family);
    }
  }
};

Result<OpenedDb> open_database(const std::filesystem::path& dir,
                               const std::filesystem::path* secondary_dir) {
  rocksdb::DBOptions options;
  options.create_if_missing = secondary_dir == nullptr;
  options.create_missing_column_families = secondary_dir == nullptr;
  // No LOG file: its writer aborts the process on a full disk (rocksdb_info_log.h).
  use_homeward_info_log(options);
  // atomic_flush keeps the families consistent with each other on disk, so
  // that a crash leaves all of them at one commit boundary.
  options.atomic_flush = true;
  // A secondary instance must keep every file open (RocksDB requires it),
  // so that the writer's compactions cannot pull a file from under it.
  if (secondary_dir != nullptr) options.max_open_files = -1;
  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (size_t i = 0; i < kFamilyCount; ++i) {
    descriptors.emplace_back(kFamilyNames[i], family_options(static_cast<Family>(i), cache));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s =
      secondary_dir == nullptr
          ? rocksdb::DB::Open(options, dir.string(), descriptors, &opened, &raw)
          : rocksdb::DB::OpenAsSecondary(options, dir.string(), secondary_dir->string(),
                                         descriptors, &opened, &raw);
  if (!s.ok()) {
    return std::unexpected(
        rocksdb_error(s, fmt::format("opening the projection store in {}", dir.string())));
  }
  OpenedDb result{std::unique_ptr<rocksdb::DB>(raw), std::make_unique<StoreDb>()};
  HOMEWARD_CHECK(opened.size() == kFamilyCount, "RocksDB opened another number of families");
  result.handles->db = raw;
  result.handles->secondary = secondary_dir != nullptr;
  for (size_t i = 0; i < kFamilyCount; ++i) result.handles->families[i] = opened[i];
  return result;
}

// The store's format record, and whether the store holds no record at all.
struct StoredFormat {
  std::optional<std::string> format;
  bool empty = true;
};

Result<StoredFormat> read_format(const StoreDb& handles, const std::filesystem::path& dir) {
  StoredFormat stored;
  ReadSnapshot snapshot(handles);
  auto value = snapshot.get(kFormatKey);
  if (!value) return std::unexpected(value.error());
  stored.format = std::move(*value);
  stored.empty = false;
  if (!stored.format) {
    StoreIterator it(handles, snapshot.options(), "");
    stored.empty = !it.valid();
    if (auto status = it.status(); !status) {
      return std::unexpected(
          Error{status.error().code, fmt::format("reading the projection store in {}: {}",
                                                 dir.string(), status.error().message)});
    }
  }
  return stored;
}

Status check_format(const StoredFormat& stored, const std::filesystem::path& dir) {
  if (!stored.format) {
    if (stored.empty) return {};
    // Records without a format record: not a store this code wrote.
    return make_error(ErrorCode::kCorruption,
                      fmt::format("the projection store in {} has no format record; run "
                                  "`homeward project --rebuild`",
                                  dir.string()));
  }
  auto version = decode_format_version(*stored.format);
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
  return {};
}

Error in_store(Error error, const std::filesystem::path& dir) {
  error.message = fmt::format("the projection store in {}: {}", dir.string(), error.message);
  return error;
}

}  // namespace

Result<std::unique_ptr<RocksProjectionStore>> RocksProjectionStore::open(
    const std::filesystem::path& dir, std::string_view holder) {
  // The lock first: a second writer must not even replay the store's WAL.
  auto lock = engine::WriterLock::acquire(dir, holder);
  if (!lock) return std::unexpected(std::move(lock.error()));  // it names the directory
  std::error_code exists_ec;
  const bool creating = !std::filesystem::exists(dir / "CURRENT", exists_ec);
  auto opened = open_database(dir, nullptr);
  if (!opened) {
    // RocksDB creates a store in steps (CURRENT, then each column family): a
    // creation that failed half way (a full disk) would leave a store that no
    // reader can open. What it made is taken back, so that the directory
    // holds no store again (only this writer's lock) and readers answer as
    // without projections.
    if (creating) {
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().filename() == engine::kWriterLockFileName) continue;
        std::filesystem::remove_all(entry.path(), ec);
      }
    }
    return std::unexpected(opened.error());
  }
  ReleaseHandles release{opened->handles.get()};

  auto stored = read_format(*opened->handles, dir);
  if (!stored) return std::unexpected(stored.error());
  if (auto checked = check_format(*stored, dir); !checked) return std::unexpected(checked.error());
  if (!stored->format) {
    const std::string value = encode_format_version(kStoreFormatVersion);
    const rocksdb::Status s =
        opened->db->Put(store_write_options(), opened->handles->handle_for(kFormatKey),
                        rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), value);
    if (!s.ok()) {
      return std::unexpected(
          rocksdb_error(s, fmt::format("creating the projection store in {}", dir.string())));
    }
  }
  // Commit files a crash left behind were never ingested: their commits are
  // not in the store, and the projector will make them again.
  std::error_code ec;
  const std::filesystem::path commit_files = commit_file_dir(dir);
  std::filesystem::remove_all(commit_files, ec);
  if (!ec) std::filesystem::create_directories(commit_files, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot prepare {}: {}", commit_files.string(), ec.message()));
  }
  release.handles = nullptr;  // the store owns them now
  std::unique_ptr<RocksProjectionStore> store(
      new RocksProjectionStore(std::move(opened->db), std::move(opened->handles)));
  const bool was_empty = !stored->format && stored->empty;
  store->written_->knows_every_case = was_empty;
  store->donors_ = std::make_unique<GlobalDonors>(was_empty);
  store->writer_ = std::make_unique<StoreWriter>(*store->handles_, commit_file_dir(dir));
  store->lock_ = std::move(*lock);
  return store;
}

Result<std::unique_ptr<RocksProjectionStore>> RocksProjectionStore::open_reader(
    const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "CURRENT", ec)) {
    return make_error(ErrorCode::kNotFound,
                      fmt::format("there is no projection store in {}", dir.string()));
  }
  auto scratch = engine::ScratchDir::create("store-reader");
  if (!scratch) return std::unexpected(scratch.error());
  const std::filesystem::path secondary = (*scratch)->path();
  auto opened = open_database(dir, &secondary);
  if (!opened) return std::unexpected(opened.error());
  ReleaseHandles release{opened->handles.get()};
  auto stored = read_format(*opened->handles, dir);
  if (!stored) return std::unexpected(stored.error());
  if (auto checked = check_format(*stored, dir); !checked) return std::unexpected(checked.error());
  release.handles = nullptr;
  std::unique_ptr<RocksProjectionStore> store(
      new RocksProjectionStore(std::move(opened->db), std::move(opened->handles)));
  store->secondary_dir_ = std::move(*scratch);
  return store;
}

Status RocksProjectionStore::catch_up_with_writer() {
  if (!is_reader()) return {};
  const rocksdb::Status s = db_->TryCatchUpWithPrimary();
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "catching up with the store's writer"));
  return {};
}

Status RocksProjectionStore::verify_checksums() const {
  const rocksdb::Status s = db_->VerifyChecksum();
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "verifying the checksums of its files"));
  return {};
}

Result<std::optional<std::string>> RocksProjectionStore::bound_log() const {
  ReadSnapshot snapshot(*handles_);
  return snapshot.get(kSourceKey);
}

Status RocksProjectionStore::bind_to_log(std::string_view identity) {
  HOMEWARD_CHECK(!identity.empty(), "a log identity is empty");
  auto bound = bound_log();
  if (!bound) return std::unexpected(bound.error());
  if (*bound) {
    if (**bound == identity) return {};
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("these projections were built from {}, not from {}: their "
                                  "figures would mix two ledgers. Use the --data directory "
                                  "(or --kafka/--topic) of that log, or rebuild them from this "
                                  "one with `homeward project --rebuild`",
                                  **bound, identity));
  }
  if (is_reader()) {
    return make_error(ErrorCode::kInternal,
                      "a projection store opened for reading cannot be bound");
  }
  // A store holding records that predate binding (an older homeward) may
  // have been built from any log: it is bound on its next write, as its
  // figures were always meant for the log it is used with.
  if (auto drained = wait_for_commits(); !drained) return drained;
  const rocksdb::Status s = db_->Put(store_write_options(), handles_->handle_for(kSourceKey),
                                     rocksdb::Slice(kSourceKey.data(), kSourceKey.size()),
                                     rocksdb::Slice(identity.data(), identity.size()));
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "recording the store's log"));
  return {};
}

namespace {

// Directory removal that no other process can watch half done: the store is
// first renamed out of the way (one atomic step), then deleted.
Status remove_store_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::path doomed = dir;
  doomed += fmt::format(".deleting-{}", ::getpid());
  std::filesystem::rename(dir, doomed, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot move {} out of the way: {}", dir.string(), ec.message()));
  }
  // DestroyDB opens an info log too unless it is given one.
  rocksdb::Options destroy_options;
  use_homeward_info_log(destroy_options);
  const rocksdb::Status s = rocksdb::DestroyDB(doomed.string(), destroy_options);
  if (!s.ok()) {
    return std::unexpected(
        rocksdb_error(s, fmt::format("deleting the projection store in {}", doomed.string())));
  }
  std::filesystem::remove_all(doomed, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot remove {}: {}", doomed.string(), ec.message()));
  }
  return {};
}

}  // namespace

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
  const bool is_empty =
      !is_db && (std::filesystem::is_empty(dir, ec) || engine::holds_only_writer_lock(dir));
  if (ec) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot inspect {}: {}", dir.string(), ec.message()));
  }
  if (!is_db && !is_empty) {
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{} does not look like a projection store; not deleting it", dir.string()));
  }
  // Never while a writer has it; the lock goes with the directory.
  auto lock = engine::WriterLock::acquire(dir, "homeward: deleting the store");
  if (!lock) return std::unexpected(in_store(std::move(lock.error()), dir));
  return remove_store_dir(dir);
}

Status RocksProjectionStore::swap_in(const std::filesystem::path& built,
                                     const std::filesystem::path& live,
                                     std::unique_ptr<engine::WriterLock> live_lock) {
  HOMEWARD_CHECK(live_lock != nullptr && live_lock->dir() == live,
                 "swap_in needs the writer lock of the live store");
  std::error_code ec;
  if (!std::filesystem::exists(live, ec)) {
    std::filesystem::rename(built, live, ec);
    if (ec) {
      return make_error(ErrorCode::kIo, fmt::format("cannot move {} to {}: {}", built.string(),
                                                    live.string(), ec.message()));
    }
    return {};
  }
  // One atomic step: a reader opening `live` finds the old store or the new
  // one, never none and never half of one.
  if (::renameat2(AT_FDCWD, built.c_str(), AT_FDCWD, live.c_str(), RENAME_EXCHANGE) != 0) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot exchange {} and {}: {}", built.string(), live.string(),
                                  std::error_code(errno, std::generic_category()).message()));
  }
  // The old store is now at `built`; the lock held on it ends with this
  // process's use of it.
  live_lock.reset();
  return destroy(built);
}

Result<engine::Checkpoints> RocksProjectionStore::load_checkpoints() {
  if (auto written = wait_for_commits(); !written) return std::unexpected(written.error());
  ReadSnapshot snapshot(*handles_);
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
  if (auto written = wait_for_commits(); !written) return std::unexpected(written.error());
  ReadSnapshot snapshot(*handles_);
  return snapshot.totals();
}

Result<std::optional<engine::CaseLedger>> RocksProjectionStore::load_case(
    std::string_view case_id) {
  // Before waiting for the writer: in a replay into an empty store every
  // case is new, and nothing needs to be written before it is looked up.
  if (written_->knows_every_case && !written_->cases.contains(case_id)) {
    return std::optional<engine::CaseLedger>();
  }
  if (auto written = wait_for_commits(); !written) return std::unexpected(written.error());
  // No stored case has an id that breaks SPEC section 2 (commit refuses it).
  if (!events::is_valid_identifier(case_id)) return std::optional<engine::CaseLedger>();
  ReadSnapshot snapshot(*handles_);
  auto summary_bytes = snapshot.get(case_key(case_id));
  if (!summary_bytes) return std::unexpected(summary_bytes.error());
  if (!*summary_bytes) return std::optional<engine::CaseLedger>();

  auto summary = decode_summary(**summary_bytes);
  if (!summary) return std::unexpected(with_case(case_id, summary.error()));

  // The case's donations, pledges and handled ids are the fold of its
  // history, with the same rules that produced the stored summary; the two
  // must agree, or the store was damaged (or written by other rules).
  std::optional<engine::CaseLedger> ledger;
  HistoryFoldVisitor visitor;
  visitor.on_case = [&](engine::CaseLedger& folded) -> Status {
    ledger = std::move(folded);
    return {};
  };
  if (auto s = fold_histories(*this, HistoryFilter{case_id, std::nullopt}, visitor); !s) {
    return std::unexpected(s.error());
  }
  if (!ledger) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("case {}: the store has its summary but no history", case_id));
  }
  if (!(ledger->summary == *summary)) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("case {}: folding its stored history does not give its stored "
                                  "summary; rebuild the projections with `homeward project "
                                  "--rebuild`",
                                  case_id));
  }
  ledger->dirty.clear();
  return ledger;
}

Result<engine::ChainSegment> RocksProjectionStore::load_open_chain_segment(Partition partition,
                                                                           Offset next_offset) {
  engine::ChainSegment none{partition, next_offset, {}};
  if (next_offset.value() % engine::kChainWindowRecords == 0) return none;  // a new window
  if (auto written = wait_for_commits(); !written) return std::unexpected(written.error());
  // The last segment of the partition that starts before next_offset.
  const std::string last_key = chain_record_key(partition, Offset(next_offset.value() - 1));
  const std::string_view partition_prefix =
      std::string_view(last_key).substr(0, kChainIndexPrefix.size() + 4);
  ReadSnapshot snapshot(*handles_);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(snapshot.options(), handles_->handle_for(last_key)));
  it->SeekForPrev(last_key);
  if (!it->status().ok()) {
    return std::unexpected(rocksdb_error(it->status(), "reading the chain index"));
  }
  if (!it->Valid() || !it->key().starts_with(partition_prefix)) return none;
  const std::string_view key(it->key().data(), it->key().size());
  const std::string_view value(it->value().data(), it->value().size());
  auto first = chain_record_offset(key);
  if (!first) return std::unexpected(first.error());
  if (value.empty() || value.size() % engine::kChainHeadPrefixBytes != 0) {
    return make_error(ErrorCode::kCorruption,
                      fmt::format("the chain index segment of partition {} at offset {} has {} "
                                  "bytes, not a whole number of head prefixes",
                                  partition.value(), first->value(), value.size()));
  }
  engine::ChainSegment segment{partition, *first, std::string(value)};
  // Only a segment that the next record extends: same window, no gap.
  if (first->value() + segment.size() != next_offset.value() ||
      first->value() / engine::kChainWindowRecords !=
          (next_offset.value() - 1) / engine::kChainWindowRecords) {
    return none;
  }
  return segment;
}

Status RocksProjectionStore::commit_pipelined(const engine::BatchCommit& batch) {
  if (writer_ == nullptr) {
    return make_error(ErrorCode::kInternal,
                      "the projection store was opened for reading and cannot commit");
  }
  EncodedBatch write = writer_->take_batch();
  // Commits of one replay are alike in size: room for the last one's.
  write.reserve(last_commit_bytes_, last_commit_records_);
  // Checked before anything changes: a refused commit leaves no trace.
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
  }
  std::vector<std::string_view> givers;  // views into the ledgers, unchanged until we return
  for (engine::CaseLedger* ledger : batch.cases) {
    HOMEWARD_CHECK(ledger != nullptr, "a BatchCommit names a null case");
    if (auto s = add_case(write, *ledger); !s) return s;
    for (const uint32_t donor : ledger->dirty.new_givers) {
      HOMEWARD_CHECK(ledger->donor_gave(donor), "a dirty giver has no donation in its ledger");
      givers.push_back(ledger->donor_ref(donor));
    }
  }
  // A case's new givers are mostly donors of other cases already: their `g`
  // key is put only for the first. The set of known donors is large (a
  // million at 10M events), so its slots are asked into the cache a few
  // lookups ahead. One snapshot serves the commit's store lookups: a donor
  // the set does not know is in no pending commit, so any view of the
  // written store answers for it.
  const ReadSnapshot written(*handles_);
  constexpr size_t kPrefetchDistance = 16;
  for (size_t i = 0; i < givers.size(); ++i) {
    if (i + kPrefetchDistance < givers.size()) donors_->prefetch(givers[i + kPrefetchDistance]);
    auto first_anywhere = donors_->note_giver(written, givers[i]);
    if (!first_anywhere) {
      // The set already counts this commit's earlier givers, which no
      // write will put: read it again from the store.
      donors_->forget();
      return std::unexpected(first_anywhere.error());
    }
    if (*first_anywhere) write.put_parts({std::string_view(&kGlobalDonorPrefix, 1), givers[i]}, {});
  }
  for (const engine::RejectionRecord& rejection : batch.rejections) {
    write.put(rejection_key(rejection.case_id, rejection.partition, rejection.offset),
              encode_rejection(rejection));
  }
  write.put(kTotalsKey, encode_totals(batch.totals));
  auto donor_count = donors_->count(written);
  if (!donor_count) {
    donors_->forget();
    return std::unexpected(donor_count.error());
  }
  write.put(kDonorCountKey, encode_donor_count(*donor_count));
  for (const auto& [partition, checkpoint] : batch.checkpoints) {
    write.put(checkpoint_key(partition), encode_checkpoint(checkpoint));
  }
  for (const engine::ChainSegment& segment : batch.chain_segments) {
    HOMEWARD_CHECK(segment.size() > 0 && segment.size() <= engine::kChainWindowRecords &&
                       segment.head_prefixes.size() % engine::kChainHeadPrefixBytes == 0,
                   "a chain segment is empty, too long or holds a partial head prefix");
    write.put(chain_record_key(segment.partition, segment.first_offset), segment.head_prefixes);
  }
  if (written_->knows_every_case) {
    for (const engine::CaseLedger* ledger : batch.cases) written_->cases.insert(ledger->case_id);
  }
  last_commit_bytes_ = write.bytes();
  last_commit_records_ = write.records();
  Status submitted = writer_->submit(std::move(write));
  if (!submitted) donors_->forget();
  return submitted;
}

Status RocksProjectionStore::commit(const engine::BatchCommit& batch) {
  if (auto given = commit_pipelined(batch); !given) return given;
  return wait_for_commits();
}

Status RocksProjectionStore::wait_for_commits() {
  if (writer_ == nullptr) return {};  // a reader: nothing of its own to write
  Status drained = writer_->drain();
  if (!drained) donors_->forget();
  return drained;
}

namespace {

// RecordCursor over a StoreIterator that owns its snapshot.
class RocksRecordCursor final : public RecordCursor {
 public:
  RocksRecordCursor(const StoreDb& db, std::string_view prefix, std::string_view start)
      : db_(db),
        // A secondary instance has no snapshots: its view changes only when
        // it catches up with the writer, which is the caller's to call.
        snapshot_(db.secondary ? nullptr : db.db->GetSnapshot()),
        it_(std::in_place, db, read_options(snapshot_), prefix, start) {}
  ~RocksRecordCursor() override {
    it_.reset();  // before the snapshot it reads
    if (snapshot_ != nullptr) db_.db->ReleaseSnapshot(snapshot_);
  }
  RocksRecordCursor(const RocksRecordCursor&) = delete;
  RocksRecordCursor& operator=(const RocksRecordCursor&) = delete;

  bool valid() const override { return it_->valid(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  void next() override { it_->next(); }
  Status status() const override { return it_->status(); }

 private:
  static rocksdb::ReadOptions read_options(const rocksdb::Snapshot* snapshot) {
    rocksdb::ReadOptions read;
    read.snapshot = snapshot;
    // A cursor walks a whole range once: keep the block cache for hot data.
    read.fill_cache = false;
    return read;
  }

  const StoreDb& db_;
  const rocksdb::Snapshot* snapshot_;
  std::optional<StoreIterator> it_;
};

}  // namespace

std::unique_ptr<RecordCursor> RocksProjectionStore::open_cursor(std::string_view prefix,
                                                                std::string_view start) const {
  return std::make_unique<RocksRecordCursor>(*handles_, prefix, start);
}

}  // namespace homeward::projections
