#include "scratchdet/data/loader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <opencv2/core.hpp>

#include "scratchdet/core/error.h"
#include "scratchdet/data/transforms/ssd_pipeline.h"

namespace scratchdet::data {
namespace {

// Key separating the permutation streams from the per-sample augmentation streams.
constexpr uint64_t kOrderStream = 0x6f72646572ULL;

// [3, H, W] float tensor from an H x W CV_32FC3 image (channel planes written in place).
torch::Tensor ToChwTensor(const cv::Mat& image) {
  torch::Tensor tensor = torch::empty({3, image.rows, image.cols}, torch::kFloat32);
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c)
    planes.emplace_back(image.rows, image.cols, CV_32F, tensor[c].data_ptr<float>());
  cv::split(image, planes);
  return tensor;
}

}  // namespace

torch::Tensor TestImageTensor(const cv::Mat& bgr, int input_size) {
  AnnotatedImage input;
  input.image = bgr;
  Rng unused(0);  // the test transform draws nothing
  return ToChwTensor(SsdTestTransform(input_size)->Apply(std::move(input), unused).image);
}

std::vector<int64_t> DataLoader::EpochOrder(uint64_t seed, int64_t epoch, int64_t size) {
  std::vector<int64_t> order(size);
  for (int64_t i = 0; i < size; ++i) order[i] = i;
  Rng rng = Rng::Stream(seed, {kOrderStream, static_cast<uint64_t>(epoch)});
  for (int64_t i = size - 1; i > 0; --i) std::swap(order[i], order[rng.UniformInt(0, i)]);
  return order;
}

DataLoader::DataLoader(std::shared_ptr<const DetectionDataset> dataset, DataLoaderOptions options,
                       LoaderState start)
    : dataset_(std::move(dataset)), options_(std::move(options)), start_(start) {
  if (!dataset_) Fail("data loader: no dataset");
  if (dataset_->size() == 0) Fail("data loader: the dataset is empty");
  if (options_.batch_size < 1) Fail("data loader: batch size must be >= 1");
  if (options_.input_size < 1) Fail("data loader: input size must be >= 1");
  if (options_.workers < 0) Fail("data loader: workers must be >= 0");
  const int64_t n = samples_per_epoch();
  if (start_.epoch < 0 || start_.position < 0 || start_.position >= n)
    Fail("data loader: cannot resume at epoch {} position {} of a {}-sample dataset", start_.epoch,
         start_.position, n);
  if (!options_.train && start_.epoch != 0)
    Fail("data loader: an evaluation pass has only epoch 0");
  const LoaderShard& shard = options_.shard;
  if (shard.count < 1 || shard.group_batches < 1 || shard.rank < 0 || shard.rank >= shard.count)
    Fail("data loader: shard rank {} of {} (groups of {} batches) is not valid", shard.rank,
         shard.count, shard.group_batches);
  if (shard.count > 1 && !options_.train)
    Fail("data loader: only a training stream can be sharded");
  transform_ = options_.transform ? options_.transform
               : options_.train   ? SsdTrainTransform(options_.input_size)
                                  : SsdTestTransform(options_.input_size);
  end_sequence_ = options_.train ? std::numeric_limits<int64_t>::max() : n - start_.position;
  for (int w = 0; w < options_.workers; ++w) workers_.emplace_back([this] { WorkerLoop(); });
}

DataLoader::~DataLoader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  space_available_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

int64_t DataLoader::StreamOffset(int64_t sequence) const {
  const LoaderShard& shard = options_.shard;
  if (shard.count == 1) return sequence;
  const int64_t batch = options_.batch_size;
  const int64_t group = shard.group_batches;
  const int64_t local_batch = sequence / batch;
  const int64_t round = local_batch / group;
  const int64_t global_batch = (round * shard.count + shard.rank) * group + local_batch % group;
  return global_batch * batch + sequence % batch;
}

LoaderState DataLoader::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t n = samples_per_epoch();
  // At a round boundary the next round starts for every rank at the same stream position.
  const int64_t round_samples =
      static_cast<int64_t>(options_.batch_size) * options_.shard.group_batches;
  const int64_t offset =
      consumed_sequence_ % round_samples == 0
          ? consumed_sequence_ / round_samples * round_samples * options_.shard.count
          : StreamOffset(consumed_sequence_);
  const int64_t absolute = start_.position + offset;
  if (!options_.train && absolute >= n) return {0, n};  // the pass is over
  return {start_.epoch + absolute / n, absolute % n};
}

