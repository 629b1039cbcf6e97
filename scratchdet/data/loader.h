// Multi-threaded decoding and augmentation into training / evaluation batches.
//
// Reproducibility: the order of epoch e is a permutation drawn from (seed, e) and the
// augmentation of dataset sample i in epoch e uses Rng::Stream(seed, {e, i}), so every batch
// depends only on (seed, epoch, position) -- never on the number of workers or on thread
// timing -- and a run resumed from state() continues with exactly the batches it would have
// produced (an interrupted training run resumes bit-identically).
#pragma once

#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "scratchdet/data/dataset.h"
#include "scratchdet/data/transforms/transform.h"

namespace scratchdet::data {

struct Batch {
  torch::Tensor images;               // [B, 3, H, W] float, BGR minus the mean pixel
  std::vector<torch::Tensor> boxes;   // per image [n, 4] float, normalised (x1, y1, x2, y2)
  std::vector<torch::Tensor> labels;  // per image [n] int64, class index + 1 (0 = background)
  std::vector<std::string> image_ids;
  std::vector<std::pair<int, int>> original_sizes;  // (height, width) of the image on disk
  std::vector<std::vector<uint8_t>> difficult;      // per image, aligned with boxes
  // The same targets padded to the most boxes in the batch: [B, max_n, 4] (zeros), [B, max_n]
  // (0 = background), and the real count per image [B] int64.
  torch::Tensor padded_boxes, padded_labels, counts;

  int64_t size() const { return static_cast<int64_t>(image_ids.size()); }
};

// Data-parallel training (engine/data_parallel.h): the training stream, batch after batch, is
// dealt out in rounds of `count` x `group_batches` batches; in each round rank r gets batches
// r * group_batches ... (r + 1) * group_batches - 1. With group_batches = the accumulation steps,
// rank r's micro-batch a of iteration i is batch (i * count + r) * group_batches + a of the
// one-process stream: W processes with per-process batch B train on exactly the batches of one
// process with batch B and W x accumulation steps.
struct LoaderShard {
  int rank = 0;
  int count = 1;
  int group_batches = 1;
};

struct DataLoaderOptions {
  int batch_size = 32;
  int input_size = 300;  // square network input (warp-resize)
  // Decoding/augmentation threads; 0 = in the caller's thread inside Next().
  int workers = 2;
  int prefetch_batches = 2;  // bound on prepared batches waiting in memory
  uint64_t seed = 0;
  // true: endless, reshuffled every epoch, SSD training augmentation, batches run on across
  // epoch ends; false: one pass in dataset order with the test transform, last batch partial.
  bool train = true;
  // Whether "difficult" objects are training targets (the official SSD/ScratchDet code keeps
  // them); they are always reported in Batch::difficult. Crowd objects are never targets.
  bool keep_difficult = true;
  // Overrides the pipeline (default: SsdTrainTransform / SsdTestTransform of input_size). Must
  // end with an input_size x input_size CV_32FC3 image.
  std::shared_ptr<const Transform> transform;
  // Training only: this process's share of the stream (count 1: all of it).
  LoaderShard shard;
};

// Where the loader stands: the next sample is position `position` of epoch `epoch`. For a
// sharded loader, positions are those of the whole (unsharded) stream; between rounds (at
// iteration boundaries) every rank's loader has the same state.
struct LoaderState {
  int64_t epoch = 0;
  int64_t position = 0;
  bool operator==(const LoaderState& other) const {
    return epoch == other.epoch && position == other.position;
  }
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const DetectionDataset> dataset, DataLoaderOptions options,
             LoaderState start = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // The next batch; nullopt once an evaluation pass is over (training never ends). A bad
  // image under OnBadSample::kSkip is replaced by the next sample of the epoch's order (and
  // counted in dataset().bad_samples()); under kError its BadSampleError is rethrown here
  // and the loader is unusable afterwards.
  std::optional<Batch> Next();

  // To resume after the batches returned so far: DataLoader(dataset, options, state()).
  LoaderState state() const;
  const DetectionDataset& dataset() const { return *dataset_; }
  int64_t samples_per_epoch() const { return static_cast<int64_t>(dataset_->size()); }

  // The sample order of `epoch` (dataset indices) for `seed`: a pure function.
  static std::vector<int64_t> EpochOrder(uint64_t seed, int64_t epoch, int64_t size);

 private:
  struct Prepared {
    torch::Tensor image;                      // [3, H, W]
    std::vector<std::array<float, 4>> boxes;  // normalised
    std::vector<int64_t> labels;              // class index + 1
    std::vector<uint8_t> difficult;
    std::string image_id;
    std::pair<int, int> original_size;
    std::exception_ptr error;
  };

  Prepared Prepare(int64_t sequence) const;
  // The position in the unsharded stream (from start_) of this loader's `sequence`-th sample.
  int64_t StreamOffset(int64_t sequence) const;
  void WorkerLoop();
  Batch Assemble(std::vector<Prepared>& samples) const;

  std::shared_ptr<const DetectionDataset> dataset_;
  DataLoaderOptions options_;
  std::shared_ptr<const Transform> transform_;
  LoaderState start_;
  int64_t end_sequence_;  // samples this loader will produce (INT64_MAX when training)

  mutable std::mutex mutex_;
  std::condition_variable space_available_, result_ready_;
  int64_t next_sequence_ = 0;      // next sample a worker claims
  int64_t consumed_sequence_ = 0;  // first sample not yet returned by Next()
  std::map<int64_t, Prepared> ready_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// One BGR uint8 image through the test-time transform (warp-resize to input_size, mean
// subtraction) as a [3, input_size, input_size] tensor: what `detect` and the pretrain crops
// feed the network, identical to an evaluation batch's image.
torch::Tensor TestImageTensor(const cv::Mat& bgr, int input_size);

}  // namespace scratchdet::data
