// EvaluateVoc against tests/eval/voc_eval_reference.py (numpy) on random ground truths and
// detections: difficult objects, duplicates, near misses, detections whose +1 IoU is exactly
// 0.5, images without ground truth, classes without ground truth. Scores are distinct, so the
// order does not depend on how ties are broken.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "scratchdet/eval/voc_eval.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::eval {
namespace {

struct Trial {
  std::vector<std::string> classes;
  std::vector<VocGroundTruth> gts;
  std::vector<VocDetection> dets;
  int exact_half = 0;  // detections constructed with +1 IoU exactly 0.5 to their ground truth
};

Trial RandomTrial(uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  Trial t;
  t.classes = {"a", "b", "c"};
  const int num_images = 6;
  for (int i = 0; i < num_images; ++i) {
    const std::string image = "img" + std::to_string(i);
    for (int c = 0; c < 3; ++c) {
      // Class c has no ground truth in every fifth trial: AP undefined on both sides.
      const int count = (c == 2 && seed % 5 == 0) ? 0 : uniform(0, 3);
      for (int g = 0; g < count; ++g) {
        const double x1 = uniform(1, 70), y1 = uniform(1, 70);
        const double x2 = x1 + uniform(1, 29), y2 = y1 + 2 * uniform(0, 14) + 1;  // odd y2-y1
        t.gts.push_back({image, c, x1, y1, x2, y2, chance(0.25)});
        const int copies = chance(0.8) ? (chance(0.3) ? 2 : 1) : 0;  // duplicates
        for (int k = 0; k < copies; ++k) {
          auto jitter = [&] { return static_cast<double>(uniform(-4, 4)); };
          const double dx1 = x1 + jitter(), dx2 = std::max(dx1 + 1, x2 + jitter());
          const double dy1 = y1 + jitter(), dy2 = std::max(dy1 + 1, y2 + jitter());
          t.dets.push_back({image, c, 0, dx1, dy1, dx2, dy2});
        }
        if (chance(0.3)) {
          // Top half: (y2 - y1 + 1) is even, so the +1 IoU is exactly 1/2.
          t.dets.push_back({image, c, 0, x1, y1, x2, y1 + (y2 - y1 + 1) / 2 - 1});
          ++t.exact_half;
        }
      }
      for (int k = uniform(0, 2); k > 0; --k) {  // background false positives
        const double x1 = uniform(1, 80), y1 = uniform(1, 80);
        t.dets.push_back({image, c, 0, x1, y1, x1 + uniform(1, 20), y1 + uniform(1, 20)});
      }
    }
  }
  t.dets.push_back({"no_ground_truth_image", 0, 0, 1, 1, 30, 30});
  // Distinct scores in a random order.
  std::vector<int> rank(t.dets.size());
  for (size_t i = 0; i < rank.size(); ++i) rank[i] = static_cast<int>(i);
  std::shuffle(rank.begin(), rank.end(), rng);
  for (size_t i = 0; i < t.dets.size(); ++i) t.dets[i].score = (rank[i] + 1.0) / (rank.size() + 1);
  return t;
}

std::vector<VocEvalOptions> Configs() {
  std::vector<VocEvalOptions> configs;
  for (VocApMetric metric : {VocApMetric::kVoc07, VocApMetric::kArea})
    for (IouThresholdMode mode : {IouThresholdMode::kDevkit, IouThresholdMode::kStrict})
      for (bool plus_one : {true, false}) {
        VocEvalOptions o;
        o.metric = metric;
        o.threshold_mode = mode;
        o.plus_one = plus_one;
        configs.push_back(o);
      }
  VocEvalOptions high;
  high.iou_threshold = 0.7;
  configs.push_back(high);
  return configs;
}

nlohmann::json TrialJson(const Trial& t) {
  nlohmann::json gts = nlohmann::json::array(), dets = nlohmann::json::array();
  for (const auto& g : t.gts)
    gts.push_back({g.image_id, g.class_index, g.x1, g.y1, g.x2, g.y2, g.difficult});
  for (const auto& d : t.dets)
    dets.push_back({d.image_id, d.class_index, d.score, d.x1, d.y1, d.x2, d.y2});
  return {{"classes", t.classes}, {"gts", gts}, {"dets", dets}};
}

TEST(VocEvalCrossCheckTest, MatchesNumpyReference) {
  const int num_trials = 60;
  std::vector<Trial> trials;
  nlohmann::json spec = {{"trials", nlohmann::json::array()}, {"configs", nlohmann::json::array()}};
  for (int s = 0; s < num_trials; ++s) {
    trials.push_back(RandomTrial(1000 + s));
    spec["trials"].push_back(TrialJson(trials.back()));
  }
  const std::vector<VocEvalOptions> configs = Configs();
  for (const auto& o : configs)
    spec["configs"].push_back({{"metric", ToString(o.metric)},
                               {"mode", ToString(o.threshold_mode)},
                               {"plus_one", o.plus_one},
                               {"iou", o.iou_threshold}});

  const std::string dir = ::scratchdet::testing::TempDir();
  const std::string in_path = dir + "/voc_reference_in.json";
  const std::string out_path = dir + "/voc_reference_out.json";
  std::ofstream(in_path) << spec.dump();
  const std::string command =
      "/usr/bin/python3 tests/eval/voc_eval_reference.py " + in_path + " " + out_path;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream out(out_path);
  const nlohmann::json reference = nlohmann::json::parse(out)["results"];
  ASSERT_EQ(reference.size(), trials.size());

  int compared = 0, undefined = 0, ignored = 0, exact_half = 0, mode_differs = 0;
  for (int s = 0; s < num_trials; ++s) {
    exact_half += trials[s].exact_half;
    std::vector<double> maps;
    for (size_t k = 0; k < configs.size(); ++k) {
      const VocEvalResult mine =
          EvaluateVoc(trials[s].classes, trials[s].gts, trials[s].dets, configs[k]);
      const nlohmann::json& ref = reference[s][k];
      for (size_t c = 0; c < mine.per_class.size(); ++c) {
        const auto& ap = mine.per_class[c].ap;
        ignored += mine.per_class[c].num_ignored;
        if (ref["ap"][c].is_null()) {
          EXPECT_FALSE(ap.has_value()) << "trial " << s << " config " << k << " class " << c;
          ++undefined;
          continue;
        }
        ASSERT_TRUE(ap.has_value()) << "trial " << s << " config " << k << " class " << c;
        EXPECT_NEAR(*ap, ref["ap"][c].get<double>(), 1e-9)
            << "trial " << s << " config " << k << " class " << c;
        ++compared;
      }
      ASSERT_EQ(mine.mean_ap.has_value(), !ref["mAP"].is_null());
      if (mine.mean_ap) {
        EXPECT_NEAR(*mine.mean_ap, ref["mAP"].get<double>(), 1e-9);
      }
      maps.push_back(mine.mean_ap.value_or(-1));
    }
    // configs[0] and [2] differ only in devkit vs strict.
    if (maps[0] != maps[2]) ++mode_differs;
  }
  // The random data must exercise what the test claims to check.
  EXPECT_GT(compared, 1000);
  EXPECT_GT(undefined, 0);
  EXPECT_GT(ignored, 0);
  EXPECT_GT(exact_half, 20);
  EXPECT_GT(mode_differs, 5);
}

}  // namespace
}  // namespace scratchdet::eval
