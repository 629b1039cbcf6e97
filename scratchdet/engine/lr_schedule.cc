#include "scratchdet/engine/lr_schedule.h"

#include <cmath>

namespace scratchdet::engine {

double LearningRateAt(const LrScheduleOptions& options, int64_t iteration) {
  int decays = 0;
  for (int64_t step : options.steps)
    if (iteration >= step) ++decays;
  double lr = options.base_lr * std::pow(options.gamma, decays);
  if (iteration < options.warmup_iterations) {
    const double alpha = static_cast<double>(iteration) / options.warmup_iterations;
    lr *= options.warmup_factor * (1.0 - alpha) + alpha;
  }
  return lr;
}

}  // namespace scratchdet::engine
