#include "scratchdet/core/results_layout.h"

#include <gtest/gtest.h>

namespace scratchdet {
namespace {

TEST(ResultsLayoutTest, RunDirectoryIsLowerCaseTableAndSeed) {
  EXPECT_EQ(RunDirectoryPath("/r", "mini", "A", "nobn_lr0.001", 2),
            "/r/mini/table_a/nobn_lr0.001/seed2");
  EXPECT_EQ(RunDirectoryPath("results", "paper", "d", "scratchdet300", 0, "0123456789abcdef"),
            "results/paper/table_d/scratchdet300@01234567/seed0");
}

TEST(ResultsLayoutTest, ParseIsTheInverseOfTheDirectory) {
  const std::string dir = RunDirectoryPath("/x/y", "smoke", "C", "resnet18_a", 17);
  const auto location = ParseRunLocation(dir + "/result.json");
  ASSERT_TRUE(location.has_value());
  EXPECT_EQ(location->profile, "smoke");
  EXPECT_EQ(location->table, "C");
  EXPECT_EQ(location->experiment, "resnet18_a");
  EXPECT_EQ(location->seed, 17);
  EXPECT_FALSE(location->variant);

  const auto variant =
      ParseRunLocation(RunDirectoryPath("r", "mini", "B", "vgg16", 1, "deadbeef00") + "/result.json");
  ASSERT_TRUE(variant.has_value());
  EXPECT_EQ(variant->experiment, "vgg16@deadbeef");
  EXPECT_TRUE(variant->variant);
}

TEST(ResultsLayoutTest, PathsOutsideTheLayoutAreNotParsed) {
  EXPECT_FALSE(ParseRunLocation("mini/table_a/x/result.json"));           // too short
  EXPECT_FALSE(ParseRunLocation("mini/tables_a/x/seed0/result.json"));    // not table_
  EXPECT_FALSE(ParseRunLocation("mini/table_/x/seed0/result.json"));      // no table
  EXPECT_FALSE(ParseRunLocation("mini/table_a/x/seed/result.json"));      // no seed number
  EXPECT_FALSE(ParseRunLocation("mini/table_a/x/seed1b/result.json"));    // not a number
  EXPECT_FALSE(ParseRunLocation("mini/table_a/x/seed99999999999999999999/result.json"));
  EXPECT_TRUE(ParseRunLocation("a/b/mini/table_a/x/seed3/result.json"));  // any root
}

}  // namespace
}  // namespace scratchdet
