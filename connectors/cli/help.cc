#include "connectors/cli/help.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>

namespace homeward::connectors::cli {
namespace {

// CLI11's names for the C++ type of an option's value: they say nothing to
// someone who reads the help.
bool is_number_type(std::string_view name) {
  return name == "INT" || name == "UINT" || name == "FLOAT" || name == "NUMBER" ||
         name == "POSITIVE" || name == "NONNEGATIVE";
}
bool is_generic_type(std::string_view name) {
  return is_number_type(name) || name == "TEXT" || name == "BOOLEAN" || name == "ENUM";
}

// Damerau-Levenshtein (optimal string alignment) distance.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

HelpFormatter::HelpFormatter() {
  label("SUBCOMMAND", "COMMAND");
  label("SUBCOMMANDS", "COMMANDS");
  column_width(32);
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  if (!option->get_option_text().empty()) return " " + option->get_option_text();
  // A positional is shown by its name, which says what it is.
  if (!option->nonpositional() || option->get_type_size() == 0) return {};
  std::string type = option->get_type_name();
  // After the first ':' come the validators' descriptions.
  type = type.substr(0, type.find(':'));
  if (is_generic_type(type)) type = is_number_type(type) ? "N" : "VALUE";
  std::string out = " " + type;
  if (option->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
  return out;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* option) const {
  std::string desc = option->get_description();
  if (option->get_type_size() != 0 && !option->get_default_str().empty()) {
    desc += fmt::format(" (default: {})", option->get_default_str());
  }
  return desc;
}

void add_examples(CLI::App* command, const std::vector<std::string_view>& lines) {
  std::string text = command->get_footer();
  if (!text.empty()) text += "\n\n";
  text += lines.size() == 1 ? "Example:" : "Examples:";
  for (std::string_view line : lines) text += fmt::format("\n  {}", line);
  command->footer(text);
}

std::optional<std::string> closest_name(std::string_view word,
                                        const std::vector<std::string>& names) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& name : names) {
    const size_t distance = edit_distance(word, name);
    if (!best || distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  if (!best || best_distance > 2 || 2 * best_distance >= std::max(word.size(), size_t{2})) {
    return std::nullopt;
  }
  return best;
}

std::optional<std::string> unknown_command_message(const CLI::App& app, int argc,
                                                   const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;  // CLI11 says what is wrong with the rest
    if (arg.size() > 1 && arg[0] == '-') {
      if (arg == "-h" || arg == "--help" || arg == "--version") return std::nullopt;
      if (arg.find('=') != std::string_view::npos) continue;
      const CLI::Option* option = app.get_option_no_throw(std::string(arg));
      // An unknown option is CLI11's to report; a known one may take the next
      // argument as its value.
      if (option != nullptr && option->get_items_expected_min() > 0) ++i;
      continue;
    }
    std::vector<std::string> names;
    for (const CLI::App* command :
         app.get_subcommands([](const CLI::App* c) { return !c->get_name().empty(); })) {
      if (command->check_name(std::string(arg))) return std::nullopt;
      names.push_back(command->get_name());
    }
    if (auto near = closest_name(arg, names)) {
      return fmt::format("'{}' is not a command; did you mean '{}'? (homeward --help lists them)",
                         arg, *near);
    }
    return fmt::format("'{}' is not a command (homeward --help lists them)", arg);
  }
  return std::nullopt;
}

}  // namespace homeward::connectors::cli
