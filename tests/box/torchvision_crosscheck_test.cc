// BoxIou and Nms against torchvision (Debian's python3-torchvision, an independent
// implementation) on random boxes: tests/box/torchvision_reference.py computes the expected
// values from files this test writes to $TEST_TMPDIR.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "scratchdet/box/iou.h"
#include "scratchdet/box/postprocess.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::box {
namespace {

void WriteRows(const torch::Tensor& t, const std::string& path) {
  std::ofstream out(path);
  const torch::Tensor c = t.reshape({t.size(0), -1}).contiguous();
  for (int64_t i = 0; i < c.size(0); ++i) {
    for (int64_t j = 0; j < c.size(1); ++j)
      out << (j ? " " : "") << fmt::format("{:.9g}", c[i][j].item<float>());
    out << "\n";
  }
}

std::vector<double> ReadNumbers(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing " << path;
  std::vector<double> values;
  double v;
  while (in >> v) values.push_back(v);
  return values;
}

class TorchvisionCrossCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = ::scratchdet::testing::TempDir();
    torch::manual_seed(11);
    // Clustered boxes so that many pairs overlap; a few degenerate ones (zero width).
    const torch::Tensor centre = torch::rand({300, 2}) * 0.4 + 0.3;
    torch::Tensor size = torch::rand({300, 2}) * 0.3;
    size.narrow(0, 0, 5).select(1, 0).zero_();
    a_ = torch::cat({centre - size / 2, centre + size / 2}, 1);
    const torch::Tensor lo = torch::rand({40, 2});
    b_ = torch::cat({lo, lo + torch::rand({40, 2}) * 0.5}, 1);
    scores_ = torch::randperm(300).to(torch::kFloat) / 300;  // distinct scores
    WriteRows(a_, dir_ + "/a.txt");
    WriteRows(b_, dir_ + "/b.txt");
    WriteRows(scores_.unsqueeze(1), dir_ + "/scores.txt");
    const std::string command =
        "/usr/bin/python3 tests/box/torchvision_reference.py '" + dir_ + "'";
    status_ = std::system(command.c_str());
  }

  static std::string dir_;
  static torch::Tensor a_, b_, scores_;
  static int status_;
};

std::string TorchvisionCrossCheck::dir_;
torch::Tensor TorchvisionCrossCheck::a_, TorchvisionCrossCheck::b_, TorchvisionCrossCheck::scores_;
int TorchvisionCrossCheck::status_ = -1;

TEST_F(TorchvisionCrossCheck, BoxIouMatchesBoxIou) {
  ASSERT_EQ(status_, 0) << "torchvision_reference.py failed";
  const std::vector<double> expected = ReadNumbers(dir_ + "/iou.txt");
  // Text round trip of float32 values: exact to 9 significant digits.
  const torch::Tensor a = torch::tensor(ReadNumbers(dir_ + "/a.txt")).to(torch::kFloat);
  const torch::Tensor iou = BoxIou(a.reshape({-1, 4}), b_).flatten();
  ASSERT_EQ(iou.numel(), static_cast<int64_t>(expected.size()));
  const torch::Tensor reference = torch::tensor(expected).to(torch::kFloat);
  EXPECT_TRUE(torch::allclose(iou, reference, 1e-5, 1e-6))
      << "max difference " << (iou - reference).abs().max().item<float>();
  EXPECT_GT((reference > 0).sum().item<int64_t>(), 100);  // the check covers overlaps
}

TEST_F(TorchvisionCrossCheck, NmsKeepsTheSameIndices) {
  ASSERT_EQ(status_, 0) << "torchvision_reference.py failed";
  for (const std::string threshold : {"0.3", "0.45", "0.7"}) {
    const std::vector<double> expected = ReadNumbers(dir_ + "/keep_" + threshold + ".txt");
    const torch::Tensor keep = Nms(a_, scores_, std::stod(threshold));
    ASSERT_EQ(keep.numel(), static_cast<int64_t>(expected.size())) << "threshold " << threshold;
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_EQ(keep[i].item<int64_t>(), static_cast<int64_t>(expected[i]))
          << "threshold " << threshold << " position " << i;
    EXPECT_LT(keep.numel(), 300);  // something was suppressed
  }
}

}  // namespace
}  // namespace scratchdet::box
