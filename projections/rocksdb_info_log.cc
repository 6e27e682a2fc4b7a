// See rocksdb_info_log.h.
#include "projections/rocksdb_info_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <string_view>

namespace homeward::projections {
namespace {

spdlog::level::level_enum spdlog_level(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::FATAL_LEVEL:
      return spdlog::level::err;
    case rocksdb::InfoLogLevel::ERROR_LEVEL:
      return spdlog::level::warn;
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      return spdlog::level::debug;
    default:
      return spdlog::level::trace;
  }
}

class SpdlogInfoLog final : public rocksdb::Logger {
 public:
  // RocksDB filters below this level before it formats anything; the
  // spdlog level is checked again per message, since --log-level is set
  // after the first database may be opened (it is not, today, but nothing
  // ties the two orders).
  SpdlogInfoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::DEBUG_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const spdlog::level::level_enum mapped = spdlog_level(level);
    if (!spdlog::should_log(mapped)) return;
    // RocksDB's lines are short; a longer one is cut, never a reason to fail.
    std::array<char, 1024> line{};
    va_list copy;
    va_copy(copy, ap);
    const int written = std::vsnprintf(line.data(), line.size(), format, copy);
    va_end(copy);
    if (written < 0) return;
    const size_t length = std::min(static_cast<size_t>(written), line.size() - 1);
    spdlog::log(mapped, "rocksdb: {}", std::string_view(line.data(), length));
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> rocksdb_info_log() {
  // Never destroyed: a RocksDB background thread may still log while static
  // objects are destroyed at exit.
  static const auto* const logger =
      new std::shared_ptr<rocksdb::Logger>(std::make_shared<SpdlogInfoLog>());
  return *logger;
}

void use_homeward_info_log(rocksdb::DBOptions& options) { options.info_log = rocksdb_info_log(); }

}  // namespace homeward::projections
