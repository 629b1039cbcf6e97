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

#include "scratchdet/box/matcher.h"
#include "scratchdet/box/multibox_loss.h"
#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/core/provenance.h"
#include "scratchdet/engine/checkpoint.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/evaluation.h"
#include "scratchdet/engine/lr_schedule.h"
#include "scratchdet/engine/peak_memory.h"
#include "scratchdet/engine/pretrain.h"
#include "scratchdet/engine/progress.h"
#include "scratchdet/engine/run_directory.h"
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

// Global L2 norm of all parameter gradients.
double GradientNorm(torch::nn::Module& model) {
  double sum = 0;
  for (const auto& p : model.parameters())
    if (p.grad().defined()) sum += p.grad().detach().pow(2).sum().item<double>();
  return std::sqrt(sum);
}

// Positives in the batch on each prior level (labels [B, P], 0 = background).
std::vector<double> PositivesPerLevel(const torch::Tensor& labels,
                                      const std::vector<int64_t>& level_ends) {
  const torch::Tensor per_prior = (labels > 0).sum(0).to(torch::kCPU);  // [P]
  std::vector<double> out;
  int64_t begin = 0;
  for (int64_t end : level_ends) {
    out.push_back(per_prior.slice(0, begin, end).sum().item<double>());
    begin = end;
  }
  return out;
}

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

}  // namespace

