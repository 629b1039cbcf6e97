// The fast path of 3x3 convolutions on the CPU (issue 12): oneDNN's Winograd kernels
// (F(4x4, 3x3) and F(2x2, 3x3) on AVX-512), which do 2.2-2.6x fewer multiplications than the
// direct convolution LibTorch 1.13 calls. On this machine a 512 -> 512 conv at 38 x 38 takes
// 8.3 ms instead of 19.5 (benchmarks/README.md, "Winograd").
//
// Used where it applies: float32 on the CPU, kernel 3x3, stride 1, padding 1, dilation 1, one
// group, at least kWinogradMinChannels input channels (below that the direct kernel is faster),
// and a shape oneDNN has a Winograd kernel for. Everything else -- CUDA, other convs -- takes
// torch's convolution.
//   - Inference (autograd off: Predict, evaluation, detect): forward_inference with the weights
//     transformed once and cached, the ReLU fused into the kernel, F(4x4, 3x3) preferred.
//   - Training (autograd on): an autograd function over oneDNN's forward_training,
//     backward_data and backward_weights Winograd kernels; the weights are transformed inside
//     the kernels at every step. Only on maps where that beats the direct kernels (from
//     12 x 12 with 64 channels, from 24 x 24 with 32; smaller maps are mostly tile padding).
// The results agree with torch's convolution to about 1e-5 relative, gradients included
// (tests/model/winograd_conv_test.cc), but they are not bit-identical, so a training run's
// numbers differ from a direct-convolution run's by the usual float-order noise.
// SCRATCHDET_WINOGRAD=0 in the environment turns the path off, SCRATCHDET_WINOGRAD=inference
// keeps it for inference only (training exactly as torch's convolution); SetWinogradEnabled /
// SetWinogradTrainingEnabled do the same in code. A build without oneDNN's headers
// (tools/gpu_check.sh, for a pip LibTorch whose oneDNN is internal) has no such path.
#pragma once

#include <torch/torch.h>

#include <optional>

namespace scratchdet::model {

constexpr int64_t kWinogradMinChannels = 32;

// The convolution of `input` by `conv` through Winograd when the conditions above hold,
// followed by a ReLU when `relu` (fused into the kernel for inference, in place for training);
// nullopt otherwise (the caller runs conv->forward). With autograd on, the result is
// differentiable in input, weight and bias.
std::optional<torch::Tensor> TryWinogradConv(const torch::nn::Conv2dImpl& conv,
                                             const torch::Tensor& input, bool relu = false);

// For inference, the transformed weights are cached per module and input shape, and made again when the
// weight tensor, its storage or its version changed, or when any training forward ran through
// CountedConv since (LibTorch's SGD updates weights through .data(), unseen by the version).
// A weight changed in place through .data() outside training is not noticed.

// Process-wide switches (default: both on, see SCRATCHDET_WINOGRAD above); for comparisons.
void SetWinogradEnabled(bool enabled);
bool WinogradEnabled();
// Training through Winograd; takes effect only while WinogradEnabled().
void SetWinogradTrainingEnabled(bool enabled);
bool WinogradTrainingEnabled();

// How many convolutions took the Winograd path since the start, inference and training
// forwards (for tests and benchmarks).
int64_t WinogradCalls();

}  // namespace scratchdet::model
