// The Winograd path (scratchdet/model/winograd_conv.h) against torch's convolution, in
// inference and training: which convolutions take it, how close outputs and gradients are, and
// that a whole detector's detections and gradients agree.
#include "scratchdet/model/winograd_conv.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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

// While alive, training runs through torch's direct convolution (the reference path).
class DirectTraining {
 public:
  DirectTraining() { SetWinogradTrainingEnabled(false); }
  ~DirectTraining() { SetWinogradTrainingEnabled(true); }
  DirectTraining(const DirectTraining&) = delete;
  DirectTraining& operator=(const DirectTraining&) = delete;
};

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

TEST(WinogradConvTest, Only3x3Stride1ConvsOnWideInputs) {
  const torch::Tensor x = torch::randn({1, 64, 12, 12});
  {
    // Autograd on: training takes the path unless switched off for training alone.
    torch::nn::Conv2d conv = MakeConv(64, 64, false);
    EXPECT_TRUE(TryWinogradConv(*conv, x).has_value());
    EXPECT_FALSE(TryWinogradConv(*MakeConv(64, 64, false, /*stride=*/2), x).has_value());
    SetWinogradTrainingEnabled(false);
    EXPECT_FALSE(TryWinogradConv(*conv, x).has_value());
    SetWinogradTrainingEnabled(true);
    SetWinogradEnabled(false);
    EXPECT_FALSE(WinogradTrainingEnabled());
    EXPECT_FALSE(TryWinogradConv(*conv, x).has_value());
    SetWinogradEnabled(true);
  }
  const torch::NoGradGuard no_grad;
  SetWinogradTrainingEnabled(false);  // inference does not depend on it
  EXPECT_TRUE(TryWinogradConv(*MakeConv(64, 64, false), x).has_value());
  SetWinogradTrainingEnabled(true);
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

// Training: the output and the gradients of input, weight and bias agree with torch's
// convolution, in both layouts, with and without bias and ReLU, at the kernels' two tile
// sizes (F(2x2,3x3) on wide maps, F(4x4,3x3) on small ones).
TEST(WinogradConvTest, TrainingGradientsAgreeWithTorchsConvolution) {
  struct Case {
    int64_t n, c, k, h, w;
    bool bias, channels_last, relu;
  };
  for (const Case& t : {Case{2, 64, 64, 40, 40, false, true, false},
                        Case{2, 32, 48, 25, 27, true, true, true},
                        Case{1, 256, 128, 13, 12, true, false, false},
                        Case{3, 128, 256, 14, 17, false, false, true},
                        Case{4, 64, 32, 12, 12, true, true, false}}) {
    const std::string name = fmt::format("{}x{}->{} at {}x{} bias {} cl {} relu {}", t.n, t.c,
                                         t.k, t.h, t.w, t.bias, t.channels_last, t.relu);
    torch::nn::Conv2d conv = MakeConv(t.c, t.k, t.bias);
    if (t.channels_last) ToChannelsLast(*conv);
    torch::Tensor x0 = torch::randn({t.n, t.c, t.h, t.w});
    if (t.channels_last) x0 = x0.contiguous(torch::MemoryFormat::ChannelsLast);
    const torch::Tensor probe = torch::randn({t.n, t.k, t.h, t.w});
    struct Result {
      torch::Tensor y, dx, dw, db;
    };
    const auto run = [&](bool winograd) {
      std::optional<DirectTraining> direct;
      if (!winograd) direct.emplace();
      conv->zero_grad();
      const torch::Tensor x = x0.detach().clone().requires_grad_(true);
      const int64_t before = WinogradCalls();
      torch::Tensor y = CountedConv(conv, x, t.relu);
      EXPECT_EQ(WinogradCalls() - before, winograd ? 1 : 0) << name;
      (y * probe).sum().backward();
      return Result{y.detach(), x.grad(), conv->weight.grad().clone(),
                    t.bias ? conv->bias.grad().clone() : torch::Tensor()};
    };
    const Result direct = run(false), fast = run(true);
    EXPECT_LT(RelativeError(fast.y, direct.y), 1e-5) << name;
    EXPECT_LT(RelativeError(fast.dx, direct.dx), 1e-5) << name;
    EXPECT_LT(RelativeError(fast.dw, direct.dw), 1e-5) << name;
    if (t.bias) {
      EXPECT_LT(RelativeError(fast.db, direct.db), 1e-5) << name;
    }
    // Layouts as torch's: channels-last stays channels-last, the weight gradient is laid out
    // as the weight.
    EXPECT_EQ(fast.y.strides(), direct.y.strides()) << name;
    EXPECT_EQ(fast.dx.strides(), x0.strides()) << name;
    EXPECT_EQ(fast.dw.strides(), conv->weight.strides()) << name;
  }
}

// Training takes the path only where it is faster than the direct kernels: from 12 x 12
// maps with 64 channels, from 24 x 24 with 32.
TEST(WinogradConvTest, TrainingOnlyOnMapsWhereItPays) {
  const auto taken = [](int64_t channels, int64_t h, int64_t w) {
    return TryWinogradConv(*MakeConv(channels, 64, false), torch::randn({2, channels, h, w}))
        .has_value();
  };
  EXPECT_TRUE(taken(64, 12, 12));
  EXPECT_FALSE(taken(64, 11, 40));
  EXPECT_FALSE(taken(48, 12, 23));
  EXPECT_TRUE(taken(48, 24, 24));
  EXPECT_TRUE(taken(32, 24, 30));
  const torch::NoGradGuard no_grad;  // inference: from 32 channels at any size
  EXPECT_TRUE(taken(32, 5, 5));
}

// Bit-reproducible, as an exactly resumed run needs: the same step twice, the same bits.
TEST(WinogradConvTest, TrainingIsDeterministic) {
  torch::nn::Conv2d conv = MakeConv(128, 128, true);
  ToChannelsLast(*conv);
  const torch::Tensor x0 =
      torch::randn({4, 128, 30, 30}).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto step = [&] {
    conv->zero_grad();
    const torch::Tensor x = x0.clone().requires_grad_(true);
    const torch::Tensor y = CountedConv(conv, x, /*relu=*/true);
    y.pow(2).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), x.grad(), conv->weight.grad().clone(),
                                      conv->bias.grad().clone()};
  };
  const int64_t before = WinogradCalls();
  const auto first = step(), second = step();
  EXPECT_EQ(WinogradCalls() - before, 2);
  for (size_t i = 0; i < first.size(); ++i) EXPECT_TRUE(torch::equal(first[i], second[i])) << i;
}

