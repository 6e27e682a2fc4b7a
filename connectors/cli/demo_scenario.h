// Internal to the CLI: the demo scenario (demo/pilot.ndjson of the source
// tree), embedded into the binary at build time so that `homeward demo` works
// from any directory. Generated from demo_scenario.cc.in by CMake.
#pragma once

#include <string_view>

namespace homeward::connectors::cli {

// The NDJSON text of demo/pilot.ndjson as it was when the binary was built.
[[nodiscard]] std::string_view demo_scenario();

}  // namespace homeward::connectors::cli
