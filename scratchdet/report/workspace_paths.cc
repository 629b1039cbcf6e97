#include "scratchdet/report/workspace_paths.h"

#include <cstdlib>
#include <filesystem>

namespace scratchdet::report {

namespace fs = std::filesystem;

std::string UserPath(const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  const char* working = std::getenv("BUILD_WORKING_DIRECTORY");
  const fs::path base = working && *working ? fs::path(working) : fs::current_path();
  return (base / path).lexically_normal().string();
}

std::string WorkspaceRoot() {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return workspace && *workspace ? std::string(workspace) : fs::current_path().string();
}

}  // namespace scratchdet::report