// Gradients only for what needs them: a frozen weight, an input that is data.
TEST(WinogradConvTest, TrainingGradientsOnlyWhereNeeded) {
  torch::nn::Conv2d conv = MakeConv(64, 64, true);
  const torch::Tensor probe = torch::randn({2, 64, 12, 12});
  {
    const torch::Tensor x = torch::randn({2, 64, 12, 12});  // data: no gradient
    const int64_t before = WinogradCalls();
    (CountedConv(conv, x) * probe).sum().backward();
    EXPECT_EQ(WinogradCalls() - before, 1);
    const torch::Tensor dw = conv->weight.grad().clone();
    conv->zero_grad();
    {
      const DirectTraining direct;
      (CountedConv(conv, x) * probe).sum().backward();
    }
    EXPECT_LT(RelativeError(dw, conv->weight.grad()), 1e-5);
    conv->zero_grad();
  }
  conv->weight.set_requires_grad(false);
  conv->bias.set_requires_grad(false);
  conv->weight.mutable_grad().reset();
  conv->bias.mutable_grad().reset();
  const torch::Tensor x = torch::randn({2, 64, 12, 12}).requires_grad_(true);
  (CountedConv(conv, x) * probe).sum().backward();
  const torch::Tensor dx = x.grad().clone();
  EXPECT_FALSE(conv->weight.grad().defined());
  x.mutable_grad().reset();
  {
    const DirectTraining direct;
    (CountedConv(conv, x) * probe).sum().backward();
  }
  EXPECT_LT(RelativeError(dx, x.grad()), 1e-5);
}

// A second derivative through the Winograd path is refused, with the way out named.
TEST(WinogradConvTest, DoubleBackwardIsRefused) {
  torch::nn::Conv2d conv = MakeConv(64, 64, false);
  const torch::Tensor x = torch::randn({1, 64, 12, 12}).requires_grad_(true);
  const torch::Tensor y = CountedConv(conv, x);
  try {
    torch::autograd::grad({y.pow(2).sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true);
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("SCRATCHDET_WINOGRAD=inference"), std::string::npos)
        << e.what();
  }
  // A first derivative of the same graph still works.
  const auto dx = torch::autograd::grad({y.pow(2).sum()}, {x});
  EXPECT_TRUE(dx[0].defined());
}

// A whole detector's training step: every parameter's gradient is as close to the exact one
// (the same model in float64) as the direct path's float32 gradient is, within a factor 4
// (VGG16-SSD without BN, at random initialisation, where rounding grows through 15 layers in
// both paths alike: measured, the direct path is 1e-7..1.3e-3 from exact, Winograd 2e-7..1.9e-3;
// a wrong gradient would be off by order 1).
TEST(WinogradConvTest, DetectorTrainingStepAgreesWithTheDirectPath) {
  const nlohmann::json config = {{"preset", "ssd300_vgg16"}, {"num_classes", 5}};
  auto model = BuildDetector(config, 3);
  auto exact = BuildDetector(config, 3);
  exact->to(torch::kFloat64);
  ToChannelsLast(*model);
  model->train();
  exact->train();
  torch::manual_seed(5);
  const torch::Tensor images =
      (torch::rand({1, 3, 300, 300}) * 2 - 1).contiguous(torch::MemoryFormat::ChannelsLast);
  const auto grads = [](SsdDetectorImpl& detector, const torch::Tensor& x) {
    detector.zero_grad();
    const SsdOutput out = detector.forward(x);
    (out.loc.pow(2).mean() + out.conf.pow(2).mean()).backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : detector.parameters()) g.push_back(p.grad().to(torch::kFloat64));
    return g;
  };
  const auto reference = grads(*exact, images.to(torch::kFloat64));
  int64_t before = WinogradCalls();
  std::vector<torch::Tensor> direct;
  {
    const DirectTraining direct_training;
    direct = grads(*model, images);
  }
  EXPECT_EQ(WinogradCalls(), before);
  before = WinogradCalls();
  const auto fast = grads(*model, images);
  EXPECT_GT(WinogradCalls() - before, 10);
  ASSERT_EQ(direct.size(), fast.size());
  for (size_t i = 0; i < direct.size(); ++i) {
    // In norm rather than max: a ReLU or max-pool decision flipped by rounding reroutes single
    // gradient entries in either path.
    const double direct_error = ((direct[i] - reference[i]).norm() / reference[i].norm()).item<double>();
    const double fast_error = ((fast[i] - reference[i]).norm() / reference[i].norm()).item<double>();
    EXPECT_LT(fast_error, std::max(1e-5, 4 * direct_error))
        << "parameter " << i << ": direct's error " << direct_error;
  }
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
