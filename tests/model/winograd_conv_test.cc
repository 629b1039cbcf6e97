// The Winograd inference path (scratchdet/model/winograd_conv.h) against torch's convolution:
// which convolutions take it, how close it is, and that a whole detector's detections agree.
#include "scratchdet/model/winograd_conv.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "scratchdet/model/mac_counter.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::model {
namespace {

// max |a - b| / max |b|
double RelativeError(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

torch::nn::Conv2d MakeConv(int64_t in, int64_t out, bool bias, int64_t stride = 1,
                           int64_t dilation = 1) {
  torch::manual_seed(in * 131 + out);
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3)
                               .stride(stride)
                               .padding(dilation)
                               .dilation(dilation)
                               .bias(bias));
}

TEST(WinogradConvTest, AgreesWithTorchsConvolution) {
  struct Case {
    int64_t n, c, k, h, w;
    bool bias, channels_last;
  };
  for (const Case& t : {Case{1, 64, 64, 30, 30, false, true}, Case{2, 32, 48, 17, 13, true, true},
                        Case{1, 256, 128, 9, 9, true, false}, Case{3, 512, 512, 5, 7, false, false},
                        Case{1, 128, 256, 1, 1, true, true}}) {
    torch::nn::Conv2d conv = MakeConv(t.c, t.k, t.bias);
    torch::Tensor x = torch::randn({t.n, t.c, t.h, t.w});
    if (t.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::NoGradGuard no_grad;
    const torch::Tensor expected = conv->forward(x);
    const std::optional<torch::Tensor> got = TryWinogradConv(*conv, x);
    ASSERT_TRUE(got.has_value()) << t.c << "->" << t.k << " at " << t.h << "x" << t.w;
    ASSERT_EQ(got->sizes(), expected.sizes());
    EXPECT_EQ(got->is_contiguous(torch::MemoryFormat::ChannelsLast) && !got->is_contiguous(),
              t.channels_last && t.h * t.w > 1);
    EXPECT_LT(RelativeError(*got, expected), 1e-5) << t.c << "->" << t.k << " at " << t.h << "x" << t.w;
  }
}

TEST(WinogradConvTest, OnlyInferenceOf3x3Stride1ConvsOnWideInputs) {
  const torch::Tensor x = torch::randn({1, 64, 12, 12});
  {
    // Autograd on: training never takes the path.
    torch::nn::Conv2d conv = MakeConv(64, 64, false);
    EXPECT_FALSE(TryWinogradConv(*conv, x).has_value());
  }
  const torch::NoGradGuard no_grad;
  EXPECT_FALSE(TryWinogradConv(*MakeConv(64, 64, false, /*stride=*/2), x).has_value());
  EXPECT_FALSE(TryWinogradConv(*MakeConv(64, 64, false, 1, /*dilation=*/2), x).has_value());
  EXPECT_FALSE(TryWinogradConv(*MakeConv(16, 64, false), torch::randn({1, 16, 12, 12})).has_value());
  EXPECT_FALSE(TryWinogradConv(*MakeConv(64, 64, false), x.to(torch::kFloat64)).has_value());
  torch::nn::Conv2d one_by_one(torch::nn::Conv2dOptions(64, 64, 1));
  EXPECT_FALSE(TryWinogradConv(*one_by_one, x).has_value());
  SetWinogradEnabled(false);
  EXPECT_FALSE(TryWinogradConv(*MakeConv(64, 64, false), x).has_value());
  SetWinogradEnabled(true);
  EXPECT_TRUE(TryWinogradConv(*MakeConv(64, 64, false), x).has_value());
}

TEST(WinogradConvTest, FusedReluIsReluOfTheConvolution) {
  torch::nn::Conv2d conv = MakeConv(48, 40, true);
  const torch::Tensor x = torch::randn({2, 48, 11, 9}).contiguous(torch::MemoryFormat::ChannelsLast);
  const torch::NoGradGuard no_grad;
  const torch::Tensor expected = torch::relu(conv->forward(x));
  const std::optional<torch::Tensor> got = TryWinogradConv(*conv, x, /*relu=*/true);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ((*got < 0).sum().item<int64_t>(), 0);
  EXPECT_GT((*got == 0).sum().item<int64_t>(), 0);
  EXPECT_LT(RelativeError(*got, expected), 1e-5);
}

TEST(WinogradConvTest, FollowsWeightChanges) {
  torch::nn::Conv2d conv = MakeConv(64, 32, true);
  const torch::Tensor x = torch::randn({1, 64, 10, 10});
  const torch::NoGradGuard no_grad;
  ASSERT_TRUE(TryWinogradConv(*conv, x).has_value());
  conv->weight.mul_(-2);  // as an optimizer step or a checkpoint load would change it
  conv->bias.add_(1);
  EXPECT_LT(RelativeError(*TryWinogradConv(*conv, x), conv->forward(x)), 1e-5);
}

// LibTorch's SGD writes through .data(), which does not bump the weights' version: evaluation
// after training steps (whose forwards go through CountedConv) must still see the new weights.
TEST(WinogradConvTest, FollowsOptimizerSteps) {
  torch::nn::Conv2d conv = MakeConv(64, 64, false);
  torch::optim::SGD sgd(conv->parameters(), torch::optim::SGDOptions(0.5).momentum(0.9));
  const torch::Tensor x = torch::randn({1, 64, 8, 8});
  for (int step = 0; step < 3; ++step) {
    {
      const torch::NoGradGuard no_grad;
      ASSERT_LT(RelativeError(*TryWinogradConv(*conv, x), conv->forward(x)), 1e-5) << step;
    }
    sgd.zero_grad();
    CountedConv(conv, x).pow(2).sum().backward();  // a training forward, as every model runs it
    sgd.step();
  }
}

// A model rebuilt in the same process (a resumed run) may get the same module and tensor
// addresses and the same version counts; it must not reuse the old weights' transform.
TEST(WinogradConvTest, ARebuiltModuleDoesNotReuseTheOldWeights) {
  const torch::Tensor x = torch::randn({1, 64, 10, 10});
  const torch::NoGradGuard no_grad;
  for (int round = 0; round < 20; ++round) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(64, 64, 3).padding(1).bias(false));
    conv->weight.normal_(0, 0.1);  // a new tensor, each round with new values
    const std::optional<torch::Tensor> got = TryWinogradConv(*conv, x);
    ASSERT_TRUE(got.has_value());
    ASSERT_LT(RelativeError(*got, conv->forward(x)), 1e-5) << "round " << round;
  }
}

