// Process-wide allocator tuning for training binaries.
#pragma once

namespace scratchdet::core {

// glibc serves blocks above its mmap threshold (128 KiB at first, adaptive up to 32 MiB) with
// fresh mmap'd pages and returns them on free, so every activation tensor of a training step is
// page-faulted in again: ScratchDet300 at the mini profile's 64 px took 2.0 M page faults and
// 17.5 s of system time in 300 iterations. Keeping blocks up to 32 MiB in the heap and trimming
// only above 256 MiB cut that to 50 k faults, 1.3 s, and the wall time from 50.1 s to 27.7 s,
// with bit-identical losses (benchmarks/README.md, "Allocator"). Leaves the settings alone when
// MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ is set in the environment. No-op elsewhere.
void TuneAllocatorForTraining();

}  // namespace scratchdet::core
