#include "scratchdet/eval/coco_json.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::eval {
namespace {

using ::scratchdet::testing::WriteTemp;

const char kInstances[] = R"({
  "images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}, {"id": 7}],
  "categories": [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}],
  "annotations": [
    {"id": 1, "image_id": 1, "category_id": 18, "bbox": [10, 20.5, 30, 40], "area": 1100.5,
     "iscrowd": 0},
    {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0, 0, 100, 100], "area": 9000,
     "iscrowd": 1},
    {"id": 3, "image_id": 7, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100}
  ]})";

template <typename F>
void ExpectError(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    FAIL() << "no error";
  } catch (const Error& e) {
    for (const auto& fragment : fragments)
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(CocoJsonTest, ReadsInstances) {
  const CocoInstances in = ReadCocoInstances(WriteTemp("instances.json", kInstances));
  ASSERT_EQ(in.images.size(), 2u);
  EXPECT_EQ(in.images[0].file_name, "a.jpg");
  EXPECT_EQ(in.images[0].width, 640);
  EXPECT_EQ(in.images[1].id, 7);
  ASSERT_EQ(in.categories.size(), 2u);
  EXPECT_EQ(in.categories[1].name, "dog");
  ASSERT_EQ(in.annotations.size(), 3u);
  const CocoGroundTruth& a = in.annotations[0];
  EXPECT_EQ(a.image_id, 1);
  EXPECT_EQ(a.category_id, 18);
  EXPECT_EQ(a.y, 20.5);
  EXPECT_EQ(a.h, 40);
  EXPECT_EQ(a.area, 1100.5);
  EXPECT_FALSE(a.iscrowd);
  EXPECT_TRUE(in.annotations[1].iscrowd);
  EXPECT_FALSE(in.annotations[2].iscrowd);  // absent -> 0
}

TEST(CocoJsonTest, ReadsResults) {
  const CocoInstances in = ReadCocoInstances(WriteTemp("instances.json", kInstances));
  const auto dets = ReadCocoResults(
      WriteTemp("results.json", R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4],
        "score": 0.25}, {"image_id": 1, "category_id": 18, "bbox": [0, 0, 1, 1], "score": 1}])"),
      in);
  ASSERT_EQ(dets.size(), 2u);
  EXPECT_EQ(dets[0].image_id, 7);
  EXPECT_EQ(dets[0].score, 0.25);
  EXPECT_EQ(dets[0].w, 3);
  EXPECT_EQ(dets[1].category_id, 18);
  EXPECT_TRUE(ReadCocoResults(WriteTemp("none.json", "[]"), in).empty());
}

TEST(CocoJsonTest, InstanceErrorsNameFileAndEntry) {
  const std::string bad_json = WriteTemp("bad.json", R"({"images": [)");
  ExpectError([&] { ReadCocoInstances(bad_json); }, {bad_json, "malformed JSON"});
  const std::string no_area =
      WriteTemp("noarea.json", R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
      "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1},
                      {"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]})");
  ExpectError([&] { ReadCocoInstances(no_area); }, {no_area, "annotations[1]: missing 'area'"});
  const std::string bad_image =
      WriteTemp("badimage.json", R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
      "annotations": [{"image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1}]})");
  ExpectError([&] { ReadCocoInstances(bad_image); },
              {bad_image, "annotations[0]: unknown image_id 2"});
  const std::string bad_category =
      WriteTemp("badcat.json", R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
      "annotations": [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "area": 1}]})");
  ExpectError([&] { ReadCocoInstances(bad_category); },
              {bad_category, "annotations[0]: unknown category_id 3"});
  const std::string bad_box =
      WriteTemp("badbox.json", R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
      "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "area": 1}]})");
  ExpectError([&] { ReadCocoInstances(bad_box); }, {bad_box, "annotations[0]: 'bbox'"});
  const std::string no_images = WriteTemp("noimages.json", R"({"categories": []})");
  ExpectError([&] { ReadCocoInstances(no_images); }, {no_images, "'images'"});
  const std::string repeated =
      WriteTemp("repeated.json", R"({"images": [{"id": 1}, {"id": 1}], "categories": [],
      "annotations": []})");
  ExpectError([&] { ReadCocoInstances(repeated); }, {repeated, "images[1]: repeated image id 1"});
}

TEST(CocoJsonTest, ResultErrorsNameFileAndEntry) {
  const CocoInstances in = ReadCocoInstances(WriteTemp("instances.json", kInstances));
  const std::string bad_json = WriteTemp("badres.json", "[{\"image_id\": 1,");
  ExpectError([&] { ReadCocoResults(bad_json, in); }, {bad_json, "malformed JSON"});
  // Issue 15: an overflowing number said "number overflow" without naming the file.
  const std::string overflow = WriteTemp(
      "overflow.json", R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1e999}])");
  ExpectError([&] { ReadCocoResults(overflow, in); }, {overflow, "malformed JSON", "1e999"});
  const std::string no_score =
      WriteTemp("noscore.json", R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}])");
  ExpectError([&] { ReadCocoResults(no_score, in); }, {no_score, "[0]: missing 'score'"});
  const std::string unknown_image = WriteTemp(
      "unkimg.json", R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1},
      {"image_id": 3, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}])");
  ExpectError([&] { ReadCocoResults(unknown_image, in); },
              {unknown_image, "[1]: image_id 3 is not in"});
  const std::string unknown_category = WriteTemp(
      "unkcat.json", R"([{"image_id": 1, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 1}])");
  ExpectError([&] { ReadCocoResults(unknown_category, in); },
              {unknown_category, "[0]: category_id 2 is not in"});
  const std::string string_score =
      WriteTemp("strscore.json",
                R"([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": "high"}])");
  ExpectError([&] { ReadCocoResults(string_score, in); },
              {string_score, "[0]: 'score' must be a finite number"});
  const std::string not_array = WriteTemp("object.json", R"({"image_id": 1})");
  ExpectError([&] { ReadCocoResults(not_array, in); }, {not_array, "expected a JSON array"});
}

}  // namespace
}  // namespace scratchdet::eval
