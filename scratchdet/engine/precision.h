// Training precision (issue 14): fp32 (the default, the paper's), bf16 and fp16 autocast of the
// forward pass, and fp16's dynamic loss scale. Weights, optimizer state, the loss and the
// evaluation stay fp32: the setting changes only the arithmetic of the training forward
// (and, through it, the backward).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace scratchdet::engine {

enum class Precision { kFp32, kBf16, kFp16 };

// run.cudnn_benchmark and run.deterministic (train_config.h) for this process: cuDNN's
// algorithm search, and deterministic algorithms in cuDNN and ATen (warning, not failing, for
// an op without one; CUBLAS_WORKSPACE_CONFIG=:4096:8 unless already set, before CUDA starts).
void ApplyDeterminismSettings(bool cudnn_benchmark, bool deterministic);

// "fp32" | "bf16" | "fp16"; anything else throws scratchdet::Error naming the value.
Precision ParsePrecision(const std::string& name);
std::string PrecisionName(Precision precision);

// While alive, ops on `device` run under autocast to the precision's type (convolutions and
// matrix products in bf16/fp16; reductions and losses in fp32, as torch.autocast). fp32 does
// nothing. Restores the previous autocast state on exit. Not reentrant across devices.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  c10::ScalarType was_type_ = c10::ScalarType::Undefined;
};

// fp16's dynamic loss scale (the semantics of torch.cuda.amp.GradScaler): the loss is
// multiplied by scale() before backward; Unscale() divides the gradients by it and reports
// whether all are finite; Update() then halves the scale after an overflow (the step is
// skipped) or doubles it after `growth_interval` finite steps in a row.
class LossScaler {
 public:
  struct Options {
    double initial_scale = 65536.0;  // 2^16, as GradScaler
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    int64_t growth_interval = 2000;
    // Below this the gradients overflow even unscaled: the run has diverged.
    double min_scale = 1.0 / 65536.0;
  };
  LossScaler() : LossScaler(Options()) {}
  explicit LossScaler(Options options);

  double scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_steps_; }
  // Divides every defined gradient by scale(); true when all of them are finite.
  bool Unscale(const std::vector<torch::Tensor>& parameters) const;
  // After Unscale: `finite` false lowers the scale and counts a skipped step.
  void Update(bool finite);
  bool Collapsed() const { return scale_ < options_.min_scale; }

  // For the checkpoint: a resumed run continues with the same scale and streak.
  nlohmann::json State() const;
  void Restore(const nlohmann::json& state);

 private:
  Options options_;
  double scale_;
  int64_t finite_streak_ = 0;
  int64_t skipped_steps_ = 0;
};

}  // namespace scratchdet::engine
