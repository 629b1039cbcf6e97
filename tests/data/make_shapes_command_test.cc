// `make-shapes` end to end through the command registry.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/cli/command_runner.h"
#include "tests/data/test_files.h"

namespace scratchdet::cli {
namespace {

TEST(MakeShapesCommandTest, WritesBothFormatsAndPrintsStatistics) {
  const auto dir = data::testing::FreshDir("make_shapes_cli");
  const CommandOutput output = RunCommand({"make-shapes", "--out", dir.string(), "--train", "6",
                                           "--test", "3", "--size", "96", "--seed", "5"});
  ASSERT_EQ(output.status, 0) << output.error;
  EXPECT_NE(output.out.find("trainval: 6 images"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("test: 3 images"), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("small"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "JPEGImages/test_000002.jpg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "Annotations/trainval_000005.xml"));
  EXPECT_TRUE(std::filesystem::exists(dir / "annotations/instances_test.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "classes.txt"));
}

TEST(MakeShapesCommandTest, BadArgumentsFailWithAMessage) {
  const auto dir = data::testing::FreshDir("make_shapes_cli_bad");
  const CommandOutput output = RunCommand({"make-shapes", "--out", dir.string(), "--train", "0"});
  EXPECT_EQ(output.status, 1);
  EXPECT_NE(output.error.find("--train"), std::string::npos) << output.error;
  EXPECT_NE(RunCommand({"make-shapes"}).status, 0);  // --out is required
}

}  // namespace
}  // namespace scratchdet::cli
