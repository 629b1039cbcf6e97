// Where a number came from: recorded in every result JSON (README, "Result JSON").
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace scratchdet {

// The source tree of a run: BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the current
// directory. Used to find the git commit.
std::string SourceDirectory();

// Current UTC time as ISO 8601 (e.g. "2026-11-24T10:00:00Z").
std::string UtcNow();

// Static provenance: the git commit the binary was built from and whether tracked files
// differed from it (stamped at build time, tools/workspace_status.sh; without a stamp, `git`
// in SourceDirectory(), and "unknown" when that is not a checkout), where the commit came from
// (git_commit_source: "build stamp" | "working directory"), compiler, build mode, LibTorch and
// OpenCV versions, host name.
// The caller adds device, threads and start/end time.
nlohmann::json BuildProvenance();

}  // namespace scratchdet
