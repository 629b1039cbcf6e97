#include "scratchdet/engine/train_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <thread>

#include "scratchdet/core/error.h"
#include "scratchdet/core/json_keys.h"
#include "scratchdet/model/config.h"

namespace scratchdet::engine {

namespace {

using nlohmann::json;

// Reads typed fields out of one JSON object and refuses any key it was not asked about.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) Fail("config: {} must be an object (got {})", Where(), object_.dump());
  }
  // After the last Get/Child: refuses a key that no Get or Child read (core/json_keys.h).
  void Finish() const {
    CheckKnownKeys(object_, std::vector<std::string>(seen_.begin(), seen_.end()),
                   path_.empty() ? "config" : "config '" + path_ + "'");
  }

  template <typename T>
  void Get(const std::string& key, T& out) {
    seen_.insert(key);
    if (!object_.contains(key)) return;
    try {
      out = object_.at(key).get<T>();
    } catch (const json::exception&) {
      Fail("config: {} has the wrong type (got {})", Key(key), object_.at(key).dump());
    }
  }
  void GetJson(const std::string& key, json& out) {
    seen_.insert(key);
    if (object_.contains(key)) out = object_.at(key);
  }
  const json* Child(const std::string& key) {
    seen_.insert(key);
    return object_.contains(key) ? &object_.at(key) : nullptr;
  }
  std::string Key(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

 private:
  std::string Where() const { return path_.empty() ? "the top level" : "'" + path_ + "'"; }
  const json& object_;
  std::string path_;
  std::set<std::string> seen_;
};

template <typename T>
void Require(bool ok, const std::string& key, const std::string& what, const T& got) {
  if (!ok) Fail("config: {} {} (got {})", key, what, got);
}

void ParseShapes(const json& j, ShapesDataOptions& s) {
  Reader r(j, "data.shapes");
  r.Get("train_images", s.train_images);
  r.Get("test_images", s.test_images);
  r.Get("image_size", s.image_size);
  r.Get("seed", s.seed);
  r.Get("min_objects", s.min_objects);
  r.Get("max_objects", s.max_objects);
  r.Get("min_size", s.min_size);
  r.Get("max_size", s.max_size);
  r.Get("outline_probability", s.outline_probability);
  r.Get("min_clutter", s.min_clutter);
  r.Get("max_clutter", s.max_clutter);
  r.Finish();
  Require(s.min_objects >= 1, "data.shapes.min_objects", "must be >= 1", s.min_objects);
  Require(s.max_objects >= s.min_objects, "data.shapes.max_objects", "must be >= min_objects",
          s.max_objects);
  Require(s.min_size > 0 && s.min_size <= 1, "data.shapes.min_size", "must be in (0, 1]",
          s.min_size);
  Require(s.max_size >= s.min_size && s.max_size <= 1, "data.shapes.max_size",
          "must be in [min_size, 1]", s.max_size);
  Require(s.outline_probability >= 0 && s.outline_probability <= 1,
          "data.shapes.outline_probability", "must be in [0, 1]", s.outline_probability);
  Require(s.min_clutter >= 0, "data.shapes.min_clutter", "must be >= 0", s.min_clutter);
  Require(s.max_clutter >= s.min_clutter, "data.shapes.max_clutter", "must be >= min_clutter",
          s.max_clutter);
  Require(s.train_images > 0, "data.shapes.train_images", "must be > 0", s.train_images);
  Require(s.test_images > 0, "data.shapes.test_images", "must be > 0", s.test_images);
  Require(s.image_size >= 32, "data.shapes.image_size", "must be >= 32", s.image_size);
}

void ParseData(const json& j, DataOptions& d) {
  Reader r(j, "data");
  r.Get("format", d.format);
  r.Get("root", d.root);
  r.Get("train", d.train);
  r.Get("test", d.test);
  r.Get("train_images", d.train_images);
  r.Get("test_images", d.test_images);
  r.Get("classes", d.classes);
  r.Get("keep_difficult", d.keep_difficult);
  r.Get("augment", d.augment);
  r.Get("on_bad_sample", d.on_bad_sample);
  if (const json* shapes = r.Child("shapes")) ParseShapes(*shapes, d.shapes);
  r.Finish();
  Require(d.format == "shapes" || d.format == "voc" || d.format == "coco", "data.format",
          "must be shapes, voc or coco", d.format);
  Require(d.on_bad_sample == "error" || d.on_bad_sample == "skip", "data.on_bad_sample",
          "must be error or skip", d.on_bad_sample);
}

void ParseSolver(const json& j, SolverOptions& s) {
  Reader r(j, "solver");
  r.Get("lr", s.lr);
  r.Get("momentum", s.momentum);
  r.Get("weight_decay", s.weight_decay);
  r.Get("batch_size", s.batch_size);
  r.Get("accumulation_steps", s.accumulation_steps);
  r.Get("world_size", s.world_size);
  r.Get("global_batch_size", s.global_batch_size);
  r.Get("iterations", s.iterations);
  r.Get("warmup_iterations", s.warmup_iterations);
  r.Get("warmup_factor", s.warmup_factor);
  r.Get("steps", s.steps);
  r.Get("gamma", s.gamma);
  r.Finish();
  Require(s.lr > 0, "solver.lr", "must be > 0", s.lr);
  Require(s.momentum >= 0 && s.momentum < 1, "solver.momentum", "must be in [0, 1)", s.momentum);
  Require(s.weight_decay >= 0, "solver.weight_decay", "must be >= 0", s.weight_decay);
  Require(s.batch_size > 0, "solver.batch_size", "must be > 0", s.batch_size);
  Require(s.world_size > 0, "solver.world_size", "must be > 0", s.world_size);
  Require(s.global_batch_size >= 0, "solver.global_batch_size", "must be >= 0",
          s.global_batch_size);
  if (s.global_batch_size > 0) {
    const int per_step = s.world_size * s.batch_size;
    Require(s.global_batch_size % per_step == 0, "solver.global_batch_size",
            fmt::format("must be a multiple of world size x batch size = {} x {}", s.world_size,
                        s.batch_size),
            s.global_batch_size);
    s.accumulation_steps = s.global_batch_size / per_step;
  }
  Require(s.accumulation_steps > 0, "solver.accumulation_steps", "must be > 0",
          s.accumulation_steps);
  Require(s.iterations > 0, "solver.iterations", "must be > 0", s.iterations);
  Require(s.warmup_iterations >= 0, "solver.warmup_iterations", "must be >= 0",
          s.warmup_iterations);
  Require(s.warmup_factor > 0 && s.warmup_factor <= 1, "solver.warmup_factor",
          "must be in (0, 1]", s.warmup_factor);
  Require(s.gamma > 0, "solver.gamma", "must be > 0", s.gamma);
  for (size_t i = 1; i < s.steps.size(); ++i)
    Require(s.steps[i] > s.steps[i - 1], "solver.steps", "must be increasing",
            fmt::format("{}", fmt::join(s.steps, ",")));
}

void ParseEval(const json& j, EvalOptions& e) {
  Reader r(j, "eval");
  r.Get("interval", e.interval);
  r.Get("metric", e.metric);
  r.Get("batch_size", e.batch_size);
  r.Finish();
  Require(e.interval >= 0, "eval.interval", "must be >= 0", e.interval);
  Require(e.metric == "voc07" || e.metric == "area" || e.metric == "coco", "eval.metric",
          "must be voc07, area or coco", e.metric);
  Require(e.batch_size > 0, "eval.batch_size", "must be > 0", e.batch_size);
}

void ParsePretrain(const json& j, PretrainOptions& p) {
  Reader r(j, "pretrain");
  r.Get("enabled", p.enabled);
  r.Get("source", p.source);
  r.Get("path", p.path);
  r.Get("iterations", p.iterations);
  r.Get("lr", p.lr);
  r.Get("batch_size", p.batch_size);
  r.Get("input_size", p.input_size);
  r.Finish();
  Require(p.source == "shapes_crops" || p.source == "imagefolder" || p.source == "torchvision",
          "pretrain.source", "must be shapes_crops, imagefolder or torchvision", p.source);
  Require(p.iterations > 0, "pretrain.iterations", "must be > 0", p.iterations);
  Require(p.lr > 0, "pretrain.lr", "must be > 0", p.lr);
  Require(p.batch_size > 0, "pretrain.batch_size", "must be > 0", p.batch_size);
  Require(p.input_size >= 16, "pretrain.input_size", "must be >= 16", p.input_size);
  if (p.enabled && p.source != "shapes_crops")
    Require(!p.path.empty(), "pretrain.path", "is required for source " + p.source, "\"\"");
}

void ParseRun(const json& j, RunOptions& run) {
  Reader r(j, "run");
  r.Get("threads", run.threads);
  r.Get("workers", run.workers);
  r.Get("checkpoint_interval", run.checkpoint_interval);
  r.Get("log_interval", run.log_interval);
  r.Get("verify_replicas", run.verify_replicas);
  r.Get("cudnn_benchmark", run.cudnn_benchmark);
  r.Get("deterministic", run.deterministic);
  r.Finish();
}

// Configs written before the machine facts moved into "run" (result.json and checkpoints of
// earlier runs) hold them at the top level: move them there.
json UpgradeLegacyConfig(json config) {
  if (!config.is_object()) return config;
  for (const char* key : {"threads", "workers", "checkpoint_interval", "log_interval"}) {
    if (!config.contains(key)) continue;
    if (!config.contains("run")) config["run"] = json::object();
    if (config["run"].is_object() && !config["run"].contains(key))
      config["run"][key] = config[key];
    config.erase(key);
  }
  return config;
}

// config.model (a preset name or an object) with config.model_overrides merged in: the input
// of model::ParseModelConfig (num_classes still the model default).
json ModelConfigJson(const TrainConfig& config) {
  json model = config.model.is_string() ? json{{"preset", config.model}} : config.model;
  for (const auto& [key, value] : config.model_overrides.items()) model[key] = value;
  return model;
}

}  // namespace

