#include "scratchdet/data/loader.h"

#include <gtest/gtest.h>

#include <set>

#include "scratchdet/data/shapes.h"
#include "scratchdet/data/voc_dataset.h"
#include "tests/data/test_files.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;

// One small shapes dataset (13 trainval images of 64 px) shared by the tests.
const fs::path& ShapesRoot() {
  static const fs::path root = [] {
    const fs::path dir = testing::FreshDir("loader_shapes");
    ShapesOptions options;
    options.out_dir = dir.string();
    options.train_images = 13;
    options.test_images = 2;
    options.image_size = 64;
    options.seed = 3;
    GenerateShapes(options);
    return dir;
  }();
  return root;
}

std::shared_ptr<const DetectionDataset> Shapes(OnBadSample policy = OnBadSample::kError,
                                               const fs::path& root = ShapesRoot()) {
  VocDatasetOptions options;
  options.root = root.string();
  options.spec = "trainval";
  options.on_bad_sample = policy;
  return std::make_shared<VocDataset>(options);
}

DataLoaderOptions Train(int workers) {
  DataLoaderOptions options;
  options.batch_size = 5;
  options.input_size = 48;
  options.workers = workers;
  options.seed = 42;
  return options;
}

void ExpectSameBatch(const Batch& a, const Batch& b, int which) {
  SCOPED_TRACE("batch " + std::to_string(which));
  ASSERT_EQ(a.image_ids, b.image_ids);
  EXPECT_TRUE(torch::equal(a.images, b.images));
  ASSERT_EQ(a.boxes.size(), b.boxes.size());
  for (size_t i = 0; i < a.boxes.size(); ++i) {
    EXPECT_TRUE(torch::equal(a.boxes[i], b.boxes[i]));
    EXPECT_TRUE(torch::equal(a.labels[i], b.labels[i]));
  }
  EXPECT_EQ(a.difficult, b.difficult);
  EXPECT_TRUE(torch::equal(a.padded_boxes, b.padded_boxes));
}

std::vector<Batch> Take(DataLoader& loader, int n) {
  std::vector<Batch> batches;
  for (int i = 0; i < n; ++i) batches.push_back(*loader.Next());
  return batches;
}

TEST(DataLoaderTest, BatchesDoNotDependOnTheNumberOfWorkers) {
  const auto dataset = Shapes();
  DataLoader inline_loader(dataset, Train(0));
  DataLoader one(dataset, Train(1));
  DataLoader two(dataset, Train(2));
  // 6 batches of 5 cross two epoch boundaries of the 13-image dataset.
  const auto a = Take(inline_loader, 6), b = Take(one, 6), c = Take(two, 6);
  for (int i = 0; i < 6; ++i) {
    ExpectSameBatch(a[i], b[i], i);
    ExpectSameBatch(a[i], c[i], i);
  }
}

TEST(DataLoaderTest, BatchLayoutAndTargets) {
  const auto dataset = Shapes();
  DataLoader loader(dataset, Train(2));
  const Batch batch = *loader.Next();
  EXPECT_EQ(batch.images.sizes(), (std::vector<int64_t>{5, 3, 48, 48}));
  EXPECT_EQ(batch.images.dtype(), torch::kFloat32);
  ASSERT_EQ(batch.size(), 5);
  int64_t max_n = 0;
  for (int i = 0; i < 5; ++i) {
    const int64_t n = batch.boxes[i].size(0);
    max_n = std::max(max_n, n);
    EXPECT_EQ(batch.boxes[i].size(1), 4);
    EXPECT_EQ(batch.labels[i].dtype(), torch::kInt64);
    EXPECT_EQ(batch.labels[i].size(0), n);
    EXPECT_EQ(batch.counts[i].item<int64_t>(), n);
    EXPECT_EQ(batch.difficult[i].size(), static_cast<size_t>(n));
    EXPECT_EQ(batch.original_sizes[i], std::make_pair(64, 64));
    if (n == 0) continue;
    EXPECT_GE(batch.labels[i].min().item<int64_t>(), 1);  // 0 is background
    EXPECT_LE(batch.labels[i].max().item<int64_t>(), 10);
    EXPECT_GE(batch.boxes[i].min().item<float>(), 0.0f);
    EXPECT_LE(batch.boxes[i].max().item<float>(), 1.0f);
    EXPECT_TRUE(torch::equal(batch.padded_boxes[i].narrow(0, 0, n), batch.boxes[i]));
  }
  EXPECT_EQ(batch.padded_boxes.sizes(), (std::vector<int64_t>{5, max_n, 4}));
  // Mean-subtracted BGR: values lie in [-123, 255 - 104].
  EXPECT_GE(batch.images.min().item<float>(), -123.0f);
  EXPECT_LE(batch.images.max().item<float>(), 151.0f);
}

TEST(DataLoaderTest, ResumesExactlyFromItsState) {
  const auto dataset = Shapes();
  DataLoader first(dataset, Train(2));
  const auto head = Take(first, 2);
  const LoaderState state = first.state();
  EXPECT_EQ(state, (LoaderState{0, 10}));
  const auto tail = Take(first, 4);
  EXPECT_EQ(first.state(), (LoaderState{2, 4}));  // 30 samples = 2 epochs of 13, plus 4

  DataLoader resumed(dataset, Train(1), state);
  const auto again = Take(resumed, 4);
  for (int i = 0; i < 4; ++i) ExpectSameBatch(tail[i], again[i], i);
  EXPECT_THROW(DataLoader(dataset, Train(1), LoaderState{0, 13}), Error);
}

