#include "scratchdet/engine/run.h"

#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/hash.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/core/provenance.h"
#include "scratchdet/engine/checkpoint.h"
#include "scratchdet/engine/data_parallel.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/evaluation.h"
#include "scratchdet/engine/lr_schedule.h"
#include "scratchdet/engine/peak_memory.h"
#include "scratchdet/engine/precision.h"
#include "scratchdet/engine/pretrain.h"
#include "scratchdet/engine/progress.h"
#include "scratchdet/engine/run_directory.h"
#include "scratchdet/engine/trainer.h"
#include "scratchdet/model/ssd.h"

namespace scratchdet::engine {

using nlohmann::json;

namespace {

// One training iteration's numbers, averaged over its accumulation steps.
struct IterationStats {
  double loss = 0, loc = 0, conf = 0;
  // Diagnostics of the matching and of the confidence term (README, "Result schema"):
  // positives per image, the confidence term split into positives and hard negatives, and
  // positives per image on each prior level.
  double positives_per_image = 0, conf_positive = 0, conf_negative = 0;
  std::vector<double> positives_per_level;
};

// Per-iteration curves (paper Fig. "optimisation landscape": training loss, gradient L2
// norm and its change between iterations) and the matching diagnostics.
struct Curves {
  std::vector<double> loss, loc, conf, grad_norm, grad_delta, lr;
  std::vector<double> positives_per_image, conf_positive, conf_negative;
  std::vector<std::vector<double>> positives_per_level;  // [iteration][level]

