#include "connectors/cli/interruptible_input.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/core.h>

namespace homeward::connectors::cli {

class InterruptibleInput::Buffer final : public std::streambuf {
 public:
  Buffer(int fd, bool owned, std::function<bool()> stop_requested)
      : fd_(fd), owned_(owned), stop_requested_(std::move(stop_requested)), data_(kBytes) {
    setg(data_.data(), data_.data(), data_.data());
  }
  ~Buffer() override {
    if (owned_ && fd_ >= 0) ::close(fd_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  [[nodiscard]] const std::string& error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    for (;;) {
      if (fd_ < 0 || (stop_requested_ && stop_requested_())) return traits_type::eof();
      pollfd entry{fd_, POLLIN, 0};
      const int ready = ::poll(&entry, 1, static_cast<int>(kStopPollInterval.count()));
      if (ready < 0 && errno != EINTR) fail("waiting for input failed");
      if (ready <= 0) continue;  // a slice ended, or a signal came: ask again
      const ssize_t got = ::read(fd_, data_.data(), data_.size());
      if (got > 0) {
        setg(data_.data(), data_.data(), data_.data() + got);
        return traits_type::to_int_type(*gptr());
      }
      if (got == 0) return traits_type::eof();
      if (errno != EINTR && errno != EAGAIN) fail("reading the input failed");
    }
  }

 private:
  static constexpr size_t kBytes = size_t{1} << 20;

  // std::istream turns an exception from its buffer into badbit; the reason
  // stays here for the message.
  [[noreturn]] void fail(const char* what) {
    error_ = fmt::format("{}: {}", what, std::strerror(errno));
    throw std::runtime_error(error_);
  }

  int fd_;
  bool owned_;
  std::function<bool()> stop_requested_;
  std::vector<char> data_;
  std::string error_;
};

InterruptibleInput::InterruptibleInput(int fd, bool owned, std::function<bool()> stop_requested)
    : buffer_(std::make_unique<Buffer>(fd, owned, std::move(stop_requested))),
      stream_(buffer_.get()) {}

InterruptibleInput::~InterruptibleInput() = default;

const std::string& InterruptibleInput::error() const { return buffer_->error(); }

Result<std::unique_ptr<InterruptibleInput>> InterruptibleInput::open(
    const std::filesystem::path& path, std::function<bool()> stop_requested) {
  for (;;) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat info {};
      if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
        ::close(fd);
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("cannot read {}: it is a directory", path.string()));
      }
      return std::make_unique<InterruptibleInput>(fd, true, std::move(stop_requested));
    }
    if (errno == EINTR) {
      // A FIFO without a writer yet, and a signal: stop if it asked to.
      if (stop_requested && stop_requested()) {
        return std::make_unique<InterruptibleInput>(-1, false, std::move(stop_requested));
      }
      continue;
    }
    const int error = errno;
    return make_error(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      fmt::format("cannot read {}: {}", path.string(),
                                  error == ENOENT ? "no such file" : std::strerror(error)));
  }
}

}  // namespace homeward::connectors::cli
