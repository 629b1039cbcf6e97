#include "scratchdet/engine/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cstdlib>

#include "scratchdet/core/error.h"

// LibTorch 2.4 replaced the per-backend autocast setters by ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SCRATCHDET_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace scratchdet::engine {
namespace {

bool AutocastEnabled(bool cuda) {
#ifdef SCRATCHDET_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void SetAutocastEnabled(bool cuda, bool enabled) {
#ifdef SCRATCHDET_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled);
#else
  if (cuda)
    at::autocast::set_enabled(enabled);
  else
    at::autocast::set_cpu_enabled(enabled);
#endif
}

c10::ScalarType AutocastType(bool cuda) {
#ifdef SCRATCHDET_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void SetAutocastType(bool cuda, c10::ScalarType type) {
#ifdef SCRATCHDET_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, type);
#else
  if (cuda)
    at::autocast::set_autocast_gpu_dtype(type);
  else
    at::autocast::set_autocast_cpu_dtype(type);
#endif
}

}  // namespace

void ApplyDeterminismSettings(bool cudnn_benchmark, bool deterministic) {
  at::globalContext().setBenchmarkCuDNN(cudnn_benchmark);
  at::globalContext().setDeterministicCuDNN(deterministic);
  at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/true);
  if (deterministic) setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
}

Precision ParsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") return Precision::kFp16;
  Fail("precision '{}': expected fp32, bf16 or fp16", name);
}

std::string PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
  }
  return "?";
}

AutocastScope::AutocastScope(const torch::Device& device, Precision precision) {
  if (precision == Precision::kFp32) return;
  if (precision == Precision::kFp16 && !device.is_cuda())
    Fail("precision fp16 on device '{}': fp16 autocast with loss scaling is for CUDA; use bf16 "
         "on the CPU", device.str());
  active_ = true;
  cuda_ = device.is_cuda();
  was_enabled_ = AutocastEnabled(cuda_);
  was_type_ = AutocastType(cuda_);
  SetAutocastEnabled(cuda_, true);
  SetAutocastType(cuda_, precision == Precision::kBf16 ? at::kBFloat16 : at::kHalf);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The weights cast for this forward are cached while autocast is on; the outermost scope
  // drops them (as torch.autocast's __exit__).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetAutocastEnabled(cuda_, was_enabled_);
  SetAutocastType(cuda_, was_type_);
}

LossScaler::LossScaler(Options options) : options_(options), scale_(options.initial_scale) {
  if (!(options_.initial_scale > 0) || !(options_.growth_factor > 1) ||
      !(options_.backoff_factor > 0 && options_.backoff_factor < 1) ||
      options_.growth_interval < 1)
    Fail("loss scaler: initial_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 and "
         "growth_interval >= 1 are required");
}

bool LossScaler::Unscale(const std::vector<torch::Tensor>& parameters) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> finite;
  for (const torch::Tensor& p : parameters) {
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.mutable_grad();
    g.mul_(1.0 / scale_);
    finite.push_back(torch::isfinite(g).all());
  }
  // One host sync for all parameters.
  return finite.empty() || torch::stack(finite).all().item<bool>();
}

void LossScaler::Update(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff_factor;
    finite_streak_ = 0;
    ++skipped_steps_;
    return;
  }
  if (++finite_streak_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    finite_streak_ = 0;
  }
}

nlohmann::json LossScaler::State() const {
  return {{"scale", scale_}, {"finite_streak", finite_streak_}, {"skipped_steps", skipped_steps_}};
}

void LossScaler::Restore(const nlohmann::json& state) {
  scale_ = state.at("scale").get<double>();
  finite_streak_ = state.at("finite_streak").get<int64_t>();
  skipped_steps_ = state.at("skipped_steps").get<int64_t>();
}

}  // namespace scratchdet::engine