// Data parallel: 2 ranks with groups of 2 batches deal out the one-process stream b0 b1 b2 ...
// as rank 0: b0 b1 b4 b5 ..., rank 1: b2 b3 b6 b7 ...; between rounds both report the
// stream's own state, and a rank resumed from it continues with its own batches.
TEST(DataLoaderTest, ShardsDealTheOneProcessStreamInGroupsOfBatches) {
  const auto dataset = Shapes();
  DataLoader whole(dataset, Train(0));
  const auto stream = Take(whole, 8);  // 40 samples: 3 epochs of 13, plus 1
  std::vector<std::vector<Batch>> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    DataLoaderOptions options = Train(rank);  // 0 and 1 workers: no effect on the batches
    options.shard = {rank, 2, 2};
    DataLoader shard(dataset, options);
    ranks.push_back(Take(shard, 2));
    EXPECT_EQ(shard.state(), (LoaderState{1, 7}));  // 20 samples of the stream
    ranks.back().push_back(*shard.Next());          // the second round
    DataLoader resumed(dataset, options, LoaderState{1, 7});
    ExpectSameBatch(ranks.back().back(), *resumed.Next(), rank);
    ranks.back().push_back(*shard.Next());
    EXPECT_EQ(shard.state(), (LoaderState{3, 1}));  // 40 samples of the stream
  }
  const int expected[2][4] = {{0, 1, 4, 5}, {2, 3, 6, 7}};
  for (int rank = 0; rank < 2; ++rank)
    for (int k = 0; k < 4; ++k) ExpectSameBatch(ranks[rank][k], stream[expected[rank][k]], k);

  DataLoaderOptions bad = Train(0);
  bad.shard = {2, 2, 1};
  EXPECT_THROW(DataLoader(dataset, bad), Error);
  bad.shard = {0, 2, 1};
  bad.train = false;
  EXPECT_THROW(DataLoader(dataset, bad), Error);
}

TEST(DataLoaderTest, EachEpochIsAPermutationOfItsOwn) {
  const auto order0 = DataLoader::EpochOrder(42, 0, 13);
  const auto order1 = DataLoader::EpochOrder(42, 1, 13);
  EXPECT_EQ(std::set<int64_t>(order0.begin(), order0.end()).size(), 13u);
  EXPECT_NE(order0, order1);
  EXPECT_EQ(order0, DataLoader::EpochOrder(42, 0, 13));
  EXPECT_NE(order0, DataLoader::EpochOrder(43, 0, 13));
  // The loader follows it: an epoch visits every image once.
  const auto dataset = Shapes();
  DataLoaderOptions options = Train(2);
  options.batch_size = 13;
  DataLoader loader(dataset, options);
  const Batch epoch = *loader.Next();
  for (int i = 0; i < 13; ++i)
    EXPECT_EQ(epoch.image_ids[i], dataset->AnnotationOnly(order0[i]).image_id);
}

TEST(DataLoaderTest, EvaluationIsOnePassInOrderWithUnaugmentedBoxes) {
  const auto dataset = Shapes();
  DataLoaderOptions options = Train(2);
  options.train = false;
  DataLoader loader(dataset, options);
  std::vector<int64_t> sizes;
  int64_t index = 0;
  while (auto batch = loader.Next()) {
    sizes.push_back(batch->size());
    for (int i = 0; i < batch->size(); ++i, ++index) {
      const Sample truth = dataset->AnnotationOnly(index);
      EXPECT_EQ(batch->image_ids[i], truth.image_id);
      ASSERT_EQ(batch->boxes[i].size(0), static_cast<int64_t>(truth.boxes.size()));
      for (size_t k = 0; k < truth.boxes.size(); ++k)
        for (int d = 0; d < 4; ++d)
          EXPECT_NEAR(batch->boxes[i][k][d].item<float>(), truth.boxes[k][d] / 64.0f, 1e-6);
    }
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{5, 5, 3}));
  EXPECT_FALSE(loader.Next().has_value());
  EXPECT_EQ(loader.state(), (LoaderState{0, 13}));
}

TEST(DataLoaderTest, DifficultObjectsAreTargetsOnlyWhenKept) {
  const auto dataset = Shapes();
  DataLoaderOptions options = Train(0);
  options.keep_difficult = false;
  DataLoader loader(dataset, options);
  for (const Batch& batch : Take(loader, 3))
    for (const auto& flags : batch.difficult)
      for (const uint8_t flag : flags) EXPECT_EQ(flag, 0);
}

TEST(DataLoaderTest, CorruptImageIsReplacedAndCountedUnderSkip) {
  const fs::path root = testing::FreshDir("loader_corrupt");
  fs::copy(ShapesRoot(), root, fs::copy_options::recursive);
  testing::WriteFile(root / "JPEGImages/trainval_000004.jpg", "garbage");
  const auto skipping = Shapes(OnBadSample::kSkip, root);
  DataLoaderOptions options = Train(2);
  options.batch_size = 13;
  DataLoader loader(skipping, options);
  const Batch batch = *loader.Next();
  EXPECT_EQ(batch.size(), 13);
  std::set<std::string> ids(batch.image_ids.begin(), batch.image_ids.end());
  EXPECT_EQ(ids.count("trainval_000004"), 0u);
  EXPECT_EQ(ids.size(), 12u);  // its slot went to the next image of the order
  EXPECT_EQ(skipping->bad_samples().Counts().at("corrupt_image"), 1);

  DataLoader strict(Shapes(OnBadSample::kError, root), options);
  EXPECT_THROW(strict.Next(), BadSampleError);
}

}  // namespace
}  // namespace scratchdet::data
