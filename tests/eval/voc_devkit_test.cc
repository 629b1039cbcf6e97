#include "scratchdet/eval/voc_devkit.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::eval {
namespace {

using ::scratchdet::testing::WriteTemp;

TEST(VocDevkitTest, DetectionFileForClassReplacesEveryPlaceholder) {
  EXPECT_EQ(DetectionFileForClass("r/comp4_det_test_{cls}.txt", "dog"), "r/comp4_det_test_dog.txt");
  EXPECT_EQ(DetectionFileForClass("{cls}/{cls}.txt", "cls"), "cls/cls.txt");
  EXPECT_THROW(DetectionFileForClass("r/comp4_det_test.txt", "dog"), Error);
}

TEST(VocDevkitTest, ClassListFromCommasOrFile) {
  EXPECT_EQ(ParseClassList("cat, dog,person"), (std::vector<std::string>{"cat", "dog", "person"}));
  EXPECT_EQ(ParseClassList(WriteTemp("classes.txt", "cat\n\n dog \r\n")),
            (std::vector<std::string>{"cat", "dog"}));
  EXPECT_THROW(ParseClassList("cat,,dog"), Error);
  EXPECT_THROW(ParseClassList("cat,dog,cat"), Error);
  EXPECT_THROW(ParseClassList(WriteTemp("blank.txt", "\n\n")), Error);
}

TEST(VocDevkitTest, ImageSetSkipsBlankLines) {
  EXPECT_EQ(ReadImageSet(WriteTemp("set.txt", "000001\n\n  000002\r\n")),
            (std::vector<std::string>{"000001", "000002"}));
  EXPECT_THROW(ReadImageSet(WriteTemp("emptyset.txt", "\n")), Error);
  EXPECT_THROW(ReadImageSet("/nonexistent/set.txt"), Error);
}

}  // namespace
}  // namespace scratchdet::eval
