// The one reader of COCO instances files' structure, shared by the dataset and the evaluator.
#include "scratchdet/data/coco_file.h"

#include <gtest/gtest.h>

#include "scratchdet/core/error.h"
#include "scratchdet/data/coco_dataset.h"
#include "scratchdet/eval/coco_json.h"
#include "tests/testing/temp_files.h"
#include "tests/testing/error_of.h"

namespace scratchdet::data {
namespace {

using ::scratchdet::testing::WriteTemp;

using ::scratchdet::testing::ErrorOf;

TEST(CocoFileTest, ReadsIdsInFileOrderAndTheImageOfEveryAnnotation) {
  const std::string path = WriteTemp("coco_file_good.json", R"({
    "images": [{"id": 9, "file_name": "a.jpg"}, {"id": 4}],
    "categories": [{"id": 3, "name": "zebra"}, {"id": 1, "name": "apple"}],
    "annotations": [{"image_id": 4}, {"image_id": 9}, {"image_id": 4}]})");
  const CocoFile file = ReadCocoFile(path);
  EXPECT_EQ(file.image_ids, (std::vector<int64_t>{9, 4}));
  EXPECT_EQ(file.categories,
            (std::vector<std::pair<int64_t, std::string>>{{3, "zebra"}, {1, "apple"}}));
  EXPECT_EQ(file.annotation_image_ids, (std::vector<int64_t>{4, 9, 4}));
  EXPECT_EQ(file.images()[0]["file_name"], "a.jpg");
}

TEST(CocoFileTest, StructuralErrorsNameTheFileAndEntryTheSameForDatasetAndEvaluator) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"images\": [", "malformed JSON"},
      {"[]", "expected a COCO instances object"},
      {R"({"categories": [], "annotations": []})", "missing top-level 'images'"},
      {R"({"images": {}, "categories": [], "annotations": []})", "'images' must be an array"},
      {R"({"images": [{"id": "1"}], "categories": [], "annotations": []})",
       "images[0]: 'id' must be an integer"},
      {R"({"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []})",
       "images[1]: repeated image id 1"},
      {R"({"images": [], "categories": [{"id": 1}], "annotations": []})",
       "categories[0]: missing 'name'"},
      {R"({"images": [], "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}],
           "annotations": []})",
       "categories[1]: repeated category id 1"},
      {R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
           "annotations": [{"image_id": 2}]})",
       "annotations[0]: unknown image_id 2"},
      {R"({"images": [{"id": 1}], "categories": [], "annotations": [3]})",
       "annotations[0]: expected an object"}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [text, message] = cases[i];
    SCOPED_TRACE(message);
    const std::string path = WriteTemp("coco_file_bad" + std::to_string(i) + ".json", text);
    const std::string file_error = ErrorOf([&] { ReadCocoFile(path); });
    EXPECT_NE(file_error.find(path + ": "), std::string::npos) << file_error;
    EXPECT_NE(file_error.find(message), std::string::npos) << file_error;
    EXPECT_EQ(ErrorOf([&] { eval::ReadCocoInstances(path); }), file_error);
    CocoDatasetOptions options;
    options.annotation_file = path;
    options.on_bad_sample = OnBadSample::kSkip;  // structure errors are never skipped
    EXPECT_EQ(ErrorOf([&] { CocoDataset dataset(options); }), file_error);
  }
}

}  // namespace
}  // namespace scratchdet::data
