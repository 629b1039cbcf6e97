// The training loop, once: lr schedule, micro-batches with gradient accumulation, backward,
// gradient norm, divergence check, SGD update. What a run does around it (curves, progress,
// periodic evaluation, checkpoints, stop signals, and next gradient synchronisation across
// processes) are hooks. The detector's run (run.cc) and the backbone pretraining
// (pretrain.cc) both train with it.
#pragma once

#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "scratchdet/engine/lr_schedule.h"
#include "scratchdet/engine/precision.h"

namespace scratchdet::engine {

// One finished iteration, as the hooks see it.
struct IterationRecord {
  int64_t iteration = 0;  // iterations done including this one (1-based)
  double lr = 0;          // the learning rate it used
  double loss = 0;        // the loss, mean over its micro-batches
  double grad_norm = 0;   // global L2 norm of the parameters' gradients before the update
                          // (0 for an update skipped by fp16 loss scaling)
  double seconds = 0;     // wall time of the micro-batches, backward and update
  // fp16 loss scaling: the gradients overflowed at the loss scale, so no update was made.
  bool skipped_update = false;
};

class Trainer;

// Every method has an empty default; a hook overrides what it needs. Hooks run in the order
// they were added.
class TrainerHook {
 public:
  virtual ~TrainerHook() = default;
  // Before the first micro-batch of iteration `iteration` (0-based).
  virtual void BeforeIteration(Trainer& trainer, int64_t iteration) {}
  // After the backward passes of an iteration, before the gradient norm, the divergence check
  // and the update: where gradients are synchronised across processes. `record` holds the
  // iteration's loss so far (a data-parallel hook replaces it by the mean over the ranks, so
  // that every rank takes the same divergence decision).
  virtual void AfterBackward(Trainer& trainer, int64_t iteration, IterationRecord& record) {}
  // After the update. A hook may call trainer.RequestStop(): the loop ends after the hooks of
  // this iteration have run (later hooks see trainer.stop_requested()).
  virtual void AfterIteration(Trainer& trainer, const IterationRecord& record) {}
  // A non-finite loss or gradient norm (with a loss scaler: a non-finite loss, or a scale that
  // collapsed): no update was made and the loop ends.
  virtual void OnDivergence(Trainer& trainer, const IterationRecord& record,
                            const std::string& reason) {}
};

struct TrainerOptions {
  int64_t iterations = 0;       // the loop ends when this many are done
  int accumulation_steps = 1;   // micro-batches per update
  LrScheduleOptions schedule;   // lr per iteration (lr_schedule.h)
  // fp16 (precision.h): the loss is scaled before backward and the gradients unscaled after
  // the AfterBackward hooks; an overflow skips the update instead of ending the run. Not
  // owned; null for fp32 and bf16.
  LossScaler* loss_scaler = nullptr;
};

// How a Run ended.
enum class TrainOutcome { kCompleted, kStopped, kDiverged };

class Trainer {
 public:
  // One micro-batch: draws it, runs forward and returns the scalar loss to minimise. The
  // trainer scales it by 1 / accumulation_steps before backward. Arguments: the 0-based
  // iteration and the micro-batch within it.
  using MicroStep = std::function<torch::Tensor(int64_t iteration, int micro_batch)>;

  // `parameters` are the optimizer's parameters (their gradients give the norm).
  Trainer(TrainerOptions options, std::vector<torch::Tensor> parameters,
          torch::optim::SGD& optimizer, MicroStep micro_step);

  // Not owned; must outlive Run.
  void AddHook(TrainerHook* hook) { hooks_.push_back(hook); }

  // Trains from `start_iteration` (iterations already done) to options.iterations, or until a
  // hook requests a stop or an iteration diverges.
  TrainOutcome Run(int64_t start_iteration);

  void RequestStop() { stop_requested_ = true; }
  bool stop_requested() const { return stop_requested_; }
  const TrainerOptions& options() const { return options_; }
  // The reason of a divergence ("non-finite loss at iteration 12 (lr 0.05)"); empty otherwise.
  const std::string& divergence() const { return divergence_; }

 private:
  TrainerOptions options_;
  std::vector<torch::Tensor> parameters_;
  torch::optim::SGD& optimizer_;
  MicroStep micro_step_;
  std::vector<TrainerHook*> hooks_;
  bool stop_requested_ = false;
  std::string divergence_;
};

// Global L2 norm of the gradients of `parameters` (those without a gradient are skipped).
double GradientNorm(const std::vector<torch::Tensor>& parameters);

}  // namespace scratchdet::engine
