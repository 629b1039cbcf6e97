// Atomic file writes: results and checkpoints are never left half-written.
#pragma once

#include <string>

namespace scratchdet {

// Writes `contents` to `path` through a temporary file in the same directory followed by
// rename(2), so a reader sees either the old file or the complete new one. Creates missing
// parent directories. Throws scratchdet::Error naming the path on failure.
void WriteFileAtomic(const std::string& path, const std::string& contents);

// Reads a whole file; throws scratchdet::Error naming the path when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace scratchdet
