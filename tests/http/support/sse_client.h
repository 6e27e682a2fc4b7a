// A Server-Sent Events client for the HTTP tests: libcurl on a thread of its
// own, the messages parsed as they come (id, event, data), stopped from the
// test (curl's progress callback aborts the transfer once asked to). An
// observer, when given, sees each message on the curl thread as soon as it is
// parsed (bench/publish_visible.cc times the arrivals with it).
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace homeward::testing {

struct SseMessage {
  std::string id;
  std::string event;
  std::string data;
  bool operator==(const SseMessage&) const = default;
};

class SseClient {
 public:
  using Observer = std::function<void(const SseMessage&)>;

  SseClient(std::string url, std::vector<std::string> headers, Observer observer = {})
      : url_(std::move(url)), headers_(std::move(headers)), observer_(std::move(observer)) {
    thread_ = std::thread([this] { run(); });
  }
  ~SseClient() { stop(); }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  [[nodiscard]] std::vector<SseMessage> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  [[nodiscard]] long status() const { return status_.load(); }
  // The server sent its first bytes (the stream is registered there).
  [[nodiscard]] bool connected() const { return connected_.load(); }
  bool wait_connected(int attempts = 6000) const {
    for (int i = 0; i < attempts && !connected_.load() && !finished_.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return connected_.load();
  }

  // Polls (every 10 ms, at most `attempts` times) until `done` holds for the
  // messages so far; false if it never did.
  bool wait_until(const std::function<bool(const std::vector<SseMessage>&)>& done,
                  int attempts = 6000) const {
    for (int i = 0; i < attempts; ++i) {
      if (done(messages())) return true;
      if (finished_.load()) return done(messages());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  void run() {
    CURL* curl = curl_easy_init();
    curl_slist* list = nullptr;
    for (const std::string& h : headers_) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &SseClient::on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &SseClient::on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    // Bounded: no stream test runs for more than two minutes.
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 120'000L);
    curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    status_.store(code);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    finished_.store(true);
  }
  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* self = static_cast<SseClient*>(user);
    return self->stop_.load() ? 1 : 0;
  }
  static size_t on_data(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<SseClient*>(user);
    if (self->stop_.load()) return 0;  // aborts the transfer
    self->connected_.store(true);
    self->buffer_.append(data, size * count);
    // Messages end with a blank line.
    for (size_t end; (end = self->buffer_.find("\n\n")) != std::string::npos;) {
      const std::string block = self->buffer_.substr(0, end);
      self->buffer_.erase(0, end + 2);
      SseMessage message;
      size_t start = 0;
      while (start <= block.size()) {
        size_t line_end = block.find('\n', start);
        if (line_end == std::string::npos) line_end = block.size();
        const std::string line = block.substr(start, line_end - start);
        start = line_end + 1;
        if (line.starts_with("id: ")) message.id = line.substr(4);
        if (line.starts_with("event: ")) message.event = line.substr(7);
        if (line.starts_with("data: ")) message.data = line.substr(6);
      }
      if (message.event.empty() && message.data.empty()) continue;  // retry hint, comments
      if (self->observer_) self->observer_(message);
      std::lock_guard lock(self->mutex_);
      self->messages_.push_back(std::move(message));
    }
    return size * count;
  }

  std::string url_;
  std::vector<std::string> headers_;
  Observer observer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> connected_{false};
  std::atomic<long> status_{0};
  std::string buffer_;  // the curl thread's only
  mutable std::mutex mutex_;
  std::vector<SseMessage> messages_;
  std::thread thread_;  // last
};

}  // namespace homeward::testing