  json ToJson() const {
    return {{"loss", loss},
            {"loc", loc},
            {"conf", conf},
            {"grad_norm", grad_norm},
            {"grad_delta", grad_delta},
            {"lr", lr},
            {"positives_per_image", positives_per_image},
            {"conf_positive", conf_positive},
            {"conf_negative", conf_negative},
            {"positives_per_level", positives_per_level}};
  }
  // One iteration; the gradient-norm change is NaN for a diverged iteration and 0 for the
  // first one.
  void Append(const IterationStats& s, double norm, double lr_value, bool diverged) {
    grad_delta.push_back(diverged            ? NAN
                         : grad_norm.empty() ? 0.0
                                             : std::abs(norm - grad_norm.back()));
    loss.push_back(s.loss);
    loc.push_back(s.loc);
    conf.push_back(s.conf);
    grad_norm.push_back(norm);
    lr.push_back(lr_value);
    positives_per_image.push_back(s.positives_per_image);
    conf_positive.push_back(s.conf_positive);
    conf_negative.push_back(s.conf_negative);
    positives_per_level.push_back(s.positives_per_level);
  }
  static Curves FromJson(const json& j) {
    Curves c;
    c.loss = j.at("loss").get<std::vector<double>>();
    c.loc = j.at("loc").get<std::vector<double>>();
    c.conf = j.at("conf").get<std::vector<double>>();
    c.grad_norm = j.at("grad_norm").get<std::vector<double>>();
    c.grad_delta = j.at("grad_delta").get<std::vector<double>>();
    c.lr = j.at("lr").get<std::vector<double>>();
    // Checkpoints written before the diagnostics existed resume with NaN diagnostics.
    const size_t n = c.loss.size();
    auto optional = [&](const char* key) {
      return j.contains(key) ? j.at(key).get<std::vector<double>>()
                             : std::vector<double>(n, NAN);
    };
    c.positives_per_image = optional("positives_per_image");
    c.conf_positive = optional("conf_positive");
    c.conf_negative = optional("conf_negative");
    c.positives_per_level = j.contains("positives_per_level")
                                ? j.at("positives_per_level").get<std::vector<std::vector<double>>>()
                                : std::vector<std::vector<double>>(n);
    return c;
  }
  // `points` evenly spaced samples (always including the last iteration).
  json Sampled(int64_t points) const {
    json out = {{"iteration", json::array()},     {"loss", json::array()},
                {"grad_norm", json::array()},     {"grad_delta", json::array()},
                {"lr", json::array()},            {"positives_per_image", json::array()},
                {"conf_positive", json::array()}, {"conf_negative", json::array()}};
    const int64_t n = static_cast<int64_t>(loss.size());
    if (n == 0) return out;
    const int64_t k = std::min(points, n);
    for (int64_t s = 0; s < k; ++s) {
      const int64_t i = k == 1 ? n - 1 : s * (n - 1) / (k - 1);
      out["iteration"].push_back(i + 1);
      out["loss"].push_back(loss[i]);
      out["grad_norm"].push_back(grad_norm[i]);
      out["grad_delta"].push_back(grad_delta[i]);
      out["lr"].push_back(lr[i]);
      out["positives_per_image"].push_back(positives_per_image[i]);
      out["conf_positive"].push_back(conf_positive[i]);
      out["conf_negative"].push_back(conf_negative[i]);
    }
    return out;
  }
  void WriteCsv(const std::string& path, size_t levels) const {
    std::string text =
        "iteration,loss,loc,conf,grad_norm,grad_delta,lr,positives_per_image,conf_positive,"
        "conf_negative";
    for (size_t l = 0; l < levels; ++l) text += fmt::format(",positives_level{}", l);
    text += "\n";
    for (size_t i = 0; i < loss.size(); ++i) {
      text += fmt::format("{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}",
                          i + 1, loss[i], loc[i], conf[i], grad_norm[i], grad_delta[i], lr[i],
                          positives_per_image[i], conf_positive[i], conf_negative[i]);
      for (size_t l = 0; l < levels; ++l)
        text += fmt::format(",{:.6g}", l < positives_per_level[i].size()
                                           ? positives_per_level[i][l]
                                           : static_cast<double>(NAN));
      text += "\n";
    }
    WriteFileAtomic(path, text);
  }
};

std::string CheckpointPath(const RunContext& c) { return c.run_dir + "/checkpoint.pt"; }

// Set by SIGINT/SIGTERM: the loop checkpoints and stops at the next iteration boundary.
volatile std::sig_atomic_t g_stop_requested = 0;
void RequestStop(int) { g_stop_requested = 1; }

// Installs the stop handlers for the lifetime of a run and restores the previous ones.
class StopSignalScope {
 public:
  StopSignalScope() {
    g_stop_requested = 0;
    previous_int_ = std::signal(SIGINT, RequestStop);
    previous_term_ = std::signal(SIGTERM, RequestStop);
  }
  ~StopSignalScope() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

// The hooks of a detector's run, in the order they are added to the trainer: curves and
// diagnostics, progress, stop requests, periodic evaluation, checkpoints.

// Keeps the per-iteration curves; the micro-batches add their diagnostics to `stats`.
class CurvesHook : public TrainerHook {
 public:
  CurvesHook(Curves& curves, IterationStats& stats, size_t levels, double& train_seconds)
      : curves_(curves), stats_(stats), levels_(levels), train_seconds_(train_seconds) {}
  void BeforeIteration(Trainer&, int64_t) override {
    stats_ = IterationStats{};
    stats_.positives_per_level.assign(levels_, 0.0);
  }
  void AfterIteration(Trainer&, const IterationRecord& r) override {
    stats_.loss = r.loss;
    curves_.Append(stats_, r.grad_norm, r.lr, /*diverged=*/false);
    train_seconds_ += r.seconds;
  }
  void OnDivergence(Trainer&, const IterationRecord& r, const std::string&) override {
    stats_.loss = r.loss;
    curves_.Append(stats_, r.grad_norm, r.lr, /*diverged=*/true);
  }

 private:
  Curves& curves_;
  IterationStats& stats_;
  size_t levels_;
  double& train_seconds_;
};

class ProgressHook : public TrainerHook {
 public:
  ProgressHook(ProgressReporter& progress, const IterationStats& stats,
               int64_t images_per_iteration)
      : progress_(progress), stats_(stats), images_per_iteration_(images_per_iteration) {}
  void AfterIteration(Trainer& trainer, const IterationRecord& r) override {
    progress_.Update({r.iteration, trainer.options().iterations, stats_.loss, stats_.loc,
                      stats_.conf, r.lr, images_per_iteration_ / std::max(r.seconds, 1e-9)});
  }

