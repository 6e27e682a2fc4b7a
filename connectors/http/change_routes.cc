#include "connectors/http/change_routes.h"

#include <algorithm>
#include <random>
#include <vector>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "connectors/http/position.h"
#include "connectors/http/problem.h"
#include "connectors/http/route_params.h"
#include "projections/json_output.h"
#include "projections/public_view.h"

namespace homeward::connectors::http {
namespace {

// One line of JSON (json_body ends with a newline; an SSE data line must not).
std::string one_line(const nlohmann::ordered_json& document) {
  std::string text = json_body(document);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string random_epoch() {
  std::random_device device;
  return fmt::format("{:08x}", device());
}

}  // namespace

ChangeStreams::ChangeStreams(LedgerApi& api, ChangeOptions options)
    : api_(api),
      options_(options),
      private_feed_(std::make_shared<ChangeFeed>(options.ring_messages, options.ring_bytes)),
      public_feed_(std::make_shared<ChangeFeed>(options.ring_messages, options.ring_bytes)),
      epoch_(random_epoch()),
      window_thread_([this] { window_loop(); }) {}

ChangeStreams::~ChangeStreams() {
  stop();
  if (window_thread_.joinable()) window_thread_.join();
}

void ChangeStreams::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void ChangeStreams::on_round(const RoundChanges& changes) {
  if (changes.case_ids.empty()) return;
  const std::string position = format_position(changes.position);
  std::vector<FeedEntry> entries;
  entries.reserve(changes.case_ids.size());
  for (const std::string& case_id : changes.case_ids) {
    auto found = api_.store->find_case(case_id);
    if (!found) {
      // The stream cannot show this case's figures; its watchers must know
      // rather than miss the change.
      spdlog::error("change stream: reading case {} failed: {}", case_id, found.error().message);
      entries.push_back({position + ";" + case_id, "error",
                         one_line({{"case_id", case_id}, {"error", found.error().message}})});
      continue;
    }
    // Only rejected events for a case never opened: no case figures changed.
    if (!found->has_value() || !(*found)->opened) continue;
    entries.push_back(
        {position + ";" + case_id, "case", one_line(projections::case_json(case_id, **found))});
  }
  private_feed_->publish(entries);
  std::lock_guard lock(mutex_);
  for (const std::string& case_id : changes.case_ids) changed_in_window_.insert(case_id);
}

void ChangeStreams::window_loop() {
  std::unique_lock lock(mutex_);
  auto next = std::chrono::steady_clock::now() + options_.public_window;
  while (!stopping_) {
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
    next += options_.public_window;
    lock.unlock();
    end_window();
    lock.lock();
  }
}

void ChangeStreams::end_window() {
  std::vector<std::string> cases;
  uint64_t window = 0;
  {
    std::lock_guard lock(mutex_);
    cases.assign(changed_in_window_.begin(), changed_in_window_.end());
    changed_in_window_.clear();
    window = ++window_;
  }
  if (cases.empty()) return;
  std::sort(cases.begin(), cases.end());
  const std::string prefix = fmt::format("{}.{};", epoch_, window);
  std::vector<FeedEntry> entries;
  for (const std::string& case_id : cases) {
    auto found = api_.store->find_case(case_id);
    if (!found) {
      spdlog::error("public change stream: reading case {} failed: {}", case_id,
                    found.error().message);
      continue;  // the public stream carries no error details
    }
    if (!found->has_value() || !(*found)->opened) continue;
    entries.push_back(
        {prefix + case_id, "case", one_line(projections::public_case_json(case_id, **found))});
  }
  if (entries.empty()) return;  // only rejected events: nothing public changed
  auto report = api_.store->impact_report();
  if (report) {
    entries.push_back(
        {prefix + "stats", "stats", one_line(projections::public_impact_json(*report))});
  } else {
    spdlog::error("public change stream: the impact report failed: {}", report.error().message);
  }
  public_feed_->publish(entries);
}

void ChangeStreams::add_routes(Router& router) {
  router.add(
      {"GET", "/v1/changes", Access::kRead, Execution::kInline, [this](Request& request) -> Reply {
         if (auto bad = check_params(request, {})) return *bad;
         return feed_reply(private_feed_, request);
       }});
  router.add({"GET", "/v1/public/changes", Access::kPublic, Execution::kInline,
              [this](Request& request) -> Reply {
                if (auto bad = check_params(request, {})) return *bad;
                return feed_reply(public_feed_, request);
              }});
}

}  // namespace homeward::connectors::http
