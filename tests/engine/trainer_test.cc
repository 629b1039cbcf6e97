// The training loop on a one-parameter model whose SGD steps are computed by hand.
#include "scratchdet/engine/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace scratchdet::engine {
namespace {

// w starts at 0; a micro-batch's loss is (w - target)^2, so its gradient is 2 (w - target).
struct Quadratic {
  torch::Tensor w = torch::zeros({1}, torch::requires_grad());
  torch::optim::SGD optimizer{std::vector<torch::Tensor>{w}, torch::optim::SGDOptions(0.1)};
  double value() const { return w.item<double>(); }
};

TrainerOptions Options(int64_t iterations, int accumulation_steps = 1) {
  TrainerOptions o;
  o.iterations = iterations;
  o.accumulation_steps = accumulation_steps;
  o.schedule.base_lr = 0.1;
  return o;
}

// Records every call, to check the order and what each hook sees.
struct Recorder : TrainerHook {
  Recorder(std::string name, std::vector<std::string>& log) : name(std::move(name)), log(log) {}
  void BeforeIteration(Trainer&, int64_t it) override {
    log.push_back(name + ".before" + std::to_string(it));
  }
  void AfterBackward(Trainer&, int64_t it, IterationRecord&) override {
    log.push_back(name + ".backward" + std::to_string(it));
  }
  void AfterIteration(Trainer& trainer, const IterationRecord& r) override {
    log.push_back(name + ".after" + std::to_string(r.iteration) +
                  (trainer.stop_requested() ? "(stop)" : ""));
    records.push_back(r);
  }
  void OnDivergence(Trainer&, const IterationRecord& r, const std::string& reason) override {
    log.push_back(name + ".diverged" + std::to_string(r.iteration));
    diverged_reason = reason;
  }
  std::string name;
  std::vector<std::string>& log;
  std::vector<IterationRecord> records;
  std::string diverged_reason;
};

TEST(TrainerTest, StepsAreSgdOnTheLossComputedByHand) {
  Quadratic q;
  Trainer trainer(Options(2), {q.w}, q.optimizer,
                  [&](int64_t, int) { return (q.w - 3).pow(2).sum(); });
  std::vector<std::string> log;
  Recorder recorder("r", log);
  trainer.AddHook(&recorder);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kCompleted);
  // w0 = 0: loss 9, gradient -6, w1 = 0 + 0.1 * 6 = 0.6
  // w1 = 0.6: loss 5.76, gradient -4.8, w2 = 0.6 + 0.48 = 1.08
  ASSERT_EQ(recorder.records.size(), 2u);
  EXPECT_EQ(recorder.records[0].iteration, 1);
  EXPECT_NEAR(recorder.records[0].loss, 9.0, 1e-6);
  EXPECT_NEAR(recorder.records[0].grad_norm, 6.0, 1e-6);
  EXPECT_DOUBLE_EQ(recorder.records[0].lr, 0.1);
  EXPECT_NEAR(recorder.records[1].loss, 5.76, 1e-5);
  EXPECT_NEAR(recorder.records[1].grad_norm, 4.8, 1e-5);
  EXPECT_NEAR(q.value(), 1.08, 1e-6);
  EXPECT_GE(recorder.records[1].seconds, 0.0);
}

TEST(TrainerTest, AccumulationAveragesTheMicroBatches) {
  // Micro-batches with targets 2 and 4: mean gradient 2 (w - 3), the same update as one
  // batch with target 3; the recorded loss is the mean of the two micro losses.
  Quadratic q;
  Trainer trainer(Options(1, 2), {q.w}, q.optimizer, [&](int64_t, int micro) {
    return (q.w - (micro == 0 ? 2.0 : 4.0)).pow(2).sum();
  });
  std::vector<std::string> log;
  Recorder recorder("r", log);
  trainer.AddHook(&recorder);
  trainer.Run(0);
  EXPECT_NEAR(recorder.records.at(0).loss, (4.0 + 16.0) / 2, 1e-6);
  EXPECT_NEAR(recorder.records.at(0).grad_norm, 6.0, 1e-6);
  EXPECT_NEAR(q.value(), 0.6, 1e-6);
}

TEST(TrainerTest, HooksRunInOrderAndAStopEndsTheLoopAfterTheIteration) {
  Quadratic q;
  Trainer trainer(Options(5), {q.w}, q.optimizer,
                  [&](int64_t, int) { return (q.w - 3).pow(2).sum(); });
  std::vector<std::string> log;
  Recorder first("a", log), second("b", log);
  struct StopAt2 : TrainerHook {
    void AfterIteration(Trainer& t, const IterationRecord& r) override {
      if (r.iteration == 2) t.RequestStop();
    }
  } stop;
  trainer.AddHook(&first);
  trainer.AddHook(&stop);
  trainer.AddHook(&second);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kStopped);
  const std::vector<std::string> expected = {
      "a.before0", "b.before0", "a.backward0", "b.backward0", "a.after1", "b.after1",
      "a.before1", "b.before1", "a.backward1", "b.backward1", "a.after2", "b.after2(stop)"};
  EXPECT_EQ(log, expected);
  EXPECT_NEAR(q.value(), 1.08, 1e-6);
}

