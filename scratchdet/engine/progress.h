// Training progress on the terminal: a one-line bar redrawn in place on a TTY, plain log
// lines (one every `log_interval` iterations) otherwise, e.g. under CI or with output piped.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace scratchdet::engine {

struct ProgressLine {
  int64_t iteration = 0;  // completed iterations
  int64_t total = 0;
  double loss = 0, loc_loss = 0, conf_loss = 0;
  double lr = 0;
  double images_per_second = 0;
};

class ProgressReporter {
 public:
  // `stream` defaults to stderr (nullptr: print nothing); `force_tty` overrides the isatty
  // check (tests).
  ProgressReporter(int64_t total, int64_t log_interval, std::FILE* stream = stderr,
                   int force_tty = -1);
  // Called after every iteration; prints when due. The ETA counts from the first update, so a
  // resumed run estimates from the iterations it did itself.
  void Update(const ProgressLine& line);
  // Prints a message on its own line (the bar is redrawn after it).
  void Message(const std::string& text);
  void Finish();
  static std::string FormatDuration(double seconds);

 private:
  std::string Render(const ProgressLine& line, double eta_seconds) const;

  int64_t total_;
  int64_t log_interval_;
  std::FILE* stream_;
  bool tty_;
  bool bar_drawn_ = false;
  int64_t first_iteration_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace scratchdet::engine
