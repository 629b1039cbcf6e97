// `scratchdet coco-eval` end to end on small files and bad inputs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "scratchdet/core/atomic_file.h"
#include "tests/cli/command_runner.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::cli {
namespace {

using ::scratchdet::testing::WriteTemp;

// Two images, two categories. cat (id 17): one medium object, found exactly (TP) below an FP
// on image 2 -> AP 1/2 at every threshold. dog (id 18): one small object, found exactly ->
// AP 1. AP = (1/2 + 1) / 2 = 0.75; APs = 1 (dog only); APm = 1/2 (cat only).
const char kInstances[] = R"({
  "images": [{"id": 1}, {"id": 2}],
  "categories": [{"id": 17, "name": "cat"}, {"id": 18, "name": "dog"}],
  "annotations": [
    {"id": 1, "image_id": 1, "category_id": 17, "bbox": [10, 10, 40, 40], "area": 1600},
    {"id": 2, "image_id": 2, "category_id": 18, "bbox": [5, 5, 20, 20], "area": 400}]})";
const char kResults[] = R"([
  {"image_id": 1, "category_id": 17, "bbox": [10, 10, 40, 40], "score": 0.8},
  {"image_id": 2, "category_id": 17, "bbox": [100, 100, 40, 40], "score": 0.9},
  {"image_id": 2, "category_id": 18, "bbox": [5, 5, 20, 20], "score": 0.7}])";

TEST(CocoEvalCommandTest, HandComputedStats) {
  const std::string annotations = WriteTemp("instances.json", kInstances);
  const std::string detections = WriteTemp("results.json", kResults);
  const std::string json_path = WriteTemp("out.json", "");
  const CommandOutput run = RunCommand(
      {"coco-eval", "--annotations", annotations, "--detections", detections, "--json", json_path});
  ASSERT_EQ(run.status, 0) << run.error;
  EXPECT_NE(run.out.find(
                " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.750"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("2 images, 2 categories, 2 ground truths, 3 detections"),
            std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(ReadFile(json_path));
  EXPECT_NEAR(j["AP"].get<double>(), 0.75, 1e-12);
  EXPECT_NEAR(j["APs"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(j["APm"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(j["APl"].get<double>(), -1.0);
  EXPECT_NEAR(j["per_category"]["17"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(j["category_names"]["18"], "dog");
}

void ExpectFailure(const CommandOutput& run, const std::string& fragment) {
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.error.find(fragment), std::string::npos) << run.error;
}

TEST(CocoEvalCommandTest, BadInputs) {
  const std::string annotations = WriteTemp("instances.json", kInstances);
  const std::string malformed = WriteTemp("malformed.json", "[{\"image_id\": 1,]");
  ExpectFailure(RunCommand({"coco-eval", "--annotations", annotations, "--detections", malformed}),
                malformed + ": malformed JSON");
  const std::string unknown = WriteTemp(
      "unknown.json", R"([{"image_id": 1, "category_id": 17, "bbox": [0, 0, 1, 1], "score": 1},
      {"image_id": 5, "category_id": 17, "bbox": [0, 0, 1, 1], "score": 1}])");
  ExpectFailure(RunCommand({"coco-eval", "--annotations", annotations, "--detections", unknown}),
                unknown + ": [1]: image_id 5 is not in");
  const std::string missing =
      WriteTemp("missing.json", R"([{"image_id": 1, "category_id": 17, "score": 1}])");
  ExpectFailure(RunCommand({"coco-eval", "--annotations", annotations, "--detections", missing}),
                missing + ": [0]: missing 'bbox'");
  ExpectFailure(RunCommand({"coco-eval", "--annotations", "/nonexistent/instances.json",
                            "--detections", missing}),
                "/nonexistent/instances.json");
}

}  // namespace
}  // namespace scratchdet::cli
