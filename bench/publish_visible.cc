// homeward-publish-visible: the "publish to visible" benchmark of issue 12 (bench/README.md).
//
//   homeward-publish-visible --url http://HOST:PORT --events FILE --rate R [--seconds S]
//                            [--batch B] [--senders K] [--drain-seconds D]
//
// Measures, against a running `homeward serve` on the embedded log, how long
// an event takes from the answer to its POST /v1/events until the change
// stream GET /v1/changes carries a message of its case that includes it:
//
//  1. reads the NDJSON lines of FILE (bench/generator.h's stream) and posts
//     its leading CaseOpened lines untimed, in requests of 1,000, so that the
//     timed events find their cases open;
//  2. the baseline: 1,000 GET /livez one after the other on one keep-alive
//     connection, p50 and p99 of the round trip (the floor of any answer of
//     this server on this machine);
//  3. opens one SSE connection to /v1/changes, then posts R x S events (the
//     lines after the opens) in requests of B events (default R / 100, so a
//     request every 10 ms), request i due at i x B / R seconds, on K
//     connections (default 4, so that one slow answer does not stop the pace;
//     a request whose time came while all K were busy goes out late, and the
//     achieved rate says so);
//  4. an event at log position 0:P of case C is visible at the arrival of the
//     first message of C whose round position (the id, `0:N;C`) has N > P:
//     that message's figures include it. Its latency is that arrival less the
//     arrival of its POST's answer (0 when the message came first: the
//     projector can fold a record before the client has read the answer);
//  5. waits at most D seconds (default 10) after the last answer for every
//     event to become visible.
//
// Prints one JSON object on standard output: the achieved rate, the POST
// answer latency (p50, p99, max: ms per request), the visible latency (p50,
// p99, max: ms per event), how many events were seen before their answer
// was read, and the /livez baseline. Percentiles are nearest-rank.
//
// Exit codes: 0 done, 1 error (unreadable file, fewer lines than R x S, a
// request not answered 200, an event refused, an event never seen within D,
// a reset of the stream), 2 command-line syntax (from CLI11).
#include <curl/curl.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/http/support/sse_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One keep-alive connection (curl reuses it between perform calls).
class Connection {
 public:
  explicit Connection(std::string base_url) : base_url_(std::move(base_url)) {
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw Failure("curl_easy_init failed");
    headers_ = curl_slist_append(nullptr, "Content-Type: application/x-ndjson");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 30'000L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Connection::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
  }
  ~Connection() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The answer's body; throws unless the status is 200.
  const std::string& get(const std::string& path) {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    return perform("GET", path);
  }
  const std::string& post_ndjson(const std::string& path, std::string_view body) {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    return perform("POST", path);
  }

 private:
  const std::string& perform(std::string_view method, const std::string& path) {
    body_.clear();
    const std::string url = base_url_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    const CURLcode code = curl_easy_perform(curl_);
    if (code != CURLE_OK) {
      throw Failure(fmt::format("{} {}: {}", method, path, curl_easy_strerror(code)));
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      throw Failure(
          fmt::format("{} {} answered {}: {}", method, path, status, body_.substr(0, 300)));
    }
    return body_;
  }
  static size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  }

  std::string base_url_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string body_;
};

// "0:N" -> N; the tool measures the embedded log (one partition).
int64_t offset_of(std::string_view position) {
  if (!position.starts_with("0:") || position.find(',') != std::string_view::npos) {
    throw Failure(fmt::format("position {} is not the embedded log's 0:OFFSET", position));
  }
  return std::stoll(std::string(position.substr(2)));
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Nearest-rank percentile of `values` (sorted here).
double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

nlohmann::ordered_json distribution(std::vector<double> values) {
  const double p50 = percentile(values, 50);
  const double p99 = percentile(values, 99);
  return {{"count", values.size()},
          {"p50_ms", p50},
          {"p99_ms", p99},
          {"max_ms", values.empty() ? 0.0 : values.back()}};
}

struct Line {
  std::string text;  // with its newline
  std::string case_id;
  bool opens = false;  // a CaseOpened
};

std::vector<Line> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Failure(fmt::format("cannot read {}", path));
  std::vector<Line> lines;
  for (std::string text; std::getline(in, text);) {
    if (text.empty()) continue;
    const auto event = nlohmann::json::parse(text, nullptr, false);
    if (event.is_discarded() || !event.contains("case_id") || !event["case_id"].is_string()) {
      throw Failure(fmt::format("{} line {}: not an event with a case_id", path, lines.size() + 1));
    }
    lines.push_back({text + "\n", event["case_id"].get<std::string>(),
                     event.value("type", "") == "CaseOpened"});
  }
  return lines;
}

