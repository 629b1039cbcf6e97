// Files for tests: everything goes under Bazel's per-test $TEST_TMPDIR (/tmp outside Bazel).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace scratchdet::testing {

inline std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// Writes `contents` to TempDir()/name and returns the path.
inline std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = TempDir() + "/" + name;
  std::ofstream(path) << contents;
  return path;
}

}  // namespace scratchdet::testing
