#include "scratchdet/data/coco_dataset.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/data/test_files.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::FreshDir;
using testing::WriteFile;
using testing::WriteJpeg;

// Two images (ids 9 and 4, deliberately out of order) and categories 3 "zebra", 1 "apple".
json GoodJson() {
  return json::parse(R"({
    "images": [{"id": 9, "file_name": "nine.jpg", "width": 50, "height": 40},
               {"id": 4, "file_name": "four.jpg", "width": 50, "height": 40}],
    "categories": [{"id": 3, "name": "zebra"}, {"id": 1, "name": "apple"}],
    "annotations": [
      {"id": 1, "image_id": 9, "category_id": 3, "bbox": [10, 5, 20.5, 10], "iscrowd": 0},
      {"id": 2, "image_id": 9, "category_id": 1, "bbox": [0, 0, 50, 40], "iscrowd": 1},
      {"id": 3, "image_id": 4, "category_id": 1, "bbox": [1, 2, 3, 4]}]})");
}

CocoDatasetOptions Write(const std::string& name, const json& contents,
                         OnBadSample policy = OnBadSample::kError) {
  const fs::path dir = FreshDir(name);
  WriteFile(dir / "instances.json", contents.dump());
  WriteJpeg(dir / "images/nine.jpg", 50, 40);
  WriteJpeg(dir / "images/four.jpg", 50, 40);
  CocoDatasetOptions options;
  options.annotation_file = (dir / "instances.json").string();
  options.image_dir = (dir / "images").string();
  options.on_bad_sample = policy;
  return options;
}

// Under kError: BadSampleError with `reason` mentioning `needle`; under kSkip: image 9 left
// out and counted.
void ExpectBadNine(const std::string& name, const json& contents, BadSampleReason reason,
                   const std::string& needle) {
  try {
    CocoDataset dataset(Write(name, contents));
    ADD_FAILURE() << "expected a BadSampleError";
  } catch (const BadSampleError& error) {
    EXPECT_EQ(error.reason(), reason) << error.what();
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
  }
  const CocoDataset skipping(Write(name, contents, OnBadSample::kSkip));
  ASSERT_EQ(skipping.size(), 1u);
  EXPECT_EQ(skipping.AnnotationOnly(0).image_id, "four");
  EXPECT_EQ(skipping.bad_samples().Counts().at(ReasonName(reason)), 1);
}

TEST(CocoDatasetTest, ContiguousLabelsByCategoryIdAndCornerBoxes) {
  const CocoDataset dataset(Write("coco_good", GoodJson()));
  EXPECT_EQ(dataset.class_names(), (std::vector<std::string>{"apple", "zebra"}));
  EXPECT_EQ(dataset.category_ids(), (std::vector<int64_t>{1, 3}));
  ASSERT_EQ(dataset.size(), 2u);
  const Sample four = dataset.AnnotationOnly(0);  // ascending image id
  EXPECT_EQ(four.image_id, "four");
  EXPECT_EQ(dataset.coco_image_id(0), 4);
  EXPECT_EQ(four.boxes[0], (std::array<float, 4>{1, 2, 4, 6}));
  const Sample nine = dataset.Load(1);
  EXPECT_EQ(nine.image.cols, 50);
  ASSERT_EQ(nine.boxes.size(), 2u);
  EXPECT_EQ(nine.boxes[0], (std::array<float, 4>{10, 5, 30.5, 15}));
  EXPECT_EQ(nine.labels, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(nine.crowd, (std::vector<uint8_t>{0, 1}));  // kept for evaluation
}

TEST(CocoDatasetTest, MalformedFilesAlwaysThrow) {
  const CocoDatasetOptions options = Write("coco_malformed", GoodJson());
  WriteFile(options.annotation_file, "{\"images\": [");
  try {
    CocoDataset dataset(options);
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("malformed JSON"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("instances.json"), std::string::npos);
  }
  json no_images = GoodJson();
  no_images.erase("images");
  EXPECT_THROW(CocoDataset(Write("coco_no_images", no_images, OnBadSample::kSkip)), Error);
  json orphan = GoodJson();
  orphan["annotations"][0]["image_id"] = 77;
  EXPECT_THROW(CocoDataset(Write("coco_orphan", orphan, OnBadSample::kSkip)), Error);
}

TEST(CocoDatasetTest, UnknownCategory) {
  json contents = GoodJson();
  contents["annotations"][0]["category_id"] = 2;
  ExpectBadNine("coco_category", contents, BadSampleReason::kUnknownClass, "category_id 2");
}

TEST(CocoDatasetTest, NegativeWidth) {
  json contents = GoodJson();
  contents["annotations"][0]["bbox"] = {10, 5, -3, 10};
  ExpectBadNine("coco_negative", contents, BadSampleReason::kInvalidAnnotation, "annotation id 1");
}

TEST(CocoDatasetTest, BoxOutsideTheImage) {
  json contents = GoodJson();
  contents["annotations"][0]["bbox"] = {40, 5, 20, 10};
  ExpectBadNine("coco_outside", contents, BadSampleReason::kInvalidAnnotation, "outside");
}

TEST(CocoDatasetTest, MissingImageFile) {
  json contents = GoodJson();
  contents["images"][0]["file_name"] = "gone.jpg";
  ExpectBadNine("coco_missing_image", contents, BadSampleReason::kMissingImage, "gone.jpg");
}

TEST(CocoDatasetTest, ImageWithoutAnnotationsUnlessAllowed) {
  json contents = GoodJson();
  contents["annotations"].erase(0);
  contents["annotations"].erase(0);
  ExpectBadNine("coco_empty", contents, BadSampleReason::kEmptyAnnotation, "no annotations");
  CocoDatasetOptions options = Write("coco_empty_allowed", contents);
  options.allow_empty = true;
  const CocoDataset dataset(options);
  ASSERT_EQ(dataset.size(), 2u);
  EXPECT_TRUE(dataset.AnnotationOnly(1).boxes.empty());
}

}  // namespace
}  // namespace scratchdet::data
