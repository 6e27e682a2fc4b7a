#include "connectors/http/http_types.h"

#include <algorithm>

namespace homeward::connectors::http {

std::optional<std::string> Request::query_value(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& [key, value] : headers) {
    if (key == lower_name) return value;
  }
  return {};
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

ChangeSignal::Id ChangeSignal::subscribe(std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  const Id id = next_id_++;
  callbacks_.emplace_back(id, std::move(callback));
  return id;
}

void ChangeSignal::unsubscribe(Id id) {
  std::lock_guard lock(mutex_);
  std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

void ChangeSignal::notify_all() {
  // Called with the lock held: a callback only posts to an executor, and
  // unsubscribe (which takes the lock) then cannot return while its callback
  // runs, so a session never gets a call after it unsubscribed.
  std::lock_guard lock(mutex_);
  for (const auto& [id, callback] : callbacks_) callback();
}

}  // namespace homeward::connectors::http
