// Peak memory of this process, for the result JSON.
#pragma once

#include <torch/torch.h>

#include <optional>

namespace scratchdet::engine {

// Peak resident set size in MiB since the process started (getrusage).
double PeakResidentMemoryMb();

// Peak memory allocated by LibTorch on the CUDA device `device` (torch.cuda.max_memory_allocated)
// in MiB; nullopt in a build without CUDA (the libtorch repository defines
// SCRATCHDET_WITH_CUDA when it links libc10_cuda).
std::optional<double> PeakGpuMemoryMb(const torch::Device& device);

// Starts PeakGpuMemoryMb's peak afresh (torch.cuda.reset_peak_memory_stats); no effect on a
// non-CUDA device or in a build without CUDA.
void ResetPeakGpuMemory(const torch::Device& device);

}  // namespace scratchdet::engine