 private:
  ProgressReporter& progress_;
  const IterationStats& stats_;
  int64_t images_per_iteration_;
};

// Ctrl-C / SIGTERM, or RunContext::stop_after_iteration: stop after this iteration (never
// after the last one, which goes on to the final evaluation).
// Under data parallelism `signalled` is the stop agreed by the ranks (DataParallelHook).
class StopHook : public TrainerHook {
 public:
  StopHook(int64_t stop_after_iteration, std::function<bool()> signalled)
      : stop_after_(stop_after_iteration), signalled_(std::move(signalled)) {}
  void AfterIteration(Trainer& trainer, const IterationRecord& r) override {
    const bool last = r.iteration == trainer.options().iterations;
    if (!last && (signalled_() || r.iteration == stop_after_)) trainer.RequestStop();
  }

 private:
  int64_t stop_after_;
  std::function<bool()> signalled_;
};

// Evaluates every `interval` iterations (not after the last: the run's final evaluation
// follows), before the checkpoint so that the checkpoint's list of evaluations is complete.
// A stop request skips it (the resumed run makes it up); Ctrl-C during it stops the run.
class EvaluationHook : public TrainerHook {
 public:
  EvaluationHook(int64_t interval, std::function<void(int64_t)> evaluate)
      : interval_(interval), evaluate_(std::move(evaluate)) {}
  bool Due(int64_t done, int64_t iterations) const {
    return interval_ > 0 && done % interval_ == 0 && done < iterations;
  }
  void AfterIteration(Trainer& trainer, const IterationRecord& r) override {
    if (trainer.stop_requested() || !Due(r.iteration, trainer.options().iterations)) return;
    try {
      evaluate_(r.iteration);
    } catch (const EvaluationInterrupted&) {
      trainer.RequestStop();
    }
  }

 private:
  int64_t interval_;
  std::function<void(int64_t)> evaluate_;
};

// Writes the checkpoint every `interval` iterations, after the last one, and when stopping.
class CheckpointHook : public TrainerHook {
 public:
  CheckpointHook(int64_t interval, std::function<void(int64_t)> save)
      : interval_(interval), save_(std::move(save)) {}
  void AfterIteration(Trainer& trainer, const IterationRecord& r) override {
    const bool last = r.iteration == trainer.options().iterations;
    if (trainer.stop_requested() || (interval_ > 0 && (r.iteration % interval_ == 0 || last)))
      save_(r.iteration);
  }

 private:
  int64_t interval_;
  std::function<void(int64_t)> save_;
};

// run.verify_replicas: after every update the ranks compare a checksum of their parameters.
class VerifyReplicasHook : public TrainerHook {
 public:
  VerifyReplicasHook(DataParallelGroup& group, std::vector<torch::Tensor> parameters)
      : group_(group), parameters_(std::move(parameters)) {}
  void AfterIteration(Trainer&, const IterationRecord& r) override {
    Fnv1a64 hash;  // over the bytes of every parameter
    for (const torch::Tensor& p : parameters_) {
      const torch::Tensor c = p.detach().contiguous().cpu();
      hash.Update(c.data_ptr(), c.numel() * c.element_size());
    }
    const std::vector<std::string> all = group_.AllGather(hash.Hex());
    for (size_t rank = 1; rank < all.size(); ++rank)
      if (all[rank] != all[0])
        Fail("run.verify_replicas: after iteration {} the parameters of rank {} differ from "
             "rank 0's (checksum {} vs {})", r.iteration, rank, all[rank], all[0]);
    ++verified_;
  }
  int64_t verified() const { return verified_; }

