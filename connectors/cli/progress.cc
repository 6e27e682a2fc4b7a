#include "connectors/cli/progress.h"

#include <ostream>
#include <utility>

#include <fmt/core.h>

namespace homeward::connectors::cli {
namespace {

constexpr std::chrono::milliseconds kQuietStart{1000};
constexpr std::chrono::milliseconds kRedrawInterval{100};

}  // namespace

ProgressLine::ProgressLine(std::ostream& err, bool enabled, std::string label)
    : err_(err), enabled_(enabled), label_(std::move(label)), started_(Clock::now()) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(int64_t done) {
  if (!enabled_) return;
  const Clock::time_point now = Clock::now();
  const auto elapsed = now - started_;
  if (elapsed < kQuietStart) return;
  if (drawn_width_ != 0 && now - last_drawn_ < kRedrawInterval) return;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  // A rate for people to read, not an amount: floating point is fine here.
  const auto rate = static_cast<int64_t>(static_cast<double>(done) / seconds);
  drawn_step_.clear();
  draw(fmt::format("{}: {} events, {} events/s", label_, done, rate), now);
}

void ProgressLine::show(const std::string& step, const std::string& detail) {
  if (!enabled_) return;
  const Clock::time_point now = Clock::now();
  if (now - started_ < kQuietStart) return;
  const bool new_step = drawn_width_ == 0 || step != drawn_step_;
  if (!new_step && now - last_drawn_ < kRedrawInterval) return;
  drawn_step_ = step;
  draw(detail.empty() ? fmt::format("{}: {}", label_, step)
                      : fmt::format("{}: {} {}", label_, step, detail),
       now);
}

void ProgressLine::draw(std::string text, Clock::time_point now) {
  const size_t width = text.size();
  if (width < drawn_width_) text.append(drawn_width_ - width, ' ');
  err_ << '\r' << text << std::flush;
  drawn_width_ = width;
  last_drawn_ = now;
}

void ProgressLine::finish() {
  if (drawn_width_ == 0) return;
  err_ << '\r' << std::string(drawn_width_, ' ') << '\r' << std::flush;
  drawn_width_ = 0;
  drawn_step_.clear();
}

}  // namespace homeward::connectors::cli
