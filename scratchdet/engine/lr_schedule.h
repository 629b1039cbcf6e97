// Learning-rate schedule: linear warmup then multi-step decay (paper.md, "Training recipe":
// x0.1 at 40k/75k/90k; the mmdetection port's 500-iteration warmup from lr/3).
#pragma once

#include <cstdint>
#include <vector>

namespace scratchdet::engine {

struct LrScheduleOptions {
  double base_lr = 0.05;
  int64_t warmup_iterations = 0;   // 0: no warmup
  double warmup_factor = 1.0 / 3;  // lr at iteration 0 is base_lr * warmup_factor
  std::vector<int64_t> steps;      // iterations at which lr is multiplied by gamma
  double gamma = 0.1;
};

// Learning rate for (0-based) iteration `iteration`: during warmup it rises linearly from
// base_lr * warmup_factor to base_lr; then it is base_lr * gamma^(number of steps <= iteration).
double LearningRateAt(const LrScheduleOptions& options, int64_t iteration);

}  // namespace scratchdet::engine
