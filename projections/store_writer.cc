#include "projections/store_writer.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <system_error>
#include <utility>

#include "events/check.h"
#include "projections/store_internal.h"

namespace homeward::projections {
namespace {

rocksdb::Slice slice(std::string_view text) { return {text.data(), text.size()}; }

// The first bytes of a key as big-endian integers, zero-padded: comparing
// them orders two keys as memcmp would, unless they are equal (then the keys
// share those bytes, or one is a zero-padded prefix of the other, and the
// whole keys decide). Keys of one kind of record share their first bytes
// (the prefix, "case-0..."), so comparing these four words first saves most
// of the memcmp calls that dominated the writer's sort: 32 bytes hold the
// whole of most keys (a history key of an 11-character case id is 25).
struct KeyPrefix {
  uint64_t words[4];
};

KeyPrefix key_prefix(std::string_view key) {
  KeyPrefix prefix{};
  for (size_t word = 0; word < 4; ++word) {
    uint64_t value = 0;
    for (size_t i = 0; i < 8; ++i) {
      const size_t at = word * 8 + i;
      const auto byte = at < key.size() ? static_cast<unsigned char>(key[at]) : 0U;
      value = (value << 8) | byte;
    }
    prefix.words[word] = value;
  }
  return prefix;
}

}  // namespace

// One held record. `sequence` is its place in the order the records were put,
// so that of two puts of one key the later one sorts later and is the one
// written (a WriteBatch's rule).
struct SortEntry {
  KeyPrefix prefix;
  const char* key;
  const char* value;
  uint32_t key_size;
  uint32_t value_size;
  uint64_t sequence;

  [[nodiscard]] std::string_view key_view() const { return {key, key_size}; }
  [[nodiscard]] std::string_view value_view() const { return {value, value_size}; }
};

namespace {

// Word by word: a defaulted comparison of the arrays compiled to a memcmp
// call per comparison, the very cost the prefix is there to avoid.
bool sorts_before(const SortEntry& a, const SortEntry& b) {
  for (size_t i = 0; i < 4; ++i) {
    if (a.prefix.words[i] != b.prefix.words[i]) return a.prefix.words[i] < b.prefix.words[i];
  }
  if (const int order = a.key_view().compare(b.key_view()); order != 0) return order < 0;
  return a.sequence < b.sequence;
}

bool same_key(const SortEntry& a, const SortEntry& b) {
  for (size_t i = 0; i < 4; ++i) {
    if (a.prefix.words[i] != b.prefix.words[i]) return false;
  }
  return a.key_view() == b.key_view();
}

}  // namespace

uint32_t EncodedBatch::checked_size(size_t size) {
  HOMEWARD_CHECK(size <= std::numeric_limits<uint32_t>::max(), "a store value over 4 GiB");
  return static_cast<uint32_t>(size);
}

uint32_t EncodedBatch::add_key(std::initializer_list<std::string_view> key) {
  size_t key_size = 0;
  for (const std::string_view part : key) key_size += part.size();
  HOMEWARD_CHECK(key_size <= std::numeric_limits<uint32_t>::max(), "a store key over 4 GiB");
  for (const std::string_view part : key) bytes_.append(part);
  return static_cast<uint32_t>(key_size);
}

void EncodedBatch::put_parts(std::initializer_list<std::string_view> key,
                             std::initializer_list<std::string_view> value) {
  const size_t offset = bytes_.size();
  const uint32_t key_size = add_key(key);
  size_t value_size = 0;
  for (const std::string_view part : value) value_size += part.size();
  HOMEWARD_CHECK(value_size <= std::numeric_limits<uint32_t>::max(), "a store value over 4 GiB");
  for (const std::string_view part : value) bytes_.append(part);
  entries_.push_back(Entry{offset, key_size, static_cast<uint32_t>(value_size), kInline});
}

void EncodedBatch::put_owned(std::initializer_list<std::string_view> key, std::string&& value) {
  HOMEWARD_CHECK(value.size() <= std::numeric_limits<uint32_t>::max() && owned_.size() < kInline,
                 "a store value over 4 GiB, or too many of them");
  const size_t offset = bytes_.size();
  const uint32_t key_size = add_key(key);
  owned_bytes_ += value.size();
  entries_.push_back(Entry{offset, key_size, static_cast<uint32_t>(value.size()),
                           static_cast<uint32_t>(owned_.size())});
  owned_.push_back(std::move(value));
}

StoreWriter::StoreWriter(const StoreDb& db, std::filesystem::path spill_dir)
    : db_(db), spill_dir_(std::move(spill_dir)) {
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error&) {
    // No thread to be had (resource limits): submit writes inline instead.
    // The library's exception ends here, at the module edge.
  }
}

