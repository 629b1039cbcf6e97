#include "scratchdet/engine/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include <cstdlib>
#include <fstream>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

using ::scratchdet::testing::TempDir;

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc = register_module("fc", torch::nn::Linear(4, 3));
    bn = register_module("bn", torch::nn::BatchNorm1d(3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return bn(fc(x)); }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(Net);

void Step(Net& net, torch::optim::SGD& sgd, int seed) {
  torch::manual_seed(seed);
  sgd.zero_grad();
  net->forward(torch::randn({8, 4})).pow(2).sum().backward();
  sgd.step();
}

TEST(CheckpointTest, RoundTripRestoresWeightsMomentumAndState) {
  torch::manual_seed(0);
  Net a;
  torch::optim::SGD sgd_a(a->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(a, sgd_a, 1);
  CheckpointState state;
  state.state = {{"iteration", 1}, {"loader", {{"epoch", 0}, {"position", 8}}}};
  const std::string path = TempDir() + "/ckpt/last.pt";
  SaveCheckpoint(path, *a, sgd_a, state);

  torch::manual_seed(99);
  Net b;
  torch::optim::SGD sgd_b(b->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Step(b, sgd_b, 7);  // different weights and momentum, both overwritten by the load
  CheckpointState restored;
  ASSERT_TRUE(LoadCheckpoint(path, *b, sgd_b, restored));
  EXPECT_EQ(restored.state, state.state);
  // One more identical step on both: equal only if momentum buffers were restored too.
  Step(a, sgd_a, 2);
  Step(b, sgd_b, 2);
  auto pa = a->named_parameters();
  auto pb = b->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  EXPECT_TRUE(torch::equal(a->bn->running_mean, b->bn->running_mean));
}

TEST(CheckpointTest, MissingAndCorruptFiles) {
  Net net;
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1));
  CheckpointState state;
  EXPECT_FALSE(LoadCheckpoint(TempDir() + "/none.pt", *net, sgd, state));
  const std::string bad = TempDir() + "/corrupt.pt";
  std::ofstream(bad) << "not a checkpoint";
  try {
    LoadCheckpoint(bad, *net, sgd, state);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.pt"), std::string::npos);
  }
  EXPECT_THROW(LoadWeights(TempDir() + "/none.pt", *net), Error);
}

}  // namespace
}  // namespace scratchdet::engine
