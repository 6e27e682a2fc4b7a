// `homeward demo`: the shipped scenario in a fresh data directory, then the
// impact report and the case table; with --serve, that ledger served
// (the dashboard at /) until Ctrl-C.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "connectors/cli/command_context.h"
#include "connectors/cli/demo_scenario.h"
#include "connectors/cli/help.h"
#include "connectors/cli/log_access.h"
#include "connectors/cli/publishing.h"
#include "connectors/cli/serve_command.h"
#include "connectors/cli/table_output.h"

namespace homeward::connectors::cli {
namespace {

struct DemoArgs {
  std::string scenario;  // empty: the embedded one
  std::string keep;      // empty: a temporary directory, removed afterwards
  bool serve = false;    // then serve the ledger (the dashboard) until Ctrl-C
  ServeArgs serve_args;
};

// A data directory for one demo run; removed on destruction unless kept.
class DemoDir {
 public:
  static Result<DemoDir> create(const std::string& keep) {
    std::error_code ec;
    if (!keep.empty()) {
      const std::filesystem::path dir(keep);
      if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("--keep {}: the directory is not empty; the demo needs a "
                                      "new or empty directory",
                                      keep));
      }
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return make_error(ErrorCode::kIo, fmt::format("cannot create {}: {}", keep, ec.message()));
      }
      return DemoDir(dir, true);
    }
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/homeward-demo-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return make_error(ErrorCode::kIo, fmt::format("cannot create a temporary directory {}: {}",
                                                    pattern, std::strerror(errno)));
    }
    return DemoDir(pattern, false);
  }

  DemoDir(DemoDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.path_.clear();
  }
  DemoDir& operator=(DemoDir&&) = delete;
  DemoDir(const DemoDir&) = delete;
  DemoDir& operator=(const DemoDir&) = delete;

  ~DemoDir() {
    if (keep_ || path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec)
      spdlog::warn("could not remove the demo directory {}: {}", path_.string(), ec.message());
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  DemoDir(std::filesystem::path path, bool keep) : path_(std::move(path)), keep_(keep) {}
  std::filesystem::path path_;
  bool keep_;
};

Result<int> run_demo(const DemoArgs& args, const CommandContext& context) {
  // Before the publish starts any thread, so that serve can take Ctrl-C
  // gracefully (a signal pending meanwhile stops it as soon as it listens).
  if (args.serve) block_stop_signals();
  auto dir = DemoDir::create(args.keep);
  if (!dir) return std::unexpected(dir.error());
  GlobalOptions options = context.options;
  options.data_dir = dir->path();
  const CommandContext demo_context{
      options,       context.in,     context.out, context.err, context.err_is_terminal,
      context.in_fd, context.command};

  std::istringstream embedded{std::string(demo_scenario())};
  std::optional<PublishInput> input;
  if (args.scenario.empty()) {
    input.emplace(embedded);
  } else {
    auto file = open_input(args.scenario, context.in);
    if (!file) return std::unexpected(file.error());
    input.emplace(std::move(*file));
  }
  const std::string scenario_name = args.scenario.empty() ? "demo/pilot.ndjson" : args.scenario;

  {
    auto log = open_log(demo_context, LogAccess::kAppend);
    if (!log) return std::unexpected(log.error());
    auto report = publish_stream(**log, input->stream(), engine::PublishOptions{}, demo_context);
    if (!report) return std::unexpected(report.error());
    context.out << fmt::format("Homeward demo: the {} scenario replayed into a fresh ledger\n\n",
                               scenario_name);
    context.out << "published: ";
    print_publish_report(*report, false, demo_context);
    if (!report->failed.empty()) {
      return make_error(ErrorCode::kIo, "the demo could not append its scenario");
    }
  }

  {
    // Closed before serving: serve opens the log and the store as their writer.
    auto ledger = open_up_to_date(demo_context);
    if (!ledger) return std::unexpected(ledger.error());
    context.out << fmt::format("projected: {} events\n\n", ledger->caught_up.events_read);
    auto report = ledger->store->impact_report();
    if (!report) return std::unexpected(report.error());
    auto printed = print_impact_report(context.out, *report);
    if (!printed) return std::unexpected(printed.error());
    auto cases = ledger->store->list_cases();
    if (!cases) return std::unexpected(cases.error());
    context.out << "\nCase funding\n";
    print_cases_table(context.out, *cases);
  }
  if (args.serve) {
    // The same ledger, served: the dashboard at / and the whole API.
    ServeArgs serve_args = args.serve_args;
    serve_args.announce_dashboard = true;
    auto served = run_serve(serve_args, demo_context);
    if (served && *served == kExitOk && !args.keep.empty()) {
      context.out << fmt::format("\nThe ledger is kept in {}; try: homeward --data {} cases\n",
                                 args.keep, args.keep);
    }
    return served;
  }
  if (!args.keep.empty()) {
    context.out << fmt::format("\nThe ledger is kept in {}; try: homeward --data {} cases\n",
                               args.keep, args.keep);
  }
  return kExitOk;
}

}  // namespace

void add_demo_commands(CLI::App& app, std::vector<Command>& commands) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Publish the shipped pilot scenario into a fresh temporary ledger and print the impact "
      "report and the cases; with --serve, then serve it: the dashboard at http://ADDRESS/");
  demo->add_option("--scenario", args->scenario,
                   "NDJSON file to use instead of the embedded demo/pilot.ndjson")
      ->type_name("FILE");
  demo->add_option("--keep", args->keep,
                   "Build the ledger in this new (or empty) directory and keep it")
      ->type_name("DIR");
  CLI::Option* serve =
      demo->add_flag("--serve", args->serve,
                     "Then serve the ledger (the public dashboard at /, and the HTTP API of "
                     "docs/http.md) until Ctrl-C, printing the URL");
  demo->add_option("--listen", args->serve_args.listen,
                   "With --serve: ADDRESS:PORT to listen on (a loopback address; port 0 takes "
                   "a free one)")
      ->needs(serve)
      ->capture_default_str();
  demo->add_option("--public-window-ms", args->serve_args.public_window_ms,
                   "With --serve: the public change stream's window (SPEC section 8)")
      ->check(CLI::Range(int64_t{100}, int64_t{86'400'000}))
      ->needs(serve)
      ->capture_default_str();
  add_examples(demo, {"homeward demo --serve   # then open the URL it prints",
                      "homeward demo --keep ./pilot-data   # then: homeward "
                      "--data ./pilot-data cases"});
  commands.push_back(
      {demo, [args](const CommandContext& context) { return run_demo(*args, context); }});
}

}  // namespace homeward::connectors::cli
