// EvaluateCoco (through the JSON readers) against tests/eval/coco_eval_reference.py, an
// independent numpy reimplementation of pycocotools' COCOeval, on random data with crowds,
// objects across the small/medium/large ranges, more than 100 detections in some image,
// score ties, detections on images without objects and categories without objects.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "scratchdet/eval/coco_eval.h"
#include "scratchdet/eval/coco_json.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::eval {
namespace {

struct Files {
  std::string instances, results;
};

Files RandomFiles(uint32_t seed, const std::string& dir) {
  std::mt19937 rng(seed);
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto integer = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto chance = [&](double p) { return uniform(0, 1) < p; };
  nlohmann::json images = nlohmann::json::array(), annotations = nlohmann::json::array(),
                 results = nlohmann::json::array();
  const std::vector<int> categories = {1, 3, 7};
  int ann_id = 1;
  for (int image = 1; image <= 6; ++image) {
    images.push_back({{"id", image * 10}, {"width", 640}, {"height", 480}});
    for (int category : categories) {
      if (category == 7 && seed % 3 == 0) continue;  // a category without objects
      for (int k = integer(0, 4); k > 0; --k) {
        // Sizes from 8 to 200 px cover all three area ranges.
        const double w = std::exp(uniform(std::log(8.0), std::log(200.0)));
        const double h = w * uniform(0.5, 2.0);
        const double x = uniform(0, 400), y = uniform(0, 300);
        const bool crowd = chance(0.15);
        annotations.push_back({{"id", ann_id++},
                               {"image_id", image * 10},
                               {"category_id", category},
                               {"bbox", {x, y, w, h}},
                               {"area", w * h * uniform(0.6, 1.0)},
                               {"iscrowd", crowd ? 1 : 0}});
        for (int c = integer(0, 3); c > 0; --c) {  // detections near it, some duplicates
          const double s = uniform(0.8, 1.25);
          results.push_back({{"image_id", image * 10},
                             {"category_id", category},
                             {"bbox",
                              {x + uniform(-0.2, 0.2) * w, y + uniform(-0.2, 0.2) * h, w * s,
                               h * uniform(0.8, 1.25)}},
                             // Two decimals: ties across and within images.
                             {"score", integer(0, 100) / 100.0}});
        }
      }
      // Background FPs; image 30 gets more than 100 for category 1 (maxDets truncation).
      const int fps = (image == 3 && category == 1) ? 130 : integer(0, 5);
      for (int k = 0; k < fps; ++k) {
        const double w = std::exp(uniform(std::log(8.0), std::log(200.0)));
        results.push_back({{"image_id", image * 10},
                           {"category_id", category},
                           {"bbox", {uniform(0, 400), uniform(0, 300), w, w * uniform(0.5, 2)}},
                           {"score", integer(0, 100) / 100.0}});
      }
    }
  }
  images.push_back({{"id", 999}});  // no objects, but detections
  results.push_back(
      {{"image_id", 999}, {"category_id", 1}, {"bbox", {1, 2, 50, 60}}, {"score", 0.99}});
  const nlohmann::json instances = {
      {"images", images},
      {"annotations", annotations},
      {"categories",
       {{{"id", 1}, {"name", "a"}}, {{"id", 3}, {"name", "b"}}, {{"id", 7}, {"name", "c"}}}}};
  Files files{dir + "/instances_" + std::to_string(seed) + ".json",
              dir + "/results_" + std::to_string(seed) + ".json"};
  std::ofstream(files.instances) << instances.dump();
  std::ofstream(files.results) << results.dump();
  return files;
}

TEST(CocoEvalCrossCheckTest, MatchesNumpyReimplementationOfPycocotools) {
  const std::string dir = ::scratchdet::testing::TempDir();
  int defined_small = 0, crowd_seen = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    const Files files = RandomFiles(seed, dir);
    const CocoInstances instances = ReadCocoInstances(files.instances);
    for (const auto& a : instances.annotations) crowd_seen += a.iscrowd;
    const CocoEvalResult mine =
        EvaluateCoco(instances.annotations, ReadCocoResults(files.results, instances));
    const std::string out = dir + "/reference_" + std::to_string(seed) + ".json";
    const std::string command = "/usr/bin/python3 tests/eval/coco_eval_reference.py " +
                                files.instances + " " + files.results + " " + out;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ifstream in(out);
    const nlohmann::json reference = nlohmann::json::parse(in)["stats"];
    ASSERT_EQ(reference.size(), 12u);
    for (int i = 0; i < 12; ++i)
      EXPECT_NEAR(mine.stats[i], reference[i].get<double>(), 1e-9)
          << "seed " << seed << " " << CocoStatNames()[i];
    defined_small += mine.stats[3] > 0;
    // Not degenerate: detections partly right.
    EXPECT_GT(mine.stats[1], 0.05) << "seed " << seed;
    EXPECT_LT(mine.stats[0], 0.95) << "seed " << seed;
  }
  EXPECT_GT(defined_small, 3);
  EXPECT_GT(crowd_seen, 5);
}

}  // namespace
}  // namespace scratchdet::eval
