// A private temporary directory, removed with everything in it when the
// object goes: where a RocksDB secondary instance keeps its own info log
// while it reads another process's database. Not thread-safe.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "events/error.h"

namespace homeward::engine {

class ScratchDir {
 public:
  // Under $TMPDIR (or /tmp), named after `purpose`.
  [[nodiscard]] static Result<std::unique_ptr<ScratchDir>> create(std::string_view purpose) {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / fmt::format("homeward-{}-XXXXXX", purpose)).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return make_error(
          ErrorCode::kIo,
          fmt::format("cannot create a temporary directory under {}: {}", base.string(),
                      std::error_code(errno, std::generic_category()).message()));
    }
    return std::unique_ptr<ScratchDir>(new ScratchDir(pattern));
  }
  ~ScratchDir() {
    std::error_code ignored;  // a leftover in the temporary directory loses nothing
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  explicit ScratchDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace homeward::engine
