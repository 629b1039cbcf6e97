// Classification pretraining of a detector's backbone (paper Table B, "pretrained" rows) on
// the smoke profile's object crops.
#include "scratchdet/engine/pretrain.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "scratchdet/core/error.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

using nlohmann::json;

TrainConfig PretrainConfig(int64_t seed) {
  json config = MergeConfig(ProfileDefaults("smoke"), json::object(), "test");
  config["model"] = {{"backbone", "vgg16_bn"}, {"extras", "ssd"}, {"bn_backbone", true}};
  config["run"]["threads"] = 1;
  config["seed"] = seed;
  config["pretrain"] = {{"enabled", true}, {"source", "shapes_crops"}, {"iterations", 3},
                        {"batch_size", 4},  {"input_size", 32},         {"lr", 0.01}};
  return ParseTrainConfig(config);
}

struct Pretrained {
  json summary;
  model::SsdDetector detector{nullptr};
};

Pretrained Pretrain(const TrainConfig& config, const DataSetup& data) {
  Pretrained out;
  out.detector = model::BuildDetector(ResolveModelConfig(config, data.num_classes()), 0);
  out.summary =
      PretrainBackbone(*out.detector, data, config, torch::Device(torch::kCPU), /*quiet=*/true);
  return out;
}

bool SameParameters(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  for (const auto& p : pa)
    if (!torch::equal(p.value(), pb[p.key()])) return false;
  return true;
}

TEST(PretrainTest, TrainsTheBackboneOnlyAndIsReproducibleForASeed) {
  const TrainConfig config = PretrainConfig(0);
  const DataSetup data = SetUpData(config, ::scratchdet::testing::TempDir() + "/cache");
  Pretrained a = Pretrain(config, data), b = Pretrain(config, data);
  EXPECT_EQ(a.summary["source"], "shapes_crops");
  EXPECT_EQ(a.summary["iterations"], 3);
  EXPECT_EQ(a.summary["classes"], 10);  // the shapes classes
  EXPECT_GT(a.summary["examples"].get<int64_t>(), 0);
  EXPECT_TRUE(std::isfinite(a.summary["final_loss"].get<double>()));
  // The same seed: the same classifier start, crops and flips, so the same weights.
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_TRUE(SameParameters(*a.detector, *b.detector));

  // Only the backbone moved: extras and head are as initialised.
  model::SsdDetector fresh = model::BuildDetector(ResolveModelConfig(config, data.num_classes()), 0);
  EXPECT_FALSE(SameParameters(*a.detector->backbone(), *fresh->backbone()));
  EXPECT_TRUE(SameParameters(*a.detector->extras(), *fresh->extras()));

  Pretrained other = Pretrain(PretrainConfig(1), data);
  EXPECT_NE(other.summary["final_loss"], a.summary["final_loss"]);
}

TEST(PretrainTest, AMissingImageFolderIsNamed) {
  TrainConfig config = PretrainConfig(0);
  config.pretrain.source = "imagefolder";
  config.pretrain.path = ::scratchdet::testing::TempDir() + "/no_such_folder";
  const DataSetup data = SetUpData(config, ::scratchdet::testing::TempDir() + "/cache");
  model::SsdDetector detector =
      model::BuildDetector(ResolveModelConfig(config, data.num_classes()), 0);
  try {
    PretrainBackbone(*detector, data, config, torch::Device(torch::kCPU), true);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_folder: pretrain ImageFolder root is not a "
                                         "directory"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace scratchdet::engine
