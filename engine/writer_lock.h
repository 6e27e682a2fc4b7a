// One writer per database directory, any number of readers beside it.
//
// A WriterLock is an exclusive flock(2) on the file HOMEWARD-WRITER inside a
// RocksDB directory (the embedded log's or the projection store's), taken
// before RocksDB opens it for writing. Readers never take it: they open the
// database as a RocksDB secondary instance, which needs no lock. The kernel
// drops the lock when its holder exits, however it exits (SIGKILL included),
// so there is no stale lock to clean up.
//
// Why not RocksDB's own LOCK file: RocksDB tells a held LOCK from other I/O
// errors only in its message text, and it cannot say who holds it. The lock
// file here holds one line naming its holder ("pid 123: homeward publish"),
// which the refusal of a second writer quotes, so that a person knows whom
// to wait for.
//
// Not thread-safe; a lock belongs to the object that acquired it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "events/error.h"

namespace homeward::engine {

inline constexpr char kWriterLockFileName[] = "HOMEWARD-WRITER";

class WriterLock {
 public:
  // Takes the lock on `dir`/HOMEWARD-WRITER, creating `dir` and the file when
  // missing, and records `holder` in it. kBusy (naming the holder) when
  // another process has it; kReadOnly when the directory cannot be written
  // (a read-only copy, or another user's data); kIo otherwise.
  [[nodiscard]] static Result<std::unique_ptr<WriterLock>> acquire(const std::filesystem::path& dir,
                                                                   std::string_view holder);

  // The holder line a running writer recorded in `dir`, or empty when none
  // can be read.
  [[nodiscard]] static std::string holder_of(const std::filesystem::path& dir);

  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  // Replaces the holder line (`serve` adds its address once it listens).
  void describe(std::string_view holder);
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  WriterLock(int fd, std::filesystem::path dir) : fd_(fd), dir_(std::move(dir)) {}
  int fd_;
  std::filesystem::path dir_;
};

// True when `dir` holds nothing but a writer lock file: a directory that a
// writer locked and then died before RocksDB wrote anything, which counts as
// empty.
[[nodiscard]] bool holds_only_writer_lock(const std::filesystem::path& dir);

}  // namespace homeward::engine
