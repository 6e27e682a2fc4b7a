// Writing a whole file so that a crash leaves either the old file (or none)
// or the new one complete, never a part: the text goes to a temporary file
// beside it, which is synced, renamed over the name and its directory synced.
// An audit killed while writing its reports so never leaves a report.json
// that is half there (or one that says "passed" for checks it never made).
#pragma once

#include <filesystem>
#include <string_view>

#include "events/error.h"

namespace homeward::engine {

[[nodiscard]] Status write_file_durably(const std::filesystem::path& path, std::string_view text);

}  // namespace homeward::engine
