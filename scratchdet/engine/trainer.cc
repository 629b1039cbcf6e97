#include "scratchdet/engine/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <utility>

namespace scratchdet::engine {

double GradientNorm(const std::vector<torch::Tensor>& parameters) {
  double sum = 0;
  for (const auto& p : parameters)
    if (p.grad().defined()) sum += p.grad().detach().pow(2).sum().item<double>();
  return std::sqrt(sum);
}

Trainer::Trainer(TrainerOptions options, std::vector<torch::Tensor> parameters,
                 torch::optim::SGD& optimizer, MicroStep micro_step)
    : options_(std::move(options)),
      parameters_(std::move(parameters)),
      optimizer_(optimizer),
      micro_step_(std::move(micro_step)) {}

TrainOutcome Trainer::Run(int64_t start_iteration) {
  stop_requested_ = false;
  divergence_.clear();
  const int steps = options_.accumulation_steps;
  for (int64_t it = start_iteration; it < options_.iterations; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    IterationRecord record;
    record.iteration = it + 1;
    record.lr = LearningRateAt(options_.schedule, it);
    for (auto& group : optimizer_.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(record.lr);
    for (TrainerHook* hook : hooks_) hook->BeforeIteration(*this, it);
    optimizer_.zero_grad();
    for (int micro = 0; micro < steps; ++micro) {
      const torch::Tensor loss = micro_step_(it, micro);
      (loss / steps).backward();
      record.loss += loss.item<double>() / steps;
    }
    for (TrainerHook* hook : hooks_) hook->AfterBackward(*this, it, record);
    record.grad_norm = GradientNorm(parameters_);
    if (!std::isfinite(record.loss) || !std::isfinite(record.grad_norm)) {
      // Paper Table A: without BN, large learning rates diverge; that is a result.
      divergence_ = fmt::format("{} at iteration {} (lr {:.3g})",
                                std::isfinite(record.loss) ? "non-finite gradient norm"
                                                           : "non-finite loss",
                                it + 1, record.lr);
      for (TrainerHook* hook : hooks_) hook->OnDivergence(*this, record, divergence_);
      return TrainOutcome::kDiverged;
    }
    optimizer_.step();
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (TrainerHook* hook : hooks_) hook->AfterIteration(*this, record);
    if (stop_requested_ && it + 1 < options_.iterations) return TrainOutcome::kStopped;
  }
  return TrainOutcome::kCompleted;
}

}  // namespace scratchdet::engine