json TrainAndEvaluate(const TrainConfig& config, const RunContext& context) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::string started = UtcNow();
  torch::set_num_threads(config.threads);
  const torch::Device device(config.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    Fail("config: device '{}' requested but this LibTorch has no CUDA device", config.device);

  // One writer per run directory, and a directory holds the runs of one config: resuming
  // another config's checkpoint would write that run's numbers under this config. Checked
  // before anything in the directory is written.
  const RunDirectoryLock lock(context.run_dir);
  const json config_json = ToJson(config);
  const json comparable_config = ComparableConfig(config_json);
  if (!context.fresh) CheckRunDirectoryConfig(context.run_dir, comparable_config);
  const std::string config_hash = ConfigHash(comparable_config);

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
  provenance["threads"] = config.threads;
  provenance["start_time"] = started;

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
    WriteFileAtomic(context.run_dir + "/result.json", JsonText(result, 2) + "\n");
    return result;
  };

  try {
    DataSetup data = SetUpData(config, context.cache_root);
    result["data"] = data.description;
    json model_config = ResolveModelConfig(config, data.num_classes());
    model::SsdDetector detector = model::BuildDetector(model_config, config.seed);
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
    if (!context.fresh &&
        LoadCheckpoint(CheckpointPath(context), *detector, optimizer, checkpoint)) {
      start_iteration = checkpoint.state.at("iteration").get<int64_t>();
      curves = Curves::FromJson(checkpoint.state.at("curves"));
      data.RestoreTrainLoader(checkpoint.state.at("loader"));
      evaluations = checkpoint.state.value("evaluations", json::array());
      earlier_wall_seconds = checkpoint.state.value("wall_time_s", 0.0);
      train_seconds = checkpoint.state.value("train_seconds", 0.0);
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
              : PretrainBackbone(*detector, data, config, device, context.quiet);
    }

    const box::PriorConfig& prior_config = detector->prior_config();
    const torch::Tensor priors = detector->Priors(config.input_size, config.input_size).to(device);
    const std::vector<int64_t> level_ends = box::PriorLevelEnds(
        prior_config, detector->FeatureMapSizes(config.input_size, config.input_size));
    ProgressReporter progress(config.solver.iterations, config.log_interval,
                              context.quiet ? nullptr : stderr);
    const int64_t images_per_iteration =
        static_cast<int64_t>(config.solver.batch_size) * config.solver.accumulation_steps;
    std::string diverged;

    const StopSignalScope stop_signals;
    const std::function<bool()> stop_requested = [] { return g_stop_requested != 0; };
    bool interrupted = false;
    auto evaluation_due = [&](int64_t done) {
      return config.eval.interval > 0 && done % config.eval.interval == 0 &&
             done < config.solver.iterations;
    };
    auto evaluate_periodically = [&](int64_t done) {
      const json metrics = EvaluateDetector(*detector, data, config, device, stop_requested);
      evaluations.push_back({{"iteration", done}, {"metrics", metrics}});
      progress.Message(
          fmt::format("eval @ {}: mAP {:.2f}%", done, 100 * metrics.value("mAP", 0.0)));
      detector->train();
    };
    // A run stopped right after an evaluation iteration checkpointed before evaluating: the
    // resumed run makes up that evaluation first, so its list equals an uninterrupted run's.
    if (start_iteration > 0 && evaluation_due(start_iteration) &&
        (evaluations.empty() || evaluations.back().at("iteration") != start_iteration))
      evaluate_periodically(start_iteration);
    detector->train();
    for (int64_t it = start_iteration; it < config.solver.iterations; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      const double lr = LearningRateAt(schedule, it);
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      optimizer.zero_grad();
      IterationStats stats;
      stats.positives_per_level.assign(level_ends.size(), 0.0);
      const double steps = config.solver.accumulation_steps;
      for (int a = 0; a < config.solver.accumulation_steps; ++a) {
        data::Batch batch = *data.train_loader->Next();  // endless in training
        const torch::Tensor images = batch.images.to(device);
        const model::SsdOutput out = detector->forward(
            channels_last ? images.contiguous(torch::MemoryFormat::ChannelsLast) : images);
        std::vector<torch::Tensor> boxes, labels;
        for (size_t b = 0; b < batch.boxes.size(); ++b) {
          boxes.push_back(batch.boxes[b].to(device));
          labels.push_back(batch.labels[b].to(device));
        }
        const box::MatchTargets targets =
            box::MatchPriors(boxes, labels, priors, prior_config.variances);
        const box::MultiBoxLossOutput loss = box::MultiBoxLoss(out.loc, out.conf, targets);
        (loss.total / config.solver.accumulation_steps).backward();
        stats.loss += loss.total.item<double>() / steps;
        stats.loc += loss.loc.item<double>() / steps;
        stats.conf += loss.conf.item<double>() / steps;
        stats.conf_positive += loss.conf_positive / steps;
        stats.conf_negative += loss.conf_negative / steps;
        const double image_count = static_cast<double>(batch.boxes.size()) * steps;
        stats.positives_per_image += static_cast<double>(loss.num_positives) / image_count;
        const std::vector<double> per_level = PositivesPerLevel(targets.labels, level_ends);
        for (size_t l = 0; l < per_level.size(); ++l)
          stats.positives_per_level[l] += per_level[l] / image_count;
      }
      const double loss_sum = stats.loss;
      const double grad_norm = GradientNorm(*detector);
      if (!std::isfinite(loss_sum) || !std::isfinite(grad_norm)) {
        // Paper Table A: without BN, large learning rates diverge; that is a result.
        diverged = fmt::format(
            "{} at iteration {} (lr {:.3g})",
            std::isfinite(loss_sum) ? "non-finite gradient norm" : "non-finite loss", it + 1, lr);
        curves.Append(stats, grad_norm, lr, /*diverged=*/true);
        result["metrics"]["diverged_at_iteration"] = it + 1;
        break;
      }
      optimizer.step();
      curves.Append(stats, grad_norm, lr, /*diverged=*/false);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      train_seconds += seconds;
      progress.Update({it + 1, config.solver.iterations, stats.loss, stats.loc, stats.conf, lr,
                       images_per_iteration / std::max(seconds, 1e-9)});

      const bool last = it + 1 == config.solver.iterations;
      interrupted = !last && (g_stop_requested != 0 || it + 1 == context.stop_after_iteration);
      // Evaluate before checkpointing, so that the checkpoint's list of evaluations is
      // complete; a stop request skips the evaluation (the resumed run makes it up).
      if (!interrupted && evaluation_due(it + 1)) {
        try {
          evaluate_periodically(it + 1);
        } catch (const EvaluationInterrupted&) {
          interrupted = true;
        }
      }
      if (interrupted || (config.checkpoint_interval > 0 &&
                          ((it + 1) % config.checkpoint_interval == 0 || last))) {
        checkpoint.state = {{"iteration", it + 1},
                            {"loader", data.TrainLoaderState()},
                            {"curves", curves.ToJson()},
                            {"evaluations", evaluations},
                            {"wall_time_s", wall_seconds()},
                            {"train_seconds", train_seconds},
                            {"config", comparable_config},
                            {"config_hash", config_hash}};
        SaveCheckpoint(CheckpointPath(context), *detector, optimizer, checkpoint);
      }
      if (interrupted) break;
    }
    progress.Finish();
    curves.WriteCsv(context.run_dir + "/curves.csv", level_ends.size());

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
    SaveWeights(context.run_dir + "/model.pt", *detector);
    const json final_metrics =
        EvaluateDetector(*detector, data, config, device, stop_requested);
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