// The arrivals of one case's messages, in stream order (so by round position).
struct Arrival {
  int64_t round_offset = 0;
  Clock::time_point at;
};

struct Options {
  std::string url;
  std::string events_path;
  int64_t rate = 0;
  int64_t seconds = 10;
  int64_t batch = 0;
  int64_t senders = 4;
  int64_t drain_seconds = 10;
};

nlohmann::ordered_json run(const Options& options) {
  const std::vector<Line> lines = read_lines(options.events_path);
  size_t opens = 0;
  while (opens < lines.size() && lines[opens].opens) ++opens;
  const int64_t batch =
      options.batch > 0 ? options.batch : std::max<int64_t>(options.rate / 100, 1);
  const int64_t total = options.rate * options.seconds;
  if (static_cast<int64_t>(lines.size() - opens) < total) {
    throw Failure(fmt::format(
        "{} holds {} events after its {} CaseOpened lines; {} events/s for {} s "
        "need {}",
        options.events_path, lines.size() - opens, opens, options.rate, options.seconds, total));
  }

  // 1. The cases, opened untimed.
  Connection setup(options.url);
  for (size_t i = 0; i < opens; i += 1'000) {
    std::string body;
    for (size_t j = i; j < std::min(opens, i + 1'000); ++j) body += lines[j].text;
    setup.post_ndjson("/v1/events", body);
  }

  // 2. The baseline: one answer's round trip.
  std::vector<double> livez;
  for (int i = 0; i < 1'000; ++i) {
    const auto start = Clock::now();
    setup.get("/livez");
    livez.push_back(ms_between(start, Clock::now()));
  }

  // 3. The stream, then the paced requests.
  std::mutex arrivals_mutex;
  std::unordered_map<std::string, std::vector<Arrival>> arrivals;
  std::atomic<int64_t> resets{0};
  std::atomic<int64_t> bad_ids{0};
  homeward::testing::SseClient stream(
      options.url + "/v1/changes", {}, [&](const homeward::testing::SseMessage& message) {
        const auto at = Clock::now();
        if (message.event == "reset") ++resets;
        if (message.event != "case") return;
        // On curl's thread: nothing may throw here; a bad id fails the run below.
        const size_t semicolon = message.id.find(';');
        const std::string_view position = std::string_view(message.id).substr(0, semicolon);
        int64_t offset = 0;
        if (semicolon == std::string::npos || !position.starts_with("0:") ||
            std::from_chars(position.data() + 2, position.data() + position.size(), offset).ec !=
                std::errc()) {
          ++bad_ids;
          return;
        }
        std::lock_guard lock(arrivals_mutex);
        arrivals[message.id.substr(semicolon + 1)].push_back({offset, at});
      });
  if (!stream.wait_connected()) throw Failure("GET /v1/changes did not answer");

  const int64_t requests = (total + batch - 1) / batch;
  std::vector<int64_t> event_offset(static_cast<size_t>(total), -1);
  std::vector<Clock::time_point> answered(static_cast<size_t>(requests));
  std::vector<double> post_ms(static_cast<size_t>(requests));
  std::atomic<int64_t> next_request{0};
  std::atomic<int64_t> late_requests{0};
  std::mutex failure_mutex;
  std::optional<std::string> failure;
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  const auto due = [&](int64_t request) {
    return start + std::chrono::nanoseconds(request * batch * 1'000'000'000 / options.rate);
  };
  auto sender = [&] {
    try {
      Connection connection(options.url);
      for (int64_t r; (r = next_request.fetch_add(1)) < requests;) {
        const int64_t first = r * batch;
        const int64_t end = std::min(total, first + batch);
        std::string body;
        for (int64_t e = first; e < end; ++e) body += lines[opens + static_cast<size_t>(e)].text;
        if (Clock::now() > due(r) + std::chrono::milliseconds(1)) ++late_requests;
        std::this_thread::sleep_until(due(r));
        const auto sent = Clock::now();
        const auto answer = nlohmann::json::parse(connection.post_ndjson("/v1/events", body));
        const auto at = Clock::now();
        answered[static_cast<size_t>(r)] = at;
        post_ms[static_cast<size_t>(r)] = ms_between(sent, at);
        for (const auto& result : answer.at("results")) {
          const int64_t line = result.at("line").get<int64_t>();
          if (result.at("result") != "appended") {
            throw Failure(
                fmt::format("event {} was not appended: {}", first + line, result.dump()));
          }
          event_offset[static_cast<size_t>(first + line - 1)] =
              offset_of(result.at("position").get<std::string>());
        }
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = e.what();
      next_request.store(requests);  // the others stop too
    }
  };
  std::vector<std::thread> threads;
  for (int64_t i = 0; i < options.senders; ++i) threads.emplace_back(sender);
  for (std::thread& thread : threads) thread.join();
  if (failure) throw Failure(*failure);
  const auto last_answer = *std::max_element(answered.begin(), answered.end());

  // 4, 5. Every event's first message that includes it.
  std::vector<double> visible_ms(static_cast<size_t>(total));
  int64_t before_answer = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(options.drain_seconds);
  int64_t unseen = 0;
  const std::vector<Arrival> none;
  for (;;) {
    unseen = 0;
    before_answer = 0;
    {
      std::lock_guard lock(arrivals_mutex);
      for (int64_t e = 0; e < total; ++e) {
        const auto index = static_cast<size_t>(e);
        const auto it = arrivals.find(lines[opens + index].case_id);
        const std::vector<Arrival>& list = it == arrivals.end() ? none : it->second;
        const auto seen = std::upper_bound(
            list.begin(), list.end(), event_offset[index],
            [](int64_t offset, const Arrival& a) { return offset < a.round_offset; });
        if (seen == list.end()) {
          ++unseen;
          continue;
        }
        const auto answer_at = answered[index / static_cast<size_t>(batch)];
        if (seen->at < answer_at) ++before_answer;
        visible_ms[index] = std::max(0.0, ms_between(answer_at, seen->at));
      }
    }
    if (unseen == 0 || Clock::now() > deadline || resets.load() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stream.stop();
  if (resets.load() > 0) throw Failure("the change stream was reset (the reader fell behind)");
  if (bad_ids.load() > 0) {
    throw Failure(fmt::format("{} messages of /v1/changes had an id not of the form 0:OFFSET;CASE",
                              bad_ids.load()));
  }
  if (unseen > 0) {
    throw Failure(fmt::format("{} of {} events never showed on /v1/changes within {} s", unseen,
                              total, options.drain_seconds));
  }

  const double seconds = std::chrono::duration<double>(last_answer - start).count();
  nlohmann::ordered_json out;
  out["rate_target"] = options.rate;
  out["events"] = total;
  out["events_per_request"] = batch;
  out["requests"] = requests;
  out["senders"] = options.senders;
  out["seconds"] = seconds;
  out["rate_achieved"] = static_cast<double>(total) / seconds;
  out["late_requests"] = late_requests.load();
  out["post_answer"] = distribution(post_ms);
  out["visible"] = distribution(visible_ms);
  out["visible_before_answer"] = before_answer;
  out["livez"] = distribution(livez);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"homeward-publish-visible: from a POST's answer to the SSE message of its case"};
  Options options;
  app.add_option("--url", options.url, "serve's base URL, http://HOST:PORT")->required();
  app.add_option("--events", options.events_path, "NDJSON events (homeward-bench gen)")->required();
  app.add_option("--rate", options.rate, "events per second")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app.add_option("--seconds", options.seconds, "how long to post")
      ->check(CLI::Range(int64_t{1}, int64_t{600}));
  app.add_option("--batch", options.batch, "events per request (default rate / 100)")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000}));
  app.add_option("--senders", options.senders, "connections posting")
      ->check(CLI::Range(int64_t{1}, int64_t{64}));
  app.add_option("--drain-seconds", options.drain_seconds,
                 "how long to wait after the last answer for every event to show")
      ->check(CLI::Range(int64_t{1}, int64_t{600}));
  CLI11_PARSE(app, argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int status = 0;
  try {
    fmt::print("{}\n", run(options).dump());
  } catch (const std::exception& e) {
    fmt::print(stderr, "homeward-publish-visible: {}\n", e.what());
    status = 1;
  }
  curl_global_cleanup();
  return status;
}
