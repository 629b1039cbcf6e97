// Training precision (engine/precision.h): autocast scopes on the CPU, the fp32 loss of a bf16
// forward, and fp16's dynamic loss scale driven through the Trainer (its semantics are
// device-independent, so they are checked here with fp32 tensors on the CPU).
#include "scratchdet/engine/precision.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "scratchdet/engine/trainer.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/error_of.h"

namespace scratchdet::engine {
namespace {

TEST(PrecisionTest, NamesRoundTripAndBadNamesAreRefused) {
  for (const char* name : {"fp32", "bf16", "fp16"})
    EXPECT_EQ(PrecisionName(ParsePrecision(name)), name);
  EXPECT_NE(::scratchdet::testing::ErrorOf([] { ParsePrecision("half"); })
                .find("precision 'half': expected fp32, bf16 or fp16"),
            std::string::npos);
}

TEST(PrecisionTest, Bf16ScopeAutocastsConvolutionsOnTheCpuAndRestores) {
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3));
  const torch::Tensor x = torch::randn({1, 3, 8, 8});
  EXPECT_EQ(conv(x).scalar_type(), torch::kFloat);
  {
    const AutocastScope fp32(torch::kCPU, Precision::kFp32);  // does nothing
    EXPECT_EQ(conv(x).scalar_type(), torch::kFloat);
  }
  torch::Tensor low;
  {
    const AutocastScope bf16(torch::kCPU, Precision::kBf16);
    low = conv(x);
    EXPECT_EQ(low.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(conv->weight.scalar_type(), torch::kFloat);  // the weights stay fp32
  }
  EXPECT_EQ(conv(x).scalar_type(), torch::kFloat);  // restored
  // bf16 keeps 8 bits of mantissa: the result agrees with fp32 to about 1 %.
  const torch::Tensor exact = conv(x);
  EXPECT_LT((low.to(torch::kFloat) - exact).abs().max().item<float>(),
            0.02 * exact.abs().max().item<float>() + 1e-3);
  EXPECT_NE(::scratchdet::testing::ErrorOf([] { AutocastScope s(torch::kCPU, Precision::kFp16); })
                .find("precision fp16 on device 'cpu'"),
            std::string::npos);
}

// A detector's loss under bf16: fp32, finite, within a few per cent of the fp32 loss, and its
// gradients are fp32 and finite.
TEST(PrecisionTest, ADetectorLossUnderBf16IsFp32AndCloseToFp32) {
  model::SsdDetector detector = model::BuildDetector(
      nlohmann::json{{"preset", "scratchdet300"},
                     {"extras_tail", "mmdet"},
                     {"prior_config", "ssd_mini96"},
                     {"width_multiplier", 0.25}},
      /*seed=*/5);
  detector->eval();  // BN from its running statistics: the same function for both passes
  torch::manual_seed(1);
  const torch::Tensor images = torch::randn({2, 3, 96, 96});
  const std::vector<torch::Tensor> boxes = {
      torch::tensor({{0.1f, 0.1f, 0.9f, 0.95f}}),
      torch::tensor({{0.05f, 0.05f, 0.2f, 0.18f}, {0.5f, 0.4f, 0.8f, 0.9f}})};
  const std::vector<torch::Tensor> labels = {torch::tensor({3}, torch::kInt64),
                                             torch::tensor({1, 7}, torch::kInt64)};
  const double fp32 = detector->Loss(images, boxes, labels).terms.total.item<double>();
  torch::Tensor total;
  {
    const AutocastScope bf16(torch::kCPU, Precision::kBf16);
    total = detector->Loss(images, boxes, labels).terms.total;
  }
  EXPECT_EQ(total.scalar_type(), torch::kFloat);
  EXPECT_NEAR(total.item<double>(), fp32, 0.05 * fp32);
  EXPECT_NE(total.item<double>(), fp32);  // the forward really ran in bf16
  total.backward();
  for (const torch::Tensor& p : detector->parameters()) {
    if (!p.grad().defined()) continue;
    EXPECT_EQ(p.grad().scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
}

// A one-parameter problem: loss = (w * x - y)^2 with gradient 2 x (w x - y).
struct Problem {
  torch::Tensor w = torch::full({1}, 0.5f, torch::requires_grad());
  torch::optim::SGD optimizer{std::vector<torch::Tensor>{w}, torch::optim::SGDOptions(0.01)
                                                                  .momentum(0.9)};
  float x, y;
  Problem(float x_, float y_) : x(x_), y(y_) {}
  Trainer MakeTrainer(int64_t iterations, LossScaler* scaler) {
    TrainerOptions options;
    options.iterations = iterations;
    options.schedule.base_lr = 0.01;
    options.loss_scaler = scaler;
    return Trainer(options, {w}, optimizer, [this](int64_t, int) { return (w * x - y).pow(2).sum(); });
  }
};

struct Records : TrainerHook {
  std::vector<IterationRecord> all;
  void AfterIteration(Trainer&, const IterationRecord& r) override { all.push_back(r); }
};

TEST(LossScalerTest, APowerOfTwoScaleGivesTheUnscaledSteps) {
  Problem plain(1.5f, 2.0f), scaled(1.5f, 2.0f);
  plain.MakeTrainer(5, nullptr).Run(0);
  LossScaler::Options options;
  options.initial_scale = 1024;
  LossScaler scaler(options);
  Trainer trainer = scaled.MakeTrainer(5, &scaler);
  Records records;
  trainer.AddHook(&records);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kCompleted);
  EXPECT_TRUE(torch::equal(plain.w, scaled.w)) << plain.w << scaled.w;
  EXPECT_NE(plain.w.item<float>(), 0.5f);
  ASSERT_EQ(records.all.size(), 5u);
  EXPECT_FALSE(records.all[0].skipped_update);
  EXPECT_EQ(scaler.skipped_steps(), 0);
  EXPECT_EQ(scaler.scale(), 1024);
}

TEST(LossScalerTest, AnOverflowSkipsTheUpdateAndHalvesTheScale) {
  // Gradient 2 * 100 * (0.5 * 100 - 0) = 1e4: scaled by 1e35 or 5e34 it overflows fp32
  // (max 3.4e38); by 2.5e34 it fits.
  Problem p(100.0f, 0.0f);
  LossScaler::Options options;
  options.initial_scale = 1e35;
  options.min_scale = 1.0;
  LossScaler scaler(options);
  Trainer trainer = p.MakeTrainer(1, &scaler);
  Records records;
  trainer.AddHook(&records);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kCompleted);
  EXPECT_EQ(p.w.item<float>(), 0.5f);  // no update
  ASSERT_EQ(records.all.size(), 1u);
  EXPECT_TRUE(records.all[0].skipped_update);
  EXPECT_EQ(records.all[0].grad_norm, 0.0);
  EXPECT_DOUBLE_EQ(records.all[0].loss, 2500.0);  // the unscaled loss
  EXPECT_EQ(scaler.skipped_steps(), 1);
  EXPECT_DOUBLE_EQ(scaler.scale(), 5e34);
  // One more overflow, then the updates resume at 2.5e34, with the unscaled gradient.
  Trainer more = p.MakeTrainer(3, &scaler);
  more.AddHook(&records);
  EXPECT_EQ(more.Run(1), TrainOutcome::kCompleted);
  ASSERT_EQ(records.all.size(), 3u);
  EXPECT_TRUE(records.all[1].skipped_update);
  EXPECT_FALSE(records.all[2].skipped_update);
  EXPECT_NEAR(records.all[2].grad_norm, 1e4, 1.0);
  EXPECT_EQ(scaler.skipped_steps(), 2);
  EXPECT_DOUBLE_EQ(scaler.scale(), 2.5e34);
  EXPECT_NE(p.w.item<float>(), 0.5f);
}

TEST(LossScalerTest, GradientsThatOverflowAtEveryScaleAreADivergence) {
  Problem p(100.0f, 0.0f);
  LossScaler::Options options;
  options.initial_scale = 1e38;
  options.min_scale = 3e37;  // 1e38 -> 5e37 -> 2.5e37 < 3e37: collapsed at the second overflow
  LossScaler scaler(options);
  Trainer trainer = p.MakeTrainer(10, &scaler);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kDiverged);
  EXPECT_NE(trainer.divergence().find("gradients overflow at every fp16 loss scale (now 2.5e+37) "
                                      "at iteration 2"),
            std::string::npos)
      << trainer.divergence();
  EXPECT_EQ(p.w.item<float>(), 0.5f);
}

TEST(LossScalerTest, TheScaleGrowsAfterAStreakOfFiniteStepsAndRoundTripsItsState) {
  LossScaler::Options options;
  options.initial_scale = 4;
  options.growth_interval = 2;
  LossScaler scaler(options);
  scaler.Update(true);
  EXPECT_EQ(scaler.scale(), 4);
  scaler.Update(true);
  EXPECT_EQ(scaler.scale(), 8);
  scaler.Update(true);
  scaler.Update(false);  // an overflow resets the streak
  EXPECT_EQ(scaler.scale(), 4);
  scaler.Update(true);
  EXPECT_EQ(scaler.scale(), 4);
  LossScaler restored(options);
  restored.Restore(scaler.State());
  EXPECT_EQ(restored.State(), scaler.State());
  restored.Update(true);
  scaler.Update(true);
  EXPECT_EQ(restored.scale(), 8);
  EXPECT_EQ(restored.State(), scaler.State());
  options.backoff_factor = 1.5;
  EXPECT_NE(::scratchdet::testing::ErrorOf([&] { LossScaler bad(options); }).find("backoff"),
            std::string::npos);
}

}  // namespace
}  // namespace scratchdet::engine
