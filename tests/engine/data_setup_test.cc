// Data setup of a run: the shapes benchmark generated once into the cache and read back in
// both of its layouts, the training loader, and the errors for a missing dataset.
#include "scratchdet/engine/data_setup.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "scratchdet/core/error.h"
#include "scratchdet/engine/train_config.h"
#include "tests/testing/temp_files.h"
#include "tests/testing/error_of.h"

namespace scratchdet::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TrainConfig Smoke(const json& patch = json::object()) {
  json config = MergeConfig(ProfileDefaults("smoke"), patch, "test");
  config["run"]["threads"] = 1;
  return ParseTrainConfig(config);
}

using ::scratchdet::testing::ErrorOf;

TEST(DataSetupTest, ShapesAreGeneratedOnceAndReadBack) {
  const std::string cache = ::scratchdet::testing::FreshDir("data_setup_cache");
  const TrainConfig config = Smoke();
  DataSetup setup = SetUpData(config, cache);
  const std::string root = setup.description["root"];
  EXPECT_EQ(root.rfind(cache + "/shapes/", 0), 0u) << root;
  EXPECT_TRUE(fs::exists(root + "/COMPLETE"));
  EXPECT_EQ(setup.description["train_images"], 32);
  EXPECT_EQ(setup.description["test_images"], 16);
  EXPECT_EQ(setup.class_names.size(), 10u);
  EXPECT_EQ(setup.num_classes(), 11);  // + background

  // The loader gives batches of the configured size at the input size, with one box tensor
  // and one label tensor per image (labels >= 1: 0 is the background).
  const data::Batch batch = *setup.train_loader->Next();
  EXPECT_EQ(batch.images.sizes(), (std::vector<int64_t>{4, 3, 64, 64}));
  ASSERT_EQ(batch.boxes.size(), 4u);
  for (size_t b = 0; b < 4; ++b) {
    EXPECT_EQ(batch.boxes[b].size(0), batch.labels[b].size(0));
    if (batch.labels[b].numel() > 0) {
      EXPECT_GE(batch.labels[b].min().item<int64_t>(), 1);
    }
  }

  // A second setup reuses the generated folder (a file placed in it survives).
  const std::string marker = root + "/marker";
  ::scratchdet::testing::WriteText(marker, "x");
  const DataSetup again = SetUpData(config, cache, /*with_train=*/false);
  EXPECT_EQ(again.description["root"], root);
  EXPECT_TRUE(fs::exists(marker));
  EXPECT_EQ(again.train, nullptr);
  EXPECT_EQ(again.train_loader, nullptr);
  EXPECT_TRUE(again.description["train"].is_null());
}

// The generator writes the same objects in the VOC layout and as COCO JSON; the two readers
// must agree box for box.
TEST(DataSetupTest, TheShapesVocAndCocoLayoutsReadTheSameObjects) {
  const std::string cache = ::scratchdet::testing::FreshDir("data_setup_layouts");
  const DataSetup voc = SetUpData(Smoke(), cache, /*with_train=*/false);
  const DataSetup coco = SetUpData(Smoke({{"data", {{"format", "coco"}}}}), cache, false);
  EXPECT_EQ(coco.class_names, voc.class_names);
  ASSERT_EQ(coco.test->size(), voc.test->size());
  std::map<std::string, data::Sample> by_id;
  for (size_t i = 0; i < voc.test->size(); ++i) {
    data::Sample s = voc.test->AnnotationOnly(i);
    by_id[s.image_id] = s;
  }
  for (size_t i = 0; i < coco.test->size(); ++i) {
    const data::Sample c = coco.test->AnnotationOnly(i);
    SCOPED_TRACE(c.image_id);
    ASSERT_TRUE(by_id.count(c.image_id));
    const data::Sample& v = by_id[c.image_id];
    EXPECT_EQ(c.labels, v.labels);
    ASSERT_EQ(c.boxes.size(), v.boxes.size());
    for (size_t k = 0; k < c.boxes.size(); ++k)
      for (int d = 0; d < 4; ++d) EXPECT_NEAR(c.boxes[k][d], v.boxes[k][d], 1.0) << k;
  }
}

TEST(DataSetupTest, AMissingDatasetIsNamed) {
  EXPECT_NE(ErrorOf([] { SetUpData(Smoke({{"data", {{"format", "voc"}}}}), ""); })
                .find("data.root is required for data.format 'voc'"),
            std::string::npos);
  const std::string missing = ::scratchdet::testing::TempDir() + "/no_such_devkit";
  EXPECT_NE(ErrorOf([&] {
              SetUpData(Smoke({{"data", {{"format", "voc"}, {"root", missing}}}}), "");
            }).find(missing + ": dataset root is not a directory"),
            std::string::npos);
}

}  // namespace
}  // namespace scratchdet::engine