StoreWriter::~StoreWriter() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  thread_.join();
}

EncodedBatch StoreWriter::take_batch() {
  std::lock_guard lock(mutex_);
  if (spare_.empty()) return {};
  EncodedBatch batch = std::move(spare_.back());
  spare_.pop_back();
  return batch;
}

Status StoreWriter::submit(EncodedBatch batch) {
  std::unique_lock lock(mutex_);
  if (error_) {
    Error error = std::move(*error_);
    error_.reset();
    return std::unexpected(std::move(error));
  }
  if (!thread_.joinable()) {
    lock.unlock();
    accept(std::move(batch));
    lock.lock();
    if (error_) {
      Error error = std::move(*error_);
      error_.reset();
      return std::unexpected(std::move(error));
    }
    return {};
  }
  state_changed_.wait(lock, [this] { return queue_.size() < kMaxQueued; });
  queue_.push_back(std::move(batch));
  work_ready_.notify_one();
  return {};
}

Status StoreWriter::drain() {
  std::unique_lock lock(mutex_);
  if (thread_.joinable()) {
    drain_requested_ = true;
    work_ready_.notify_one();
    state_changed_.wait(lock, [this] { return !drain_requested_; });
  } else if (!error_) {
    lock.unlock();
    Status written = write_held(true);
    lock.lock();
    if (!written) error_ = std::move(written.error());
  }
  if (error_) {
    Error error = std::move(*error_);
    error_.reset();
    return std::unexpected(std::move(error));
  }
  return {};
}

void StoreWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [this] { return stop_ || drain_requested_ || !queue_.empty(); });
    if (!queue_.empty()) {
      EncodedBatch batch = std::move(queue_.front());
      queue_.pop_front();
      state_changed_.notify_all();
      lock.unlock();
      accept(std::move(batch));
      lock.lock();
      continue;
    }
    if (drain_requested_) {
      if (!error_) {
        lock.unlock();
        Status written = write_held(true);
        lock.lock();
        if (!written) error_ = std::move(written.error());
      }
      drain_requested_ = false;
      state_changed_.notify_all();
      continue;
    }
    if (stop_) return;
  }
}

void StoreWriter::accept(EncodedBatch batch) {
  {
    // After a failed write every later commit is dropped until the failure
    // is reported: writing one would put its positions in the store without
    // the commits before it.
    std::lock_guard lock(mutex_);
    if (error_) return;
  }
  // Sorted now, while the writer would otherwise wait for the next commit,
  // so that writing what it holds is a merge of sorted runs.
  HeldBatch& held = held_.emplace_back();
  held.batch = std::move(batch);
  held.sorted.reserve(held.batch.entries_.size());
  const char* base = held.batch.bytes_.data();
  for (const EncodedBatch::Entry& entry : held.batch.entries_) {
    const char* key = base + entry.offset;
    const char* value = entry.owned == EncodedBatch::kInline
                            ? key + entry.key_size
                            : held.batch.owned_[entry.owned].data();
    held.sorted.push_back(SortEntry{key_prefix({key, entry.key_size}), key, value, entry.key_size,
                                    entry.value_size, next_sequence_++});
  }
  std::sort(held.sorted.begin(), held.sorted.end(), sorts_before);
  held_bytes_ += held.batch.bytes();
  if (held_bytes_ < kSpillBytes) return;
  Status written = write_held(false);
  if (!written) {
    std::lock_guard lock(mutex_);
    error_ = std::move(written.error());
    queue_.clear();
    state_changed_.notify_all();
  }
}

