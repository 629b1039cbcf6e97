#include "scratchdet/engine/peak_memory.h"

#include <sys/resource.h>

#ifdef SCRATCHDET_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace scratchdet::engine {

double PeakResidentMemoryMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

#ifdef SCRATCHDET_WITH_CUDA
namespace {
// "cuda" without an index means the current device; LibTorch 2 rejects index -1.
c10::DeviceIndex CudaIndex(const torch::Device& device) {
  return device.has_index() ? device.index() : c10::cuda::current_device();
}
}  // namespace
#endif

std::optional<double> PeakGpuMemoryMb(const torch::Device& device) {
#ifdef SCRATCHDET_WITH_CUDA
  if (!device.is_cuda()) return std::nullopt;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(CudaIndex(device));
  // allocated_bytes[0]: the aggregate over pool types (StatType::AGGREGATE).
  return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
#else
  (void)device;
  return std::nullopt;
#endif
}

void ResetPeakGpuMemory(const torch::Device& device) {
#ifdef SCRATCHDET_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(CudaIndex(device));
#else
  (void)device;
#endif
}

}  // namespace scratchdet::engine
