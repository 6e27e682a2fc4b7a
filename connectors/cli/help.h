// Internal to the CLI: how `--help` reads, and what an unknown command is
// answered with.
//
// CLI11's own help shows its internals: a validator's description after the
// type (`TIMESTAMP:TIMESTAMP`, `INT:INT in [1 - 16]`, `TEXT:{a,b}`), generic
// type names (`TEXT`, `UINT`) and defaults glued to them (`TEXT=warn`).
// HelpFormatter shows an option's own type name only (generic ones become
// `N` or `VALUE`), its default in words at the end of its description, and
// positionals by name. Every subcommand's help ends with examples
// (add_examples), so that one can be copied and changed. Not thread-safe
// (like the whole CLI).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace homeward::connectors::cli {

class HelpFormatter final : public CLI::Formatter {
 public:
  HelpFormatter();
  [[nodiscard]] std::string make_option_opts(const CLI::Option* option) const override;
  [[nodiscard]] std::string make_option_desc(const CLI::Option* option) const override;
};

// Appends "Examples:" and the given command lines (each `homeward ...`,
// optionally followed by `  # what it does`) to the end of `command`'s help.
// Call it after anything else that sets the command's footer.
void add_examples(CLI::App* command, const std::vector<std::string_view>& lines);

// The closest of `names` to `word` by edit distance (insertions, deletions,
// substitutions and swaps of neighbours), when it is close enough to be a
// likely typo: at most 2 edits, and fewer than half the word's length.
[[nodiscard]] std::optional<std::string> closest_name(std::string_view word,
                                                      const std::vector<std::string>& names);

// When the command line names a command that `app` lacks: the message for
// it (`'cses' is not a command; did you mean 'cases'?`), else nullopt. The
// command is the first argument that is not an option of `app` or the value
// of one; `--help` and `--version` before it end the search.
[[nodiscard]] std::optional<std::string> unknown_command_message(const CLI::App& app, int argc,
                                                                 const char* const* argv);

}  // namespace homeward::connectors::cli
