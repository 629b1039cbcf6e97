// The resolved configuration of one training run, parsed from JSON.
//
// Every key is checked: an unknown key (a typo) or a bad value stops with an error naming
// the key path, e.g. "config: solver.lr must be > 0 (got -1)".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>
#include "scratchdet/model/config.h"

namespace scratchdet::engine {

struct ShapesDataOptions {
  int train_images = 2000;
  int test_images = 300;
  int image_size = 300;
  int64_t seed = 7;
  // The generator's layout (data::ShapesLayout): objects per image and their diameter as a
  // fraction of the image side.
  int min_objects = 1;
  int max_objects = 6;
  double min_size = 0.04;
  double max_size = 0.8;
  double outline_probability = 0.5;  // share of shapes drawn as outlines
  int min_clutter = 3;               // clutter strokes per image, uniform in [min, max]
  int max_clutter = 10;
};

struct DataOptions {
  std::string format = "shapes";  // shapes | voc | coco
  std::string root;               // dataset root; for shapes empty = generated into the cache
  std::string train = "trainval";  // voc: split or spec (voc07_trainval+voc12_trainval); coco: json
  std::string test = "test";
  std::string train_images;        // coco: image folder of the train split
  std::string test_images;         // coco: image folder of the test split
  std::vector<std::string> classes;  // voc-layout own data; empty = the dataset's default
  bool keep_difficult = true;        // official code trains on difficult objects
  bool augment = true;               // SSD training augmentation; false = test transform only
  std::string on_bad_sample = "error";  // error | skip
  ShapesDataOptions shapes;
};

struct SolverOptions {
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  int batch_size = 32;          // images per forward pass
  int accumulation_steps = 4;   // forward passes per optimizer step (paper: 32 x 4 = 128)
  // Data parallel: the processes the global batch is split over (set by the launcher,
  // launch.h); global batch = world_size x batch_size x accumulation_steps.
  int world_size = 1;
  // When > 0, the global batch: accumulation_steps is derived from it as
  // global_batch_size / (world_size x batch_size) (paper profile: 128 = 32 x 4 on one process,
  // 32 x 1 on four), which must divide exactly.
  int global_batch_size = 0;
  int64_t iterations = 100000;  // optimizer steps
  int64_t warmup_iterations = 500;
  double warmup_factor = 1.0 / 3;
  std::vector<int64_t> steps = {40000, 75000, 90000};
  double gamma = 0.1;
};

struct EvalOptions {
  int64_t interval = 0;        // evaluate every N iterations (0: only at the end)
  std::string metric = "voc07";  // voc07 | area | coco
  int batch_size = 8;
};

// Table B's "pretrained" rows: the backbone is first trained as a classifier, then the
// detector is fine-tuned from it. Sources: "shapes_crops" (object crops of the training set,
// mini/smoke), "imagefolder" (a <root>/<class>/<image> tree, paper), "torchvision" (an
// ImageNet state dict saved by torch.save, imported by name; paper with real weights).
struct PretrainOptions {
  bool enabled = false;
  std::string source = "shapes_crops";
  std::string path;             // imagefolder root or torchvision .pth
  int64_t iterations = 2000;
  double lr = 0.05;
  int batch_size = 32;
  int input_size = 64;          // crop size fed to the classifier
};

// How this machine executes a config, never what the run computes: the comparable config
// (run_directory.h) and its hash leave the whole object out, so a result is found and
// reused whatever thread count or checkpoint interval produced it.
struct RunOptions {
  int threads = 0;                     // intra-op threads; 0: number of cores
  int workers = 2;                     // loader threads (the loader is worker-independent)
  int64_t checkpoint_interval = 1000;  // iterations between checkpoints (0: never)
  int64_t log_interval = 20;           // iterations between progress lines
  // Data parallel: after every update the ranks compare a checksum of their parameters and
  // fail naming the first rank that differs from rank 0 (a debugging check; costs a hash of
  // the weights per iteration).
  bool verify_replicas = false;
  // CUDA: cuDNN picks the fastest convolution algorithms by timing them (faster, not
  // bit-reproducible); `deterministic` asks for deterministic algorithms (cuDNN and ATen, with
  // a warning for an op that has none) and sets CUBLAS_WORKSPACE_CONFIG. Both are recorded in
  // the provenance. No effect on the CPU, whose kernels are deterministic already.
  bool cudnn_benchmark = false;
  bool deterministic = false;
};

struct TrainConfig {
  nlohmann::json model = "scratchdet300";  // preset name or model config object
  // Merged into the model config (a preset string becomes {"preset": name, ...}); profiles
  // use it to shrink width without restating the architecture.
  nlohmann::json model_overrides = nlohmann::json::object();
  int input_size = 300;
  DataOptions data;
  SolverOptions solver;
  EvalOptions eval;
  PretrainOptions pretrain;
  // Layout of conv weights and training inputs: "channels_last" (NHWC, faster with oneDNN)
  // or "contiguous" (NCHW). Part of the comparable config: it changes float rounding.
  std::string memory_format = "channels_last";
  // Arithmetic of the training forward (precision.h): "fp32" (the paper's, the default),
  // "bf16" (autocast, CPU or CUDA) or "fp16" (autocast with dynamic loss scaling, CUDA only).
  // Part of the comparable config except at fp32, so earlier results keep their hashes.
  std::string precision = "fp32";
  int64_t seed = 0;
  std::string device = "cpu";    // cpu | cuda | cuda:N
  int64_t curve_points = 200;    // loss/gradient curve samples kept in the result
  RunOptions run;                // JSON "run": machine facts, outside the comparable config
  // `model` with `model_overrides`, parsed and validated when the config is resolved, before
  // any data is generated; num_classes comes from the data (ResolveModelConfig). Not written
  // to JSON (`model` and `model_overrides` are).
  model::ModelConfig model_config;
};

// The model config of a run: config.model_config with num_classes from the data (the data
// decide the classes: the shapes classes, a VOC class list, a COCO file's categories).
model::ModelConfig ResolveModelConfig(const TrainConfig& config, int num_classes);

// Parses and validates; throws scratchdet::Error naming the key path on a bad or unknown key.
TrainConfig ParseTrainConfig(const nlohmann::json& json);
nlohmann::json ToJson(const TrainConfig& config);

// Profiles (README, "Profiles"): "paper" is the exact recipe of paper.md on VOC; "mini" the
// shapes benchmark at reduced input and width in minutes on 2 CPU cores; "smoke" seconds.
// Returns the profile's defaults as JSON to be merged under an experiment's own settings.
nlohmann::json ProfileDefaults(const std::string& profile);
std::vector<std::string> ProfileNames();

// Applies an RFC 7386 merge patch of `patch` onto `base`, refusing keys that `base` lacks
// so that typos in experiment files fail (`model` is replaced whole, not patched).
nlohmann::json MergeConfig(const nlohmann::json& base, const nlohmann::json& patch,
                           const std::string& where);

// "solver.lr=0.01" -> {"solver": {"lr": 0.01}}: a command-line --set as a merge patch. The
// value is parsed as JSON, and taken as a string when it is not JSON.
nlohmann::json OverridePatch(const std::string& assignment);

}  // namespace scratchdet::engine
