// `scratchdet eval` and `scratchdet detect` on a run trained here (smoke profile): a reloaded
// run scores what it scored at the end of training, and detect's files are consistent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/engine/exit_code.h"
#include "tests/cli/command_runner.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One smoke run for the whole suite.
class EvalDetectTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("XDG_CACHE_HOME", (::scratchdet::testing::TempDir() + "/xdg_cache").c_str(), 1);
    run_dir_ = ::scratchdet::testing::FreshDir("eval_detect_run");
    const CommandOutput train = RunCommand({"train", "--profile", "smoke", "--threads", "1",
                                            "--out", run_dir_, "--fresh"});
    ASSERT_EQ(train.status, engine::kExitOk) << train.error;
    result_ = json::parse(ReadFile(run_dir_ + "/result.json"));
  }
  static std::string run_dir_;
  static json result_;
};
std::string EvalDetectTest::run_dir_;
json EvalDetectTest::result_;

TEST_F(EvalDetectTest, EvalOfTheSavedRunGivesTheTrainingRunsNumbers) {
  const std::string out = ::scratchdet::testing::TempDir() + "/eval_metrics.json";
  const CommandOutput eval = RunCommand({"eval", "--run", run_dir_, "--json", out});
  ASSERT_EQ(eval.status, 0) << eval.error;
  const json metrics = json::parse(ReadFile(out));
  EXPECT_EQ(metrics["mAP"], result_["metrics"]["mAP"]);
  EXPECT_EQ(metrics["per_class_ap"], result_["metrics"]["per_class_ap"]);
  EXPECT_EQ(metrics["num_test_images"], result_["metrics"]["num_test_images"]);
}

TEST_F(EvalDetectTest, DetectWritesDrawnImagesAndCocoDetectionsInsideTheImages) {
  const std::string test_images = result_["data"]["root"].get<std::string>() + "/JPEGImages";
  std::vector<std::string> inputs;
  for (const auto& entry : fs::directory_iterator(test_images))
    if (entry.path().filename().string().rfind("test_", 0) == 0) inputs.push_back(entry.path());
  std::sort(inputs.begin(), inputs.end());
  inputs.resize(std::min<size_t>(inputs.size(), 3));
  ASSERT_EQ(inputs.size(), 3u);
  const std::string images_dir = ::scratchdet::testing::FreshDir("detect_inputs");
  for (const std::string& input : inputs)
    fs::copy_file(input, images_dir + "/" + fs::path(input).filename().string());

  auto detect = [&](const std::string& out, const std::string& min_score) {
    const CommandOutput c = RunCommand({"detect", "--run", run_dir_, "--images", images_dir,
                                        "--out", out, "--min-score", min_score});
    EXPECT_EQ(c.status, 0) << c.error;
    return json::parse(ReadFile(out + "/detections.json"));
  };
  const std::string all_dir = ::scratchdet::testing::FreshDir("detect_all");
  const json all = detect(all_dir, "0");
  const json confident = detect(::scratchdet::testing::FreshDir("detect_confident"), "0.2");

  const json images = json::parse(ReadFile(all_dir + "/images.json"));
  ASSERT_EQ(images.size(), 3u);
  const std::vector<std::string> classes = result_["data"]["classes"];
  EXPECT_GT(all.size(), 0u);  // the paper's post-processing keeps scores > 0.01
  size_t above = 0;
  for (const json& d : all) {
    const json& image = images.at(d["image_id"].get<size_t>());
    EXPECT_TRUE(fs::exists(all_dir + "/" + fs::path(image["file_name"].get<std::string>()).stem().string() + ".jpg"));
    const std::vector<double> b = d["bbox"];
    EXPECT_GE(b[0], 0.0);
    EXPECT_GE(b[1], 0.0);
    EXPECT_LE(b[0] + b[2], image["width"].get<double>() + 1e-9);
    EXPECT_LE(b[1] + b[3], image["height"].get<double>() + 1e-9);
    EXPECT_EQ(d["category"], classes.at(d["category_id"].get<size_t>()));
    above += d["score"].get<double>() >= 0.2 ? 1 : 0;
  }
  // A higher --min-score keeps exactly the detections scoring at least that much.
  EXPECT_EQ(confident.size(), above);
}

TEST_F(EvalDetectTest, DetectNamesAMissingImagePath) {
  const CommandOutput c =
      RunCommand({"detect", "--run", run_dir_, "--images", "/no/such/images", "--out",
                  ::scratchdet::testing::FreshDir("detect_missing")});
  EXPECT_NE(c.status, 0);
  EXPECT_NE(c.error.find("/no/such/images: no such image or folder"), std::string::npos)
      << c.error;
}

}  // namespace
}  // namespace scratchdet::cli