model::ModelConfig ResolveModelConfig(const TrainConfig& config, int num_classes) {
  if (num_classes < 2)
    Fail("model config: key 'num_classes' = {} must be >= 2 (background included)", num_classes);
  model::ModelConfig model = config.model_config;
  model.num_classes = num_classes;
  return model;
}

TrainConfig ParseTrainConfig(const json& input) {
  const json j = UpgradeLegacyConfig(input);
  TrainConfig c;
  {
    Reader r(j, "");
    r.GetJson("model", c.model);
    r.GetJson("model_overrides", c.model_overrides);
    r.Get("input_size", c.input_size);
    if (const json* d = r.Child("data")) ParseData(*d, c.data);
    if (const json* s = r.Child("solver")) ParseSolver(*s, c.solver);
    if (const json* e = r.Child("eval")) ParseEval(*e, c.eval);
    if (const json* p = r.Child("pretrain")) ParsePretrain(*p, c.pretrain);
    r.Get("memory_format", c.memory_format);
    r.Get("precision", c.precision);
    r.Get("seed", c.seed);
    r.Get("device", c.device);
    r.Get("curve_points", c.curve_points);
    if (const json* run = r.Child("run")) ParseRun(*run, c.run);
    r.Finish();
  }
  Require(c.model.is_string() || c.model.is_object(), "model",
          "must be a preset name or a model config object", c.model.dump());
  Require(c.model_overrides.is_object(), "model_overrides", "must be an object",
          c.model_overrides.dump());
  Require(c.input_size >= 32, "input_size", "must be >= 32", c.input_size);
  Require(c.run.workers >= 1, "run.workers", "must be >= 1", c.run.workers);
  Require(c.memory_format == "channels_last" || c.memory_format == "contiguous", "memory_format",
          "must be channels_last or contiguous", c.memory_format);
  Require(c.precision == "fp32" || c.precision == "bf16" || c.precision == "fp16", "precision",
          "must be fp32, bf16 or fp16", c.precision);
  Require(c.precision != "fp16" || c.device.rfind("cuda", 0) == 0, "precision",
          "fp16 (autocast with loss scaling) needs a CUDA device; use bf16 on the CPU",
          c.precision);
  Require(c.run.threads >= 0, "run.threads", "must be >= 0", c.run.threads);
  // Checked here, not by torch::Device, whose error for "cudax" is a C++ backtrace.
  const bool cuda_index = c.device.rfind("cuda:", 0) == 0 && c.device.size() > 5 &&
                          c.device.find_first_not_of("0123456789", 5) == std::string::npos;
  Require(c.device == "cpu" || c.device == "cuda" || cuda_index, "device",
          "must be cpu, cuda or cuda:N", c.device);
  Require(c.run.checkpoint_interval >= 0, "run.checkpoint_interval", "must be >= 0",
          c.run.checkpoint_interval);
  Require(c.run.log_interval > 0, "run.log_interval", "must be > 0", c.run.log_interval);
  Require(c.curve_points >= 2, "curve_points", "must be >= 2", c.curve_points);
  // The model config is checked here, at resolution time, so that a typo in a model key or
  // value stops the run before any dataset is generated.
  c.model_config = model::ParseModelConfig(ModelConfigJson(c));
  if (c.run.threads == 0)
    c.run.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

json ToJson(const TrainConfig& c) {
  json shapes = {{"train_images", c.data.shapes.train_images},
                 {"test_images", c.data.shapes.test_images},
                 {"image_size", c.data.shapes.image_size},
                 {"seed", c.data.shapes.seed},
                 {"min_objects", c.data.shapes.min_objects},
                 {"max_objects", c.data.shapes.max_objects},
                 {"min_size", c.data.shapes.min_size},
                 {"max_size", c.data.shapes.max_size},
                 {"outline_probability", c.data.shapes.outline_probability},
                 {"min_clutter", c.data.shapes.min_clutter},
                 {"max_clutter", c.data.shapes.max_clutter}};
  json data = {{"format", c.data.format},         {"root", c.data.root},
               {"train", c.data.train},           {"test", c.data.test},
               {"train_images", c.data.train_images}, {"test_images", c.data.test_images},
               {"classes", c.data.classes},       {"keep_difficult", c.data.keep_difficult}, {"augment", c.data.augment},
               {"on_bad_sample", c.data.on_bad_sample}, {"shapes", shapes}};
  json solver = {{"lr", c.solver.lr},
                 {"momentum", c.solver.momentum},
                 {"weight_decay", c.solver.weight_decay},
                 {"batch_size", c.solver.batch_size},
                 {"accumulation_steps", c.solver.accumulation_steps},
                 {"iterations", c.solver.iterations},
                 {"warmup_iterations", c.solver.warmup_iterations},
                 {"warmup_factor", c.solver.warmup_factor},
                 {"steps", c.solver.steps},
                 {"gamma", c.solver.gamma},
                 {"world_size", c.solver.world_size},
                 {"global_batch_size", c.solver.global_batch_size}};
  json eval = {{"interval", c.eval.interval},
               {"metric", c.eval.metric},
               {"batch_size", c.eval.batch_size}};
  json pretrain = {{"enabled", c.pretrain.enabled},       {"source", c.pretrain.source},
                   {"path", c.pretrain.path},             {"iterations", c.pretrain.iterations},
                   {"lr", c.pretrain.lr},                 {"batch_size", c.pretrain.batch_size},
                   {"input_size", c.pretrain.input_size}};
  return {{"model", c.model},
          {"model_overrides", c.model_overrides},
          {"input_size", c.input_size},
          {"data", data},
          {"solver", solver},
          {"eval", eval},
          {"pretrain", pretrain},
          {"memory_format", c.memory_format},
          {"precision", c.precision},
          {"seed", c.seed},
          {"device", c.device},
          {"curve_points", c.curve_points},
          {"run",
           {{"threads", c.run.threads},
            {"workers", c.run.workers},
            {"checkpoint_interval", c.run.checkpoint_interval},
            {"log_interval", c.run.log_interval},
            {"verify_replicas", c.run.verify_replicas},
            {"cudnn_benchmark", c.run.cudnn_benchmark},
            {"deterministic", c.run.deterministic}}}};
}

// The profiles' JSON files (experiments/profiles/*.json), linked in by the genrule
// //experiments/profiles:profiles_embed as (name, text) in the order paper, mini, smoke, ci.
const std::vector<std::pair<const char*, const char*>>& ProfileFiles();

std::vector<std::string> ProfileNames() {
  std::vector<std::string> names;
  for (const auto& [name, text] : ProfileFiles()) names.push_back(name);
  return names;
}

json ProfileDefaults(const std::string& profile) {
  for (const auto& [name, text] : ProfileFiles()) {
    if (profile != name) continue;
    const std::string where = fmt::format("experiments/profiles/{}.json", name);
    json file;
    try {
      file = json::parse(text);
    } catch (const json::parse_error& e) {
      Fail("{}: not valid JSON: {}", where, e.what());
    }
    CheckKnownKeys(file, {"name", "description", "config"}, where);
    if (!file.contains("config")) Fail("{}: has no \"config\"", where);
    // The built-in defaults (TrainConfig{}), with the thread count left to the machine.
    json base = ToJson(TrainConfig{});
    base["run"]["threads"] = 0;
    return MergeConfig(base, file.at("config"), where + " config");
  }
  Fail("unknown profile '{}' (known: {})", profile, fmt::join(ProfileNames(), ", "));
}

// "solver.lr=0.01" -> patch {"solver": {"lr": 0.01}}; a value that is not JSON is a string.
json OverridePatch(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    Fail("--set '{}': expected key.path=value", assignment);
  json value;
  const std::string text = assignment.substr(eq + 1);
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;
  }
  std::string path = assignment.substr(0, eq);
  json patch = value;
  while (true) {
    const size_t dot = path.rfind('.');
    const std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
    patch = json{{key, patch}};
    if (dot == std::string::npos) break;
    path = path.substr(0, dot);
  }
  return patch;
}

json MergeConfig(const json& base, const json& patch, const std::string& where) {
  if (!patch.is_object()) Fail("config: {} must be an object", where);
  std::vector<std::string> known;
  for (const auto& [key, value] : base.items()) known.push_back(key);
  CheckKnownKeys(patch, known, "config: " + where);
  json out = base;
  for (const auto& [key, value] : patch.items()) {
    const std::string path = where + "." + key;
    if (key == "model" || !value.is_object() || !out[key].is_object()) {
      out[key] = value;
    } else if (key == "model_overrides") {
      // Any model-config key may be overridden; model::ParseModelConfig checks the keys and
      // values when the config is resolved (ValidateResolvedModel), not this generic merge.
      for (const auto& [model_key, model_value] : value.items()) out[key][model_key] = model_value;
    } else {
      out[key] = MergeConfig(out[key], value, path);
    }
  }
  return out;
}

}  // namespace scratchdet::engine