Status StoreWriter::write_held(bool may_use_memtable) {
  if (held_.empty()) return {};
  // A k-way merge of the held batches' sorted runs; equal keys come out in
  // the order they were put, and only the last of them is written.
  size_t count = 0;
  for (const HeldBatch& held : held_) count += held.sorted.size();
  // Sorted records by column family: a key's family follows from its first
  // byte (store_internal.h), so each family's records stay sorted.
  FamilyRecords records;
  for (FamilyRecords::Family& family : records.families) {
    family.keys.reserve(count);
    family.values.reserve(count);
  }
  struct Head {
    const SortEntry* next;
    const SortEntry* end;
  };
  auto later = [](const Head& a, const Head& b) { return sorts_before(*b.next, *a.next); };
  std::vector<Head> heads;
  for (const HeldBatch& held : held_) {
    if (!held.sorted.empty()) {
      heads.push_back(Head{held.sorted.data(), held.sorted.data() + held.sorted.size()});
    }
  }
  std::make_heap(heads.begin(), heads.end(), later);
  const SortEntry* pending = nullptr;  // the last entry seen of the current key
  auto emit = [&](const SortEntry& entry) {
    // The key's first byte, from the sort prefix rather than the key itself,
    // which is far away in memory by now.
    const char first = static_cast<char>(entry.prefix.words[0] >> 56);
    FamilyRecords::Family& family =
        records.families[static_cast<size_t>(family_of(std::string_view(&first, 1)))];
    family.keys.push_back(entry.key_view());
    family.values.push_back(entry.value_view());
  };
  while (!heads.empty()) {
    std::pop_heap(heads.begin(), heads.end(), later);
    Head& head = heads.back();
    const SortEntry* entry = head.next++;
    if (head.next == head.end) {
      heads.pop_back();
    } else {
      std::push_heap(heads.begin(), heads.end(), later);
    }
    if (pending != nullptr && !same_key(*pending, *entry)) emit(*pending);
    pending = entry;  // a later put of the same key replaces it
  }
  if (pending != nullptr) emit(*pending);

  Status written;
  if (may_use_memtable && held_bytes_ < kIngestMinBytes) {
    rocksdb::WriteBatch batch(held_bytes_ + 24 * count);
    for (size_t f = 0; f < kFamilyCount && written; ++f) {
      const FamilyRecords::Family& family = records.families[f];
      for (size_t i = 0; i < family.keys.size(); ++i) {
        rocksdb::Status s =
            batch.Put(db_.families[f], slice(family.keys[i]), slice(family.values[i]));
        if (!s.ok()) {
          written = std::unexpected(rocksdb_error(s, "adding a record to the write batch"));
          break;
        }
      }
    }
    if (written) {
      rocksdb::Status s = db_.db->Write(store_write_options(), &batch);
      if (!s.ok()) {
        written = std::unexpected(rocksdb_error(s, "committing to the projection store"));
      }
    }
  } else {
    written = ingest(records, /*use_two_threads=*/may_use_memtable);
  }
  if (written && may_use_memtable && case_files_since_compaction_ >= kCompactCasesAfterFiles) {
    written = compact_cases();
  }
  {
    // Kept for take_batch, up to what the writer holds at most.
    std::lock_guard lock(mutex_);
    size_t spare_bytes = 0;
    for (const EncodedBatch& batch : spare_) spare_bytes += batch.bytes_.capacity();
    for (HeldBatch& held : held_) {
      spare_bytes += held.batch.bytes_.capacity();
      if (spare_bytes > kSpillBytes) break;
      held.batch.clear();
      spare_.push_back(std::move(held.batch));
    }
  }
  held_.clear();
  held_bytes_ = 0;
  return written;
}

Status StoreWriter::compact_cases() {
  // Every ingested file spans all the cases: after a bulk load, one case's
  // figures would be looked for in each of them. The summaries are small
  // (hundreds of bytes per case), so a full compaction of their family at
  // the end of the load is cheap and keeps a point read at one file.
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const rocksdb::Status s =
      db_.db->CompactRange(options, db_.handle(Family::kCases), nullptr, nullptr);
  if (!s.ok()) return std::unexpected(rocksdb_error(s, "compacting the case summaries"));
  case_files_since_compaction_ = 0;
  return {};
}

