// Paths given on the command line of a `bazel run` target: Bazel runs the binary inside its
// runfiles tree, so relative paths are resolved against the folder the user ran bazel from.
#pragma once

#include <string>

namespace scratchdet::report {

// `path` made absolute against BUILD_WORKING_DIRECTORY (set by `bazel run`), else the current
// directory. Empty stays empty.
std::string UserPath(const std::string& path);

// The workspace root (BUILD_WORKSPACE_DIRECTORY under `bazel run`), else the current directory.
std::string WorkspaceRoot();

}  // namespace scratchdet::report
