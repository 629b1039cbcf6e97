// `scratchdet priors` in-process: prior counts, CSV layout and errors for bad arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "tests/cli/command_runner.h"

namespace scratchdet::cli {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(PriorsCommandTest, Ssd300VocPrints8732PriorsAfterAHeader) {
  const CommandOutput out = RunCommand({"priors", "--config", "ssd300_voc"});
  ASSERT_EQ(out.status, 0) << out.error;
  const std::vector<std::string> lines = Lines(out.out);
  ASSERT_EQ(lines.size(), 8733u);
  EXPECT_EQ(lines[0], "cx,cy,w,h");
  // First prior: centre 4/300, size 30/300 (priors_test has the full worked case).
  std::istringstream first(lines[1]);
  double cx, cy, w, h;
  char c1, c2, c3;
  first >> cx >> c1 >> cy >> c2 >> w >> c3 >> h;
  EXPECT_NEAR(cx, 4.0 / 300, 1e-6);
  EXPECT_NEAR(cy, 4.0 / 300, 1e-6);
  EXPECT_NEAR(w, 0.1, 1e-6);
  EXPECT_NEAR(h, 0.1, 1e-6);
  EXPECT_EQ(std::count(lines[8732].begin(), lines[8732].end(), ','), 3);
}

TEST(PriorsCommandTest, FeatureMapsAndImageSize) {
  // The released Caffe residual tail: 5,5 instead of 3,1 -> 8892 priors.
  CommandOutput out =
      RunCommand({"priors", "--config", "ssd300_voc", "--feature-maps", "38,19,10,5,5,5"});
  ASSERT_EQ(out.status, 0) << out.error;
  EXPECT_EQ(Lines(out.out).size(), 8893u);
  // HxW entries.
  out = RunCommand({"priors", "--config", "ssd300_voc", "--feature-maps", "38x19,19,10,5,3,1"});
  ASSERT_EQ(out.status, 0) << out.error;
  EXPECT_EQ(Lines(out.out).size(), 8733u - 38 * 19 * 4);
  // SSD512 nominal maps 64,32,16,8,4,2,1.
  out = RunCommand({"priors", "--config", "ssd512_voc"});
  ASSERT_EQ(out.status, 0) << out.error;
  EXPECT_EQ(Lines(out.out).size(), 24565u);
  // A 128 input: maps ceil(128 / step) = 16,8,4,2,2,1, i.e.
  // 16*16*4 + 8*8*6 + 4*4*6 + 2*2*6 + 2*2*4 + 1*1*4 = 1024 + 384 + 96 + 24 + 16 + 4 = 1548.
  out = RunCommand({"priors", "--config", "ssd300_voc", "--image-size", "128"});
  ASSERT_EQ(out.status, 0) << out.error;
  EXPECT_EQ(Lines(out.out).size(), 1549u);
}

TEST(PriorsCommandTest, BadArgumentsAreErrorsNamingTheValue) {
  CommandOutput out = RunCommand({"priors", "--config", "ssd301_voc"});
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.error.find("ssd301_voc"), std::string::npos) << out.error;
  out = RunCommand({"priors", "--config", "ssd300_voc", "--feature-maps", "38,19,ten,5,3,1"});
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.error.find("map 3 is 'ten'"), std::string::npos) << out.error;
  out = RunCommand({"priors", "--config", "ssd300_voc", "--feature-maps", "38,19,10"});
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.error.find("3 maps, but prior config 'ssd300_voc' has 6 levels"), std::string::npos)
      << out.error;
  out = RunCommand({"priors", "--config", "ssd300_voc", "--feature-maps", "38,19,0,5,3,1"});
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.error.find("'0'"), std::string::npos) << out.error;
  out = RunCommand({"priors", "--config", "ssd300_voc", "--feature-maps", "38,19,10,5,3,"});
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.error.find("map 6 is ''"), std::string::npos) << out.error;
  out = RunCommand({"priors", "--config", "ssd300_voc", "--image-size", "-3"});
  EXPECT_EQ(out.status, 1);
  EXPECT_NE(out.error.find("--image-size -3"), std::string::npos) << out.error;
  EXPECT_EQ(RunCommand({"priors"}).status, 2);  // --config is required
}

}  // namespace
}  // namespace scratchdet::cli
