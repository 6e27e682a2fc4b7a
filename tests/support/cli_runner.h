// Runs the `homeward` command line in-process, as tests of the CLI need it:
// arguments in, exit code and both output streams out, standard input from a
// string, and stderr never treated as a terminal (so no progress line).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "connectors/cli/cli.h"

namespace homeward::testing {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

// `args` are the arguments after the program name.
inline CliRun run_homeward(std::vector<std::string> args, const std::string& standard_input = "") {
  args.insert(args.begin(), "homeward");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::istringstream in(standard_input);
  std::ostringstream out;
  std::ostringstream err;
  CliRun run;
  run.code = connectors::run_cli(static_cast<int>(argv.size()), argv.data(),
                                 connectors::CliStreams{in, out, err, false});
  run.out = out.str();
  run.err = err.str();
  return run;
}

}  // namespace homeward::testing
