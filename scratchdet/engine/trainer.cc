#include "scratchdet/engine/trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <utility>

namespace scratchdet::engine {

double GradientNorm(const std::vector<torch::Tensor>& parameters) {
  // Each parameter's sum of squares in its own type (as before), added up in double; one host
  // sync for all of them instead of one per parameter (issue 12).
  std::vector<torch::Tensor> squares;
  for (const auto& p : parameters)
    if (p.grad().defined()) squares.push_back(p.grad().detach().pow(2).sum().to(torch::kDouble));
  if (squares.empty()) return 0;
  return std::sqrt(torch::stack(squares).sum().item<double>());
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
    LossScaler* const scaler = options_.loss_scaler;
    for (int micro = 0; micro < steps; ++micro) {
      const torch::Tensor loss = micro_step_(it, micro);
      if (scaler)
        (loss * (scaler->scale() / steps)).backward();
      else
        (loss / steps).backward();
      record.loss += loss.item<double>() / steps;
    }
    for (TrainerHook* hook : hooks_) hook->AfterBackward(*this, it, record);
    bool finite_gradients = true;
    if (scaler) {
      finite_gradients = scaler->Unscale(parameters_);
      scaler->Update(finite_gradients);
      record.skipped_update = !finite_gradients;
    }
    // A skipped fp16 update has no meaningful norm; 0 keeps the curves finite.
    record.grad_norm = finite_gradients ? GradientNorm(parameters_) : 0.0;
    const bool scale_collapsed = scaler && scaler->Collapsed();
    if (!std::isfinite(record.loss) || (!scaler && !std::isfinite(record.grad_norm)) ||
        scale_collapsed) {
      // Paper Table A: without BN, large learning rates diverge; that is a result.
      divergence_ = fmt::format(
          "{} at iteration {} (lr {:.3g})",
          !std::isfinite(record.loss) ? "non-finite loss"
          : scale_collapsed ? fmt::format("gradients overflow at every fp16 loss scale (now {:.3g})",
                                          scaler->scale())
                            : "non-finite gradient norm",
          it + 1, record.lr);
      for (TrainerHook* hook : hooks_) hook->OnDivergence(*this, record, divergence_);
      return TrainOutcome::kDiverged;
    }
    // fp16: an overflow at this loss scale skips the update (GradScaler.step's semantics).
    if (finite_gradients) optimizer_.step();
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (TrainerHook* hook : hooks_) hook->AfterIteration(*this, record);
    if (stop_requested_ && it + 1 < options_.iterations) return TrainOutcome::kStopped;
  }
  return TrainOutcome::kCompleted;
}

}  // namespace scratchdet::engine
