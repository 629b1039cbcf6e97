#include "scratchdet/engine/peak_memory.h"

#include <sys/resource.h>

namespace scratchdet::engine {

double PeakResidentMemoryMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

}  // namespace scratchdet::engine
