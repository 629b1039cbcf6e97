#include "scratchdet/core/atomic_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"

namespace scratchdet {
namespace {

using ::scratchdet::testing::TempDir;

TEST(AtomicFileTest, WritesCreatesParentsAndReplaces) {
  const std::string path = TempDir() + "/a/b/result.json";
  WriteFileAtomic(path, "first");
  EXPECT_EQ(ReadFile(path), "first");
  WriteFileAtomic(path, "second, longer contents");
  EXPECT_EQ(ReadFile(path), "second, longer contents");
  // No temporary left beside the file.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(TempDir() + "/a/b")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFileTest, ErrorsNameThePath) {
  try {
    ReadFile(TempDir() + "/does/not/exist.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does/not/exist.json"), std::string::npos);
  }
  // A directory in place of the file cannot be replaced by rename.
  std::filesystem::create_directories(TempDir() + "/dir_target");
  EXPECT_THROW(WriteFileAtomic(TempDir() + "/dir_target", "x"), Error);
}

}  // namespace
}  // namespace scratchdet