Status StoreWriter::write_file(const FileJob& job) const {
  rocksdb::ColumnFamilyHandle* family = db_.families[job.family];
  const rocksdb::Options options = db_.db->GetOptions(family);
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options, family);
  auto failed = [&](const rocksdb::Status& s, std::string_view doing) -> Status {
    std::error_code ignored;
    std::filesystem::remove(job.file, ignored);  // a partial file is of no use
    return std::unexpected(rocksdb_error(s, fmt::format("{} {}", doing, job.file.string())));
  };
  rocksdb::Status s = writer.Open(job.file.string());
  if (!s.ok()) return failed(s, "creating the commit file");
  for (size_t i = job.begin; i < job.end; ++i) {
    s = writer.Put(slice((*job.keys)[i]), slice((*job.values)[i]));
    if (!s.ok()) return failed(s, "writing the commit file");
  }
  s = writer.Finish();
  if (!s.ok()) return failed(s, "finishing the commit file");
  return {};
}

Status StoreWriter::ingest(const FamilyRecords& records, bool use_two_threads) {
  // One file per family that has records; with two threads, the largest
  // family's records go to two files of adjacent key ranges, so that the
  // work splits in about halves. That is when the caller waits for the write
  // with nothing else to do (a drain at the end of a replay held up to
  // kSpillBytes, written by one core while the other idled).
  size_t largest = 0;
  for (size_t f = 1; f < kFamilyCount; ++f) {
    if (records.families[f].keys.size() > records.families[largest].keys.size()) largest = f;
  }
  std::vector<FileJob> jobs;
  for (size_t f = 0; f < kFamilyCount; ++f) {
    const FamilyRecords::Family& family = records.families[f];
    const size_t n = family.keys.size();
    if (n == 0) continue;
    const size_t parts = use_two_threads && f == largest && n >= 2 ? 2 : 1;
    for (size_t part = 0; part < parts; ++part) {
      jobs.push_back(FileJob{spill_dir_ / fmt::format("commits-{:06}.sst", ++files_written_), f,
                             &family.keys, &family.values, n * part / parts,
                             n * (part + 1) / parts});
    }
  }
  if (jobs.empty()) return {};

  // The jobs are shared out by an atomic counter between this thread and,
  // with two threads, one more.
  std::vector<Status> results(jobs.size());
  std::atomic<size_t> next_job{0};
  auto work = [&] {
    for (size_t i = next_job++; i < jobs.size(); i = next_job++) results[i] = write_file(jobs[i]);
  };
  std::thread helper;
  if (use_two_threads && jobs.size() > 1) {
    try {
      helper = std::thread(work);
    } catch (const std::system_error&) {
      // No thread to be had: every job on this one.
    }
  }
  work();
  if (helper.joinable()) helper.join();

  auto remove_files = [&jobs] {
    std::error_code ignored;
    for (const FileJob& job : jobs) std::filesystem::remove(job.file, ignored);
  };
  for (const Status& result : results) {
    if (!result) {
      remove_files();
      return result;
    }
  }
  for (const FileJob& job : jobs) {
    if (job.family == static_cast<size_t>(Family::kCases)) ++case_files_since_compaction_;
  }
  // One call for every family: RocksDB ingests all the files, or none of
  // them after a crash (IngestExternalFiles records them in one edit).
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const FileJob& job : jobs) {
    if (args.empty() || args.back().column_family != db_.families[job.family]) {
      rocksdb::IngestExternalFileArg& arg = args.emplace_back();
      arg.column_family = db_.families[job.family];
      arg.options.move_files = true;  // a hard link: the file is in the database's directory
      // The file's sequence number goes in the manifest, not into the file
      // (RocksDB's advice for databases that are never opened by old versions).
      arg.options.write_global_seqno = false;
    }
    args.back().external_files.push_back(job.file.string());
  }
  rocksdb::Status s = db_.db->IngestExternalFiles(args);
  // With move_files RocksDB links the files in; the names here are ours to
  // remove (a leftover would only be cleared at the next open).
  remove_files();
  if (!s.ok()) {
    return std::unexpected(rocksdb_error(
        s, fmt::format("committing to the projection store from {}", jobs.front().file.string())));
  }
  return {};
}

}  // namespace homeward::projections