TEST(TrainerTest, AStopAfterTheLastIterationIsACompletedRun) {
  Quadratic q;
  Trainer trainer(Options(2), {q.w}, q.optimizer,
                  [&](int64_t, int) { return (q.w - 3).pow(2).sum(); });
  struct AlwaysStop : TrainerHook {
    void AfterIteration(Trainer& t, const IterationRecord& r) override {
      if (r.iteration == 2) t.RequestStop();
    }
  } stop;
  trainer.AddHook(&stop);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kCompleted);
}

TEST(TrainerTest, ANonFiniteLossEndsTheLoopWithoutAnUpdate) {
  Quadratic q;
  Trainer trainer(Options(5), {q.w}, q.optimizer, [&](int64_t it, int) {
    const torch::Tensor loss = (q.w - 3).pow(2).sum();
    return it == 2 ? loss * std::numeric_limits<double>::quiet_NaN() : loss;
  });
  std::vector<std::string> log;
  Recorder recorder("r", log);
  trainer.AddHook(&recorder);
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kDiverged);
  EXPECT_EQ(log.back(), "r.diverged3");
  EXPECT_EQ(trainer.divergence(), "non-finite loss at iteration 3 (lr 0.1)");
  EXPECT_EQ(recorder.diverged_reason, trainer.divergence());
  EXPECT_NEAR(q.value(), 1.08, 1e-6);  // the two finite updates only
}

TEST(TrainerTest, ANonFiniteGradientWithAFiniteLossIsADivergenceToo) {
  // sqrt(|w|) at w = 0: loss 0, gradient infinite.
  Quadratic q;
  Trainer trainer(Options(3), {q.w}, q.optimizer,
                  [&](int64_t, int) { return q.w.abs().sqrt().sum(); });
  EXPECT_EQ(trainer.Run(0), TrainOutcome::kDiverged);
  EXPECT_EQ(trainer.divergence(), "non-finite gradient norm at iteration 1 (lr 0.1)");
  EXPECT_EQ(q.value(), 0.0);
}

TEST(TrainerTest, AfterBackwardSeesTheGradientsBeforeTheNormAndTheUpdate) {
  // A hook that replaces the gradient (as a cross-process average would) decides the update.
  Quadratic q;
  Trainer trainer(Options(1), {q.w}, q.optimizer,
                  [&](int64_t, int) { return (q.w - 3).pow(2).sum(); });
  struct Halve : TrainerHook {
    explicit Halve(torch::Tensor w) : w(std::move(w)) {}
    void AfterBackward(Trainer&, int64_t, IterationRecord&) override {
      w.mutable_grad().mul_(0.5);
    }
    torch::Tensor w;
  } halve(q.w);
  std::vector<std::string> log;
  Recorder recorder("r", log);
  trainer.AddHook(&halve);
  trainer.AddHook(&recorder);
  trainer.Run(0);
  EXPECT_NEAR(recorder.records.at(0).grad_norm, 3.0, 1e-6);
  EXPECT_NEAR(q.value(), 0.3, 1e-6);
}

TEST(TrainerTest, ResumingStartsAtTheGivenIterationWithItsLearningRate) {
  Quadratic q;
  TrainerOptions options = Options(4);
  options.schedule.steps = {2};  // lr 0.1 for iterations 0, 1; 0.01 from 2
  std::vector<int64_t> seen;
  Trainer trainer(options, {q.w}, q.optimizer, [&](int64_t it, int) {
    seen.push_back(it);
    return (q.w - 3).pow(2).sum();
  });
  std::vector<std::string> log;
  Recorder recorder("r", log);
  trainer.AddHook(&recorder);
  EXPECT_EQ(trainer.Run(2), TrainOutcome::kCompleted);
  EXPECT_EQ(seen, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(recorder.records.size(), 2u);
  EXPECT_EQ(recorder.records[0].iteration, 3);
  EXPECT_DOUBLE_EQ(recorder.records[0].lr, 0.1 * 0.1);
  // w0 = 0, gradient -6, lr 0.01: 0.06; then gradient -5.88: 0.06 + 0.0588 = 0.1188
  EXPECT_NEAR(q.value(), 0.1188, 1e-6);
}

TEST(TrainerTest, GradientNormIsTheGlobalL2NormAndSkipsParametersWithoutGradients) {
  torch::Tensor a = torch::zeros({2}, torch::requires_grad());
  torch::Tensor b = torch::zeros({1}, torch::requires_grad());
  torch::Tensor unused = torch::zeros({3}, torch::requires_grad());
  ((a * torch::tensor({3.0f, 0.0f})).sum() + (b * 4.0f).sum()).backward();
  EXPECT_NEAR(GradientNorm({a, b, unused}), 5.0, 1e-6);  // sqrt(3^2 + 0^2 + 4^2)
}

}  // namespace
}  // namespace scratchdet::engine