// The default path of Predict: the same detections as with torch's convolutions.
TEST(WinogradConvTest, DetectorPredictionsAgreeWithTheDirectPath) {
  for (const char* preset : {"ssd300_vgg16", "scratchdet300"}) {
    auto model = BuildDetector(nlohmann::json{{"preset", preset}, {"num_classes", 5}}, 3);
    ToChannelsLast(*model);
    torch::manual_seed(4);
    // Eval mode at the initial BN statistics (identity) and inputs of scale 1e-3, so that a
    // random network's box offsets stay far from exp() overflow. (With running statistics
    // taken from a single batch, BN's division by tiny variances magnified the differences to
    // 4e-4 relative on scratchdet300; with identity statistics they are below 1e-4.)
    model->eval();
    const torch::Tensor images = ((torch::rand({2, 3, 300, 300}) * 2 - 1) * 1e-3)
                                     .contiguous(torch::MemoryFormat::ChannelsLast);
    const int64_t before = WinogradCalls();
    const auto fast = model->Predict(images);
    EXPECT_GT(WinogradCalls() - before, 10) << preset;
    SetWinogradEnabled(false);
    const auto direct = model->Predict(images);
    SetWinogradEnabled(true);
    SsdOutput raw_fast, raw_direct;
    {
      const torch::NoGradGuard no_grad;
      raw_fast = model->forward(images);
      SetWinogradEnabled(false);
      raw_direct = model->forward(images);
      SetWinogradEnabled(true);
    }
    EXPECT_LT(RelativeError(raw_fast.loc, raw_direct.loc), 1e-4) << preset;
    EXPECT_LT(RelativeError(raw_fast.conf, raw_direct.conf), 1e-4) << preset;
    ASSERT_EQ(fast.size(), direct.size());
    for (size_t i = 0; i < fast.size(); ++i) {
      // The same detections up to the order of near-ties: equal counts, equal sorted scores,
      // equal sums of the boxes.
      ASSERT_GT(direct[i].scores.size(0), 0) << preset;
      ASSERT_TRUE(torch::isfinite(direct[i].boxes).all().item<bool>()) << preset;
      ASSERT_EQ(fast[i].scores.size(0), direct[i].scores.size(0)) << preset;
      EXPECT_LT((std::get<0>(fast[i].scores.sort(0, true)) -
                 std::get<0>(direct[i].scores.sort(0, true))).abs().max().item<double>(), 1e-4);
      const double count = fast[i].boxes.size(0);
      EXPECT_LT((fast[i].boxes.sum(0) - direct[i].boxes.sum(0)).abs().max().item<double>(),
                1e-4 * count) << preset;
    }
  }
}

}  // namespace
}  // namespace scratchdet::model
