// `scratchdet show-batch` in-process: the drawn targets sit where the dataset's boxes are.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "scratchdet/data/shapes.h"
#include "scratchdet/data/voc_dataset.h"
#include "tests/cli/command_runner.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::cli {
namespace {

namespace fs = std::filesystem;

TEST(ShowBatchCommandTest, DrawsEachBoxAtItsScaledPosition) {
  data::ShapesOptions shapes;
  shapes.out_dir = testing::TempDir() + "/show_batch_shapes";
  shapes.train_images = 4;
  shapes.test_images = 1;
  shapes.image_size = 96;
  shapes.threads = 1;
  data::GenerateShapes(shapes);
  const std::string out = testing::TempDir() + "/show_batch_out";
  const CommandOutput result = RunCommand({"show-batch", "--root", shapes.out_dir, "--out", out,
                                           "--count", "3", "--input-size", "64", "--no-augment"});
  ASSERT_EQ(result.status, 0) << result.error;

  data::VocDatasetOptions options;
  options.root = shapes.out_dir;
  options.spec = "trainval";
  const data::VocDataset dataset(options);
  int images = 0, corners = 0;
  for (const auto& entry : fs::directory_iterator(out)) {
    ++images;
    const cv::Mat drawn = cv::imread(entry.path().string());
    ASSERT_EQ(drawn.size(), cv::Size(320, 320));  // 64 px drawn 5x
    // "NN_<image id>.png": find the sample it shows.
    const std::string id = entry.path().stem().string().substr(3);
    for (size_t i = 0; i < dataset.size(); ++i) {
      const data::Sample sample = *dataset.TryLoad(i);
      if (sample.image_id != id) continue;
      for (const auto& box : sample.boxes) {
        // Top-left corner of the box, scaled 96 -> 64 -> 320; the rectangle is red (BGR).
        const int x = static_cast<int>(box[0] / 96.0f * 320),
                  y = static_cast<int>(box[1] / 96.0f * 320);
        // (Within a pixel: float rounding of the two scalings may differ by one.)
        bool red = false;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int px = std::clamp(x + dx, 0, 319), py = std::clamp(y + dy, 0, 319);
            red = red || drawn.at<cv::Vec3b>(py, px) == cv::Vec3b(0, 0, 255);
          }
        EXPECT_TRUE(red) << id << " at " << x << "," << y;
        ++corners;
      }
    }
  }
  EXPECT_EQ(images, 3);
  EXPECT_GE(corners, 3);
}

TEST(ShowBatchCommandTest, MissingDatasetNamesThePath) {
  const CommandOutput result = RunCommand(
      {"show-batch", "--root", "/nonexistent/shapes", "--out", testing::TempDir() + "/x"});
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.error.find("/nonexistent/shapes"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace scratchdet::cli