 private:
  DataParallelGroup& group_;
  std::vector<torch::Tensor> parameters_;
  int64_t verified_ = 0;
};

}  // namespace

json TrainAndEvaluate(const TrainConfig& config, const RunContext& context) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::string started = UtcNow();
  torch::set_num_threads(config.run.threads);
  const torch::Device device(config.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    Fail("config: device '{}' requested but this LibTorch has no CUDA device", config.device);
  const Precision precision = ParsePrecision(config.precision);
  ApplyDeterminismSettings(config.run.cudnn_benchmark, config.run.deterministic);

  // One writer per run directory, and a directory holds the runs of one config: resuming
  // another config's checkpoint would write that run's numbers under this config. Checked
  // before anything in the directory is written.
  DataParallelGroup* const group = context.group;
  const int world_size = group ? group->world_size() : 1;
  const bool writer = !group || group->rank() == 0;  // rank 0 alone writes the run directory
  std::optional<RunDirectoryLock> lock;
  if (writer) lock.emplace(context.run_dir);
  const json config_json = ToJson(config);
  const json comparable_config = ComparableConfig(config_json);
  if (writer && !context.fresh) CheckRunDirectoryConfig(context.run_dir, comparable_config);
  const std::string config_hash = ConfigHash(comparable_config);
  if (group && device.is_cuda() && group->backend() != "nccl")
    Fail("device '{}' with {} processes: the data-parallel group is Gloo over CPU tensors; NCCL "
         "for CUDA tensors comes with a CUDA build of LibTorch (README, \"Several processes and "
         "GPUs\")", config.device, world_size);
  if (world_size != config.solver.world_size)
    Fail("config: solver.world_size is {} but {} process(es) run this training: the launcher "
         "(--nproc or torchrun) sets it", config.solver.world_size, world_size);
  if (group) {
    // The same config on every rank, up to the GPU index (cuda:<local rank>).
    json rank_config = comparable_config;
    if (rank_config.contains("device"))
      rank_config["device"] = config.device.substr(0, config.device.find(':'));
    const std::vector<std::string> hashes = group->AllGather(ConfigHash(rank_config));
    for (int r = 1; r < world_size; ++r)
      if (hashes[r] != hashes[0])
        Fail("rank {} resolved another config than rank 0 (config hash {} vs {}): every rank "
             "must run the same command", r, hashes[r], hashes[0]);
  }

  json result = {{"schema_version", 1},
                 {"experiment", context.experiment},
                 {"profile", context.profile},
                 {"seed", config.seed},
                 {"config", config_json},
                 {"config_hash", config_hash},
                 {"status", {{"state", "running"}}},
                 {"metrics", json::object()},
                 {"paper_value", context.experiment.value("paper_value", json("n/r"))}};
  json provenance = BuildProvenance();
  provenance["device"] = config.device;
  provenance["precision"] = config.precision;
  provenance["cudnn_benchmark"] = config.run.cudnn_benchmark;
  provenance["deterministic"] = config.run.deterministic;
  provenance["threads"] = config.run.threads;
  provenance["start_time"] = started;
  provenance["world_size"] = world_size;
  provenance["backend"] = group ? group->backend() : "none";
  provenance["per_process_batch"] = config.solver.batch_size;
  provenance["accumulation_steps"] = config.solver.accumulation_steps;
  provenance["global_batch"] =
      world_size * config.solver.batch_size * config.solver.accumulation_steps;

  // Wall time of the earlier segments of a resumed run, up to the checkpoint it resumed from.
  double earlier_wall_seconds = 0;
  auto wall_seconds = [&] {
    return earlier_wall_seconds +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  auto finish = [&](const std::string& state, const std::string& message) {
    result["status"] = {{"state", state}};
    if (!message.empty()) result["status"]["message"] = message;
    provenance["end_time"] = UtcNow();
    result["provenance"] = provenance;
    result["metrics"]["wall_time_s"] = wall_seconds();
    result["metrics"]["peak_memory_mb"] = PeakResidentMemoryMb();
    if (device.is_cuda()) {
      const std::optional<double> gpu_peak = PeakGpuMemoryMb(device);
      result["metrics"]["gpu_peak_memory_mb"] = gpu_peak ? json(*gpu_peak) : json();
    }
    if (writer) WriteFileAtomic(context.run_dir + "/result.json", JsonText(result, 2) + "\n");
    return result;
  };

  try {
    // Rank 0 first: it generates a missing shapes dataset, the others then find it.
    const data::LoaderShard shard = {group ? group->rank() : 0, world_size,
                                     config.solver.accumulation_steps};
    std::optional<DataSetup> data_setup;
    if (writer) data_setup.emplace(SetUpData(config, context.cache_root, true, shard));
    if (group) group->Barrier();
    if (!writer) data_setup.emplace(SetUpData(config, context.cache_root, true, shard));
    DataSetup& data = *data_setup;
    result["data"] = data.description;
    model::SsdDetector detector =
        model::BuildDetector(ResolveModelConfig(config, data.num_classes()), config.seed);
    detector->to(device);
    const bool channels_last = config.memory_format == "channels_last";
    if (channels_last) model::ToChannelsLast(*detector);
    result["model"] = model::ToJson(detector->config());

    torch::optim::SGD optimizer(detector->parameters(),
                                torch::optim::SGDOptions(config.solver.lr)
                                    .momentum(config.solver.momentum)
                                    .weight_decay(config.solver.weight_decay));
    LrScheduleOptions schedule;
    schedule.base_lr = config.solver.lr;
    schedule.warmup_iterations = config.solver.warmup_iterations;
    schedule.warmup_factor = config.solver.warmup_factor;
    schedule.steps = config.solver.steps;
    schedule.gamma = config.solver.gamma;

    Curves curves;
    int64_t start_iteration = 0;
    double train_seconds = 0;
    json evaluations = json::array();
    CheckpointState checkpoint;
    bool resumed = false;
    // fp16: the dynamic loss scale (precision.h), part of the checkpoint.
    std::optional<LossScaler> loss_scaler;
    if (precision == Precision::kFp16) loss_scaler.emplace();
    if (!group) {
      resumed = !context.fresh &&
                LoadCheckpoint(CheckpointPath(context), *detector, optimizer, checkpoint);
    } else {
      // Rank 0 reads the checkpoint (the run directory may exist on its machine only) and
      // sends its bytes; every rank loads the same state.
      const std::string path = CheckpointPath(context);
      const bool exists = writer && !context.fresh && std::filesystem::exists(path);
      const std::string bytes = group->BroadcastBytes(exists ? ReadFile(path) : "");
      if (!bytes.empty()) {
        LoadCheckpointBytes(bytes, path, *detector, optimizer, checkpoint);
        resumed = true;
      }
    }
    if (resumed) {
      const int written_by = checkpoint.state.value("world_size", 1);
      if (written_by != world_size)
        Fail("{}: the checkpoint was written by a run of {} process(es); resume it with the "
             "same number (--nproc {}) or start afresh with --fresh",
             CheckpointPath(context), written_by, written_by);
      start_iteration = checkpoint.state.at("iteration").get<int64_t>();
      curves = Curves::FromJson(checkpoint.state.at("curves"));
      data.RestoreTrainLoader(checkpoint.state.at("loader"));
      evaluations = checkpoint.state.value("evaluations", json::array());
      earlier_wall_seconds = checkpoint.state.value("wall_time_s", 0.0);
      train_seconds = checkpoint.state.value("train_seconds", 0.0);
      if (loss_scaler && checkpoint.state.contains("loss_scaler"))
        loss_scaler->Restore(checkpoint.state.at("loss_scaler"));
      // Loading replaces the weights with contiguous tensors: the same layout as an
      // uninterrupted run keeps a resumed run bit-identical.
      if (channels_last) model::ToChannelsLast(*detector);
      if (!context.quiet)
        fmt::print(stderr, "resuming {} from iteration {}\n", context.run_dir, start_iteration);
    }
    result["resumed_from_iteration"] = start_iteration;
    if (config.pretrain.enabled) {
      // A resumed run's checkpoint already holds the pretrained-then-fine-tuned weights.
      result["pretrain"] =
          start_iteration > 0
              ? json{{"source", config.pretrain.source}, {"note", "restored from checkpoint"}}
              : PretrainBackbone(*detector, data, config, device, context.quiet || !writer);
    }
    // DDP's start: every rank holds rank 0's parameters and buffers.
    if (group) {
      std::vector<torch::Tensor> state = detector->parameters();
      for (const torch::Tensor& b : detector->buffers()) state.push_back(b);
      group->Broadcast(state);
    }

    const size_t levels =
        detector->FeatureMapSizes(config.input_size, config.input_size).size();
    ProgressReporter progress(config.solver.iterations, config.run.log_interval,
                              context.quiet || !writer ? nullptr : stderr);
    const int64_t images_per_iteration = static_cast<int64_t>(world_size) *
                                         config.solver.batch_size *
                                         config.solver.accumulation_steps;
    if (group && writer && !context.quiet)
      fmt::print(stderr, "data parallel: {} processes x batch {} x {} accumulation step(s) = "
                 "global batch {}\n", world_size, config.solver.batch_size,
                 config.solver.accumulation_steps, images_per_iteration);

    const StopSignalScope stop_signals;
    // A stop signal interrupts an evaluation in one process; across ranks it is honoured at the
    // next iteration, where the ranks agree on it.
    const std::function<bool()> stop_requested = [group] {
      return !group && g_stop_requested != 0;
    };
    auto evaluate = [&](int64_t done) {
      const json metrics =
          EvaluateDetector(*detector, data, config, device, stop_requested, group);
      evaluations.push_back({{"iteration", done}, {"metrics", metrics}});
      progress.Message(
          fmt::format("eval @ {}: mAP {:.2f}%", done, 100 * metrics.value("mAP", 0.0)));
      detector->train();
    };
    auto save_checkpoint = [&](int64_t done) {
      if (!writer) return;
      checkpoint.state = {{"iteration", done},
                          {"world_size", world_size},
                          {"loader", data.TrainLoaderState()},
                          {"curves", curves.ToJson()},
                          {"evaluations", evaluations},
                          {"wall_time_s", wall_seconds()},
                          {"train_seconds", train_seconds},
                          {"config", comparable_config},
                          {"config_hash", config_hash}};
      if (loss_scaler) checkpoint.state["loss_scaler"] = loss_scaler->State();
      SaveCheckpoint(CheckpointPath(context), *detector, optimizer, checkpoint);
    };

    // One micro-batch: the detector's loss, and the diagnostics summed into `stats` (means
    // over the iteration's micro-batches; per image for the positives).
    IterationStats stats;
    const double steps = config.solver.accumulation_steps;
    auto micro_step = [&](int64_t, int) {
      data::Batch batch = *data.train_loader->Next();  // endless in training
      const torch::Tensor images = batch.images.to(device);
      std::vector<torch::Tensor> boxes, labels;
      for (size_t b = 0; b < batch.boxes.size(); ++b) {
        boxes.push_back(batch.boxes[b].to(device));
        labels.push_back(batch.labels[b].to(device));
      }
      // fp32 does nothing here; bf16/fp16 autocast the forward (the loss itself is fp32).
      const AutocastScope autocast(device, precision);
      const model::DetectionLoss loss = detector->Loss(
          channels_last ? images.contiguous(torch::MemoryFormat::ChannelsLast) : images, boxes,
          labels);
      stats.loc += loss.terms.loc.item<double>() / steps;
      stats.conf += loss.terms.conf.item<double>() / steps;
      stats.conf_positive += loss.terms.conf_positive / steps;
      stats.conf_negative += loss.terms.conf_negative / steps;
      const double image_count = static_cast<double>(batch.boxes.size()) * steps;
      stats.positives_per_image += static_cast<double>(loss.terms.num_positives) / image_count;
      for (size_t l = 0; l < loss.positives_per_level.size(); ++l)
        stats.positives_per_level[l] += loss.positives_per_level[l] / image_count;
      return loss.terms.total;
    };

    TrainerOptions trainer_options;
    trainer_options.iterations = config.solver.iterations;
    trainer_options.accumulation_steps = config.solver.accumulation_steps;
    trainer_options.schedule = schedule;
    if (loss_scaler) trainer_options.loss_scaler = &*loss_scaler;
    Trainer trainer(trainer_options, detector->parameters(), optimizer, micro_step);
    CurvesHook curves_hook(curves, stats, levels, train_seconds);
    ProgressHook progress_hook(progress, stats, images_per_iteration);
    // Data parallel: first of the hooks, so that the others see the global batch's numbers.
    std::optional<DataParallelHook> parallel_hook;
    if (group) {
      parallel_hook.emplace(
          *group, detector->parameters(), detector->buffers(),
          [&stats] {
            std::vector<double*> numbers = {&stats.loc, &stats.conf, &stats.conf_positive,
                                            &stats.conf_negative, &stats.positives_per_image};
            for (double& v : stats.positives_per_level) numbers.push_back(&v);
            return numbers;
          },
          [] { return g_stop_requested != 0; });
      trainer.AddHook(&*parallel_hook);
    }
    std::optional<VerifyReplicasHook> verify_hook;
    if (group && config.run.verify_replicas) {
      verify_hook.emplace(*group, detector->parameters());
      trainer.AddHook(&*verify_hook);
    }
    StopHook stop_hook(context.stop_after_iteration, [&parallel_hook] {
      return parallel_hook ? parallel_hook->stop_requested() : g_stop_requested != 0;
    });
    EvaluationHook evaluation_hook(config.eval.interval, evaluate);
    CheckpointHook checkpoint_hook(config.run.checkpoint_interval, save_checkpoint);
    for (TrainerHook* hook : std::initializer_list<TrainerHook*>{
             &curves_hook, &progress_hook, &stop_hook, &evaluation_hook, &checkpoint_hook})
      trainer.AddHook(hook);

    // A run stopped right after an evaluation iteration checkpointed before evaluating: the
    // resumed run makes up that evaluation first, so its list equals an uninterrupted run's.
    if (start_iteration > 0 && evaluation_hook.Due(start_iteration, config.solver.iterations) &&
        (evaluations.empty() || evaluations.back().at("iteration") != start_iteration))
      evaluate(start_iteration);
    detector->train();
    const TrainOutcome outcome = trainer.Run(start_iteration);
    const bool interrupted = outcome == TrainOutcome::kStopped;
    const std::string diverged = trainer.divergence();
    if (outcome == TrainOutcome::kDiverged)
      result["metrics"]["diverged_at_iteration"] = curves.loss.size();
    progress.Finish();
    if (writer) curves.WriteCsv(context.run_dir + "/curves.csv", levels);
    if (parallel_hook) result["metrics"]["sync_seconds"] = parallel_hook->sync_seconds();
    if (verify_hook) result["metrics"]["replicas_verified_iterations"] = verify_hook->verified();
    if (loss_scaler) {
      result["metrics"]["loss_scale"] = loss_scaler->scale();
      result["metrics"]["skipped_updates"] = loss_scaler->skipped_steps();
    }

    json& metrics = result["metrics"];
    const int64_t done = static_cast<int64_t>(curves.loss.size());
    metrics["iterations"] = done;
    metrics["train_images_per_second"] =
        train_seconds > 0 ? (done * images_per_iteration) / train_seconds : 0.0;
    metrics["final_loss"] = curves.loss.empty() ? json() : json(curves.loss.back());
    metrics["curves"] = curves.Sampled(config.curve_points);
    metrics["curves_csv"] = "curves.csv";
    metrics["periodic_evaluations"] = evaluations;
    metrics["bad_samples"] = data.BadSampleCounts();
    metrics["bad_sample_examples"] = data.BadSampleExamples();
    if (!diverged.empty()) {
      metrics["mAP"] = nullptr;
      return finish("diverged", diverged);
    }
    if (interrupted) {
      metrics["mAP"] = nullptr;
      return finish("interrupted", fmt::format("stopped after iteration {}; run again to resume",
                                               curves.loss.size()));
    }
    if (writer) SaveWeights(context.run_dir + "/model.pt", *detector);
    const json final_metrics =
        EvaluateDetector(*detector, data, config, device, stop_requested, group);
    for (const auto& [key, value] : final_metrics.items()) metrics[key] = value;
    metrics["bad_samples"] = data.BadSampleCounts();
    metrics["bad_sample_examples"] = data.BadSampleExamples();
    return finish("ok", "");
  } catch (const EvaluationInterrupted&) {
    // The checkpoint holds every finished iteration; running again evaluates.
    result["metrics"]["mAP"] = nullptr;
    return finish("interrupted", "stopped during an evaluation; run again to resume");
  } catch (const std::exception& e) {
    finish("failed", e.what());
    throw;
  }
}

int ExitCodeForState(const std::string& state) {
  if (state == "ok") return kExitOk;
  if (state == "diverged") return kExitDiverged;
  if (state == "interrupted") return kExitInterrupted;
  return kExitFailed;
}

}  // namespace scratchdet::engine