DataLoader::Prepared DataLoader::Prepare(int64_t sequence) const {
  Prepared prepared;
  try {
    const int64_t n = samples_per_epoch();
    const int64_t absolute = start_.position + StreamOffset(sequence);
    const int64_t epoch = start_.epoch + absolute / n;
    const int64_t position = absolute % n;
    // Each worker keeps the order of the epoch it is in; recomputing it is cheap (O(n)).
    // Keyed by everything the order depends on, so loaders sharing a thread cannot collide.
    thread_local std::array<int64_t, 3> cached_key{-1, -1, -1};
    thread_local std::vector<int64_t> cached_order;
    const std::array<int64_t, 3> key = {static_cast<int64_t>(options_.seed), epoch, n};
    if (options_.train && cached_key != key) {
      cached_order = EpochOrder(options_.seed, epoch, n);
      cached_key = key;
    }
    // A bad image (under kSkip) is replaced by the next sample of the order: the replacement
    // depends on the data only, so it is the same for any number of workers.
    std::optional<Sample> sample;
    int64_t index = 0;
    for (int64_t step = 0; step < n && !sample; ++step) {
      const int64_t at = (position + step) % n;
      index = options_.train ? cached_order[at] : at;
      sample = dataset_->TryLoad(static_cast<size_t>(index));
    }
    if (!sample) Fail("data loader: every image of the dataset failed to load");

    AnnotatedImage input;
    input.image = sample->image;
    for (size_t k = 0; k < sample->boxes.size(); ++k) {
      if (sample->crowd[k]) continue;
      if (options_.train && !options_.keep_difficult && sample->difficult[k]) continue;
      input.boxes.push_back(sample->boxes[k]);
      input.labels.push_back(sample->labels[k]);
      input.difficult.push_back(sample->difficult[k]);
    }
    Rng rng =
        Rng::Stream(options_.seed, {static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)});
    AnnotatedImage output = transform_->Apply(std::move(input), rng);
    if (output.image.type() != CV_32FC3 || output.image.rows != options_.input_size ||
        output.image.cols != options_.input_size)
      Fail("data loader: transform '{}' must end with a {}x{} CV_32FC3 image", transform_->name(),
           options_.input_size, options_.input_size);
    prepared.image = ToChwTensor(output.image);
    const float w = static_cast<float>(output.image.cols),
                h = static_cast<float>(output.image.rows);
    for (size_t k = 0; k < output.size(); ++k) {
      const auto& b = output.boxes[k];
      prepared.boxes.push_back({std::clamp(b[0] / w, 0.0f, 1.0f), std::clamp(b[1] / h, 0.0f, 1.0f),
                                std::clamp(b[2] / w, 0.0f, 1.0f),
                                std::clamp(b[3] / h, 0.0f, 1.0f)});
      prepared.labels.push_back(output.labels[k] + 1);
      prepared.difficult.push_back(output.difficult[k]);
    }
    prepared.image_id = sample->image_id;
    prepared.original_size = {sample->image.rows, sample->image.cols};
  } catch (...) {
    prepared.error = std::current_exception();
  }
  return prepared;
}

void DataLoader::WorkerLoop() {
  const int64_t capacity =
      static_cast<int64_t>(std::max(1, options_.prefetch_batches)) * options_.batch_size;
  while (true) {
    int64_t sequence;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_available_.wait(lock, [&] {
        return stopping_ ||
               (next_sequence_ < end_sequence_ && next_sequence_ < consumed_sequence_ + capacity);
      });
      if (stopping_) return;
      sequence = next_sequence_++;
    }
    Prepared prepared = Prepare(sequence);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(sequence, std::move(prepared));
    }
    result_ready_.notify_all();
  }
}

std::optional<Batch> DataLoader::Next() {
  std::vector<Prepared> samples;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t first = consumed_sequence_;
    const int64_t last = std::min(first + options_.batch_size, end_sequence_);
    if (first >= last) return std::nullopt;
    if (workers_.empty()) {
      lock.unlock();
      for (int64_t s = first; s < last; ++s) samples.push_back(Prepare(s));
      lock.lock();
    } else {
      for (int64_t s = first; s < last; ++s) {
        result_ready_.wait(lock, [&] { return ready_.count(s) > 0; });
        auto node = ready_.extract(s);
        samples.push_back(std::move(node.mapped()));
      }
    }
    for (const Prepared& p : samples)
      if (p.error) std::rethrow_exception(p.error);
    consumed_sequence_ = last;
  }
  space_available_.notify_all();
  return Assemble(samples);
}

Batch DataLoader::Assemble(std::vector<Prepared>& samples) const {
  Batch batch;
  const int64_t b = static_cast<int64_t>(samples.size());
  std::vector<torch::Tensor> images;
  size_t max_boxes = 0;
  for (const Prepared& p : samples) max_boxes = std::max(max_boxes, p.boxes.size());
  const int64_t m = static_cast<int64_t>(max_boxes);
  batch.padded_boxes = torch::zeros({b, m, 4}, torch::kFloat32);
  batch.padded_labels = torch::zeros({b, m}, torch::kInt64);
  batch.counts = torch::empty({b}, torch::kInt64);
  for (int64_t i = 0; i < b; ++i) {
    Prepared& p = samples[i];
    images.push_back(p.image);
    const int64_t n = static_cast<int64_t>(p.boxes.size());
    torch::Tensor boxes = torch::empty({n, 4}, torch::kFloat32);
    torch::Tensor labels = torch::empty({n}, torch::kInt64);
    if (n > 0) {
      std::memcpy(boxes.data_ptr<float>(), p.boxes.data(), sizeof(float) * 4 * n);
      std::memcpy(labels.data_ptr<int64_t>(), p.labels.data(), sizeof(int64_t) * n);
      batch.padded_boxes[i].narrow(0, 0, n).copy_(boxes);
      batch.padded_labels[i].narrow(0, 0, n).copy_(labels);
    }
    batch.counts[i] = n;
    batch.boxes.push_back(boxes);
    batch.labels.push_back(labels);
    batch.image_ids.push_back(std::move(p.image_id));
    batch.original_sizes.push_back(p.original_size);
    batch.difficult.push_back(std::move(p.difficult));
  }
  batch.images = torch::stack(images);
  return batch;
}

}  // namespace scratchdet::data
