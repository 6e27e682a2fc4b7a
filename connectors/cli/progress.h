// Internal to the CLI: the self-overwriting progress line on standard error.
//
// Drawn only when enabled (a terminal, no --quiet) and only once the work has
// lasted more than a second, so quick commands and pipes stay clean. Redrawn
// at most ten times a second; finish() (or the destructor) erases it. Not
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace homeward::connectors::cli {

class ProgressLine {
 public:
  ProgressLine(std::ostream& err, bool enabled, std::string label);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // `done` events so far in this run.
  void update(int64_t done);
  // Draws `label: step detail` instead of the event count: a step of the
  // work and, say, how far it got. A new step is drawn at once, even right
  // after a redraw, so that it shows while it runs.
  void show(const std::string& step, const std::string& detail = {});
  // Erases the line if one was drawn. Idempotent.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;

  std::ostream& err_;
  bool enabled_;
  std::string label_;
  Clock::time_point started_;
  Clock::time_point last_drawn_;
  size_t drawn_width_ = 0;  // 0: nothing on screen
  std::string drawn_step_;
  void draw(std::string text, Clock::time_point now);
};

}  // namespace homeward::connectors::cli
