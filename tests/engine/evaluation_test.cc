// Evaluation of a detector on a run's test set (smoke profile, an untrained small model).
#include "scratchdet/engine/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

using nlohmann::json;

struct Fixture {
  TrainConfig config;
  DataSetup data;
  model::SsdDetector detector{nullptr};
};

Fixture Make() {
  json j = MergeConfig(ProfileDefaults("smoke"), json::object(), "test");
  j["run"]["threads"] = 1;
  Fixture f;
  f.config = ParseTrainConfig(j);
  f.data = SetUpData(f.config, ::scratchdet::testing::TempDir() + "/evaluation_cache",
                     /*with_train=*/false);
  f.detector = model::BuildDetector(ResolveModelConfig(f.config, f.data.num_classes()), 3);
  return f;
}

std::map<std::string, torch::Tensor> State(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().clone();
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value().clone();
  return out;
}

TEST(EvaluationTest, MapIsTheMeanOfTheClassesWithObjectsAndEvaluationChangesNothing) {
  Fixture f = Make();
  f.detector->train();  // evaluation must switch to eval mode itself
  const auto before = State(*f.detector);
  const json m = EvaluateDetector(*f.detector, f.data, f.config, torch::Device(torch::kCPU));
  EXPECT_FALSE(f.detector->is_training());
  // BN running statistics and weights are untouched by evaluation.
  for (const auto& [name, value] : State(*f.detector))
    EXPECT_TRUE(torch::equal(value, before.at(name))) << name;

  EXPECT_EQ(m["num_test_images"], f.data.test->size());
  const json& npos = m["voc"]["npos"];
  double sum = 0;
  int classes = 0;
  for (const auto& [name, ap] : m["per_class_ap"].items()) {
    ASSERT_TRUE(npos.contains(name)) << name;
    if (npos[name].get<int>() == 0) continue;  // no objects: not in the mean
    sum += ap.get<double>();
    ++classes;
  }
  ASSERT_GT(classes, 0);
  EXPECT_NEAR(m["mAP"].get<double>(), sum / classes, 1e-12);
  EXPECT_GE(m["mAP"].get<double>(), 0.0);
  EXPECT_LE(m["mAP"].get<double>(), 1.0);

  // Deterministic: a second evaluation gives the same numbers.
  const json again = EvaluateDetector(*f.detector, f.data, f.config, torch::Device(torch::kCPU));
  EXPECT_EQ(again["mAP"], m["mAP"]);
  EXPECT_EQ(again["per_class_ap"], m["per_class_ap"]);
}

TEST(EvaluationTest, AStopRequestInterruptsTheEvaluation) {
  Fixture f = Make();
  EXPECT_THROW(EvaluateDetector(*f.detector, f.data, f.config, torch::Device(torch::kCPU),
                                [] { return true; }),
               EvaluationInterrupted);
}

}  // namespace
}  // namespace scratchdet::engine
