#include "engine/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fmt/core.h>

namespace homeward::engine {
namespace {

bool is_permission_error(int error) { return error == EACCES || error == EPERM || error == EROFS; }

std::string read_holder(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

void write_holder(int fd, std::string_view holder) {
  // Best effort: the line is only for messages; the lock is the flock.
  if (::ftruncate(fd, 0) != 0) return;
  const std::string line = fmt::format("{}\n", holder);
  [[maybe_unused]] const ssize_t written = ::pwrite(fd, line.data(), line.size(), 0);
}

}  // namespace

Result<std::unique_ptr<WriterLock>> WriterLock::acquire(const std::filesystem::path& dir,
                                                        std::string_view holder) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    const ErrorCode code = is_permission_error(ec.value()) ? ErrorCode::kReadOnly : ErrorCode::kIo;
    return make_error(code, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  const std::filesystem::path file = dir / kWriterLockFileName;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    const ErrorCode code = is_permission_error(error) ? ErrorCode::kReadOnly : ErrorCode::kIo;
    return make_error(
        code, fmt::format("cannot open {} for writing: {}", file.string(), std::strerror(error)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      const std::string other = read_holder(file);
      return make_error(ErrorCode::kBusy,
                        fmt::format("{} is being written by another homeward process ({}); "
                                    "retry when it has finished",
                                    dir.string(), other.empty() ? "holder unknown" : other));
    }
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot lock {}: {}", file.string(), std::strerror(error)));
  }
  std::unique_ptr<WriterLock> lock(new WriterLock(fd, dir));
  lock->describe(holder);
  return lock;
}

std::string WriterLock::holder_of(const std::filesystem::path& dir) {
  return read_holder(dir / kWriterLockFileName);
}

WriterLock::~WriterLock() {
  // Closing the descriptor releases the flock. The holder line stays: it is
  // only read while the file is locked.
  ::close(fd_);
}

void WriterLock::describe(std::string_view holder) {
  write_holder(fd_, fmt::format("pid {}: {}", ::getpid(), holder));
}

bool holds_only_writer_lock(const std::filesystem::path& dir) {
  std::error_code ec;
  auto it = std::filesystem::directory_iterator(dir, ec);
  if (ec) return false;
  bool any = false;
  for (const auto& entry : it) {
    if (entry.path().filename() != kWriterLockFileName) return false;
    any = true;
  }
  return any;
}

}  // namespace homeward::engine
