// Files for tests, in one place: everything goes under Bazel's per-test $TEST_TMPDIR (/tmp
// outside Bazel).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace scratchdet::testing {

inline std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// TempDir()/name, emptied and created.
inline std::string FreshDir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(TempDir()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Writes `text` (bytes as given) at `path`, creating its folders; returns the path.
inline std::string WriteText(const std::string& path, const std::string& text) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Writes `contents` to TempDir()/name and returns the path.
inline std::string WriteTemp(const std::string& name, const std::string& contents) {
  return WriteText(TempDir() + "/" + name, contents);
}

}  // namespace scratchdet::testing
