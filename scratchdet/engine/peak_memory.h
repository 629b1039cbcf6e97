// Peak resident memory of this process, for the result JSON.
#pragma once

namespace scratchdet::engine {

// Peak resident set size in MiB since the process started (getrusage).
double PeakResidentMemoryMb();

}  // namespace scratchdet::engine
