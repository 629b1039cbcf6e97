#include "scratchdet/engine/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace scratchdet::engine {

ProgressReporter::ProgressReporter(int64_t total, int64_t log_interval, std::FILE* stream,
                                   int force_tty)
    : total_(total), log_interval_(std::max<int64_t>(1, log_interval)), stream_(stream) {
  if (stream_ == nullptr) return;  // quiet
  tty_ = force_tty >= 0 ? force_tty == 1 : ::isatty(::fileno(stream)) == 1;
  start_ = std::chrono::steady_clock::now();
}

std::string ProgressReporter::FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{:02d}:{:02d}", s / 60, s % 60);
}

std::string ProgressReporter::Render(const ProgressLine& l, double eta) const {
  const std::string counts = fmt::format("{}/{}", l.iteration, total_);
  const std::string stats =
      fmt::format("loss {:.3f} (loc {:.3f} conf {:.3f}) lr {:.2e} {:.1f} img/s ETA {}", l.loss,
                  l.loc_loss, l.conf_loss, l.lr, l.images_per_second, FormatDuration(eta));
  if (!tty_) return fmt::format("iter {} {}", counts, stats);
  constexpr int kWidth = 24;
  const int filled =
      total_ > 0 ? static_cast<int>(kWidth * static_cast<double>(l.iteration) / total_) : 0;
  return fmt::format("[{}{}] {} {}", std::string(filled, '#'), std::string(kWidth - filled, '.'),
                     counts, stats);
}

void ProgressReporter::Update(const ProgressLine& line) {
  if (stream_ == nullptr) return;
  if (first_iteration_ < 0) {
    first_iteration_ = line.iteration - 1;
    start_ = std::chrono::steady_clock::now();
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t done = line.iteration - first_iteration_;
  // The first iteration's time includes start-up: no estimate from it alone.
  const double eta = done > 1 ? elapsed / done * (total_ - line.iteration) : NAN;
  if (tty_) {
    fmt::print(stream_, "\r{}\033[K", Render(line, eta));
    bar_drawn_ = true;
    std::fflush(stream_);
  } else if (line.iteration % log_interval_ == 0 || line.iteration == total_ || done == 1) {
    fmt::print(stream_, "{}\n", Render(line, eta));
    std::fflush(stream_);
  }
}

void ProgressReporter::Message(const std::string& text) {
  if (stream_ == nullptr) return;
  if (tty_ && bar_drawn_) fmt::print(stream_, "\n");
  bar_drawn_ = false;
  fmt::print(stream_, "{}\n", text);
  std::fflush(stream_);
}

void ProgressReporter::Finish() {
  if (stream_ == nullptr) return;
  if (tty_ && bar_drawn_) fmt::print(stream_, "\n");
  bar_drawn_ = false;
  std::fflush(stream_);
}

}  // namespace scratchdet::engine
