// End-to-end runs of the training engine on the smoke profile (seconds each).
#include "scratchdet/engine/run.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/engine/checkpoint.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/evaluation.h"
#include "scratchdet/engine/run_directory.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

using nlohmann::json;

using ::scratchdet::testing::TempDir;

TrainConfig SmokeConfig(const json& patch = json::object()) {
  json config = MergeConfig(ProfileDefaults("smoke"), patch, "test");
  config["model"] = {{"backbone", "vgg16_bn"}, {"extras", "ssd"}, {"bn_backbone", true},
                     {"bn_extras", true},      {"bn_pred", true}};
  config["run"]["threads"] = 1;  // exact resume compares bit-for-bit: one fixed thread count
  return ParseTrainConfig(config);
}

RunContext Context(const std::string& name) {
  RunContext c;
  c.run_dir = TempDir() + "/runs/" + name;
  c.cache_root = TempDir() + "/cache";
  c.profile = "smoke";
  c.quiet = true;
  c.fresh = true;
  return c;
}

json ReadResult(const RunContext& c) { return json::parse(ReadFile(c.run_dir + "/result.json")); }

// Every parameter and buffer of a run's final model.pt, by name.
std::map<std::string, torch::Tensor> LoadTensors(const RunContext& context) {
  model::SsdDetector detector = model::BuildDetector(ReadResult(context)["model"], 123);
  LoadWeights(context.run_dir + "/model.pt", *detector);
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : detector->named_parameters()) out[p.key()] = p.value();
  for (const auto& b : detector->named_buffers()) out[b.key()] = b.value();
  return out;
}

TEST(RunTest, SmokeRunWritesACompleteResult) {
  const RunContext context = Context("smoke");
  const json result = TrainAndEvaluate(SmokeConfig(), context);
  EXPECT_EQ(result, ReadResult(context));
  EXPECT_EQ(result["status"]["state"], "ok");
  const json& m = result["metrics"];
  ASSERT_TRUE(m["mAP"].is_number());
  EXPECT_GE(m["mAP"].get<double>(), 0.0);
  EXPECT_LE(m["mAP"].get<double>(), 1.0);
  EXPECT_EQ(m["iterations"], 8);
  EXPECT_EQ(m["per_class_ap"].size(), 10u);  // the shapes classes
  EXPECT_EQ(m["curves"]["loss"].size(), 8u);
  EXPECT_TRUE(std::isfinite(m["final_loss"].get<double>()));
  for (const char* key : {"git_commit", "compiler", "build_mode", "libtorch_version",
                          "opencv_version", "device", "threads", "host", "start_time", "end_time"})
    EXPECT_TRUE(result["provenance"].contains(key)) << key;
  EXPECT_EQ(result["config"]["seed"], 0);
  EXPECT_TRUE(std::filesystem::exists(context.run_dir + "/model.pt"));
  EXPECT_TRUE(std::filesystem::exists(context.run_dir + "/curves.csv"));
  // The commit is the build's (the test runs in a sandbox, outside any checkout).
  const std::string commit = result["provenance"]["git_commit"];
  if (commit == "unknown") GTEST_SKIP() << "built without the workspace status (not a git checkout)";
  EXPECT_EQ(result["provenance"]["git_commit_source"], "build stamp");
  EXPECT_EQ(commit.size(), 40u);
  EXPECT_EQ(commit.find_first_not_of("0123456789abcdef"), std::string::npos) << commit;
  EXPECT_TRUE(result["provenance"]["git_dirty"].is_boolean());
}

// --precision bf16 on the CPU: the run completes with finite losses, its provenance and
// config say bf16, it hashes apart from the fp32 run, and its curve differs from fp32's.
TEST(RunTest, ABf16RunRecordsItsPrecisionAndComparesApart) {
  const RunContext fp32_context = Context("precision_fp32");
  const json fp32 = TrainAndEvaluate(SmokeConfig(), fp32_context);
  const RunContext context = Context("precision_bf16");
  const json bf16 = TrainAndEvaluate(
      SmokeConfig({{"precision", "bf16"}, {"run", {{"deterministic", true}}}}), context);
  ASSERT_EQ(bf16["status"]["state"], "ok") << bf16["status"].dump();
  EXPECT_EQ(bf16["provenance"]["precision"], "bf16");
  EXPECT_EQ(bf16["provenance"]["deterministic"], true);
  EXPECT_EQ(bf16["provenance"]["cudnn_benchmark"], false);
  EXPECT_EQ(fp32["provenance"]["precision"], "fp32");
  EXPECT_EQ(bf16["config"]["precision"], "bf16");
  EXPECT_NE(bf16["config_hash"], fp32["config_hash"]);
  const json& loss = bf16["metrics"]["curves"]["loss"];
  for (const json& v : loss) EXPECT_TRUE(std::isfinite(v.get<double>()));
  EXPECT_NE(loss, fp32["metrics"]["curves"]["loss"]);
  EXPECT_NEAR(loss[0].get<double>(), fp32["metrics"]["curves"]["loss"][0].get<double>(),
              0.05 * fp32["metrics"]["curves"]["loss"][0].get<double>());
  EXPECT_FALSE(bf16["metrics"].contains("loss_scale"));  // fp16 only
}

TEST(RunTest, InterruptedAndResumedRunEndsWithIdenticalWeights) {
  const TrainConfig config = SmokeConfig();
  const RunContext straight = Context("straight");
  TrainAndEvaluate(config, straight);

  RunContext split = Context("split");
  split.stop_after_iteration = 3;  // mid-epoch and between checkpoints (interval 4)
  const json first = TrainAndEvaluate(config, split);
  EXPECT_EQ(first["status"]["state"], "interrupted");
  split.stop_after_iteration = -1;
  split.fresh = false;
  const json resumed = TrainAndEvaluate(config, split);
  EXPECT_EQ(resumed["status"]["state"], "ok");
  EXPECT_EQ(resumed["resumed_from_iteration"], 3);

  const auto a = LoadTensors(straight);
  const auto b = LoadTensors(split);
  ASSERT_FALSE(a.empty());
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(key))) << key;
  EXPECT_EQ(ReadResult(straight)["metrics"]["curves"]["loss"],
            ReadResult(split)["metrics"]["curves"]["loss"]);
  EXPECT_EQ(ReadResult(straight)["metrics"]["mAP"], ReadResult(split)["metrics"]["mAP"]);
}

TEST(RunTest, DivergenceIsAResultNotACrash) {
  // No BN anywhere and an absurd learning rate: the loss must blow up within the run.
  json patch = {{"solver", {{"lr", 1e6}, {"warmup_iterations", 0}}}};
  json config = MergeConfig(ProfileDefaults("smoke"), patch, "test");
  config["model"] = {{"backbone", "vgg16"}, {"extras", "ssd"}};
  config["run"]["threads"] = 1;
  const RunContext context = Context("diverge");
  const json result = TrainAndEvaluate(ParseTrainConfig(config), context);
  EXPECT_EQ(result["status"]["state"], "diverged");
  EXPECT_NE(result["status"]["message"].get<std::string>().find("non-finite"), std::string::npos);
  EXPECT_TRUE(result["metrics"]["mAP"].is_null());
  EXPECT_GE(result["metrics"]["diverged_at_iteration"].get<int>(), 1);
  EXPECT_EQ(ReadResult(context)["status"]["state"], "diverged");
}

TEST(RunTest, FailureStillWritesTheResult) {
  json config = ProfileDefaults("smoke");
  config["data"]["format"] = "voc";
  config["data"]["root"] = TempDir() + "/no_such_dataset";
  const RunContext context = Context("failed");
  EXPECT_THROW(TrainAndEvaluate(ParseTrainConfig(config), context), Error);
  const json result = ReadResult(context);
  EXPECT_EQ(result["status"]["state"], "failed");
  EXPECT_NE(result["status"]["message"].get<std::string>().find("no_such_dataset"),
            std::string::npos);
}


// Issue 15, bug 1: a finished run's directory resumed with another lr used to print
// "resuming ... from iteration N", skip training and write the old model's mAP under the new
// config. Now it is refused before anything is written, naming the differing key.
TEST(RunTest, ResumingIntoAnotherConfigIsRefusedAndChangesNothing) {
  RunContext context = Context("other_config");
  TrainAndEvaluate(SmokeConfig(), context);
  const std::string before = ReadFile(context.run_dir + "/result.json");
  context.fresh = false;
  for (const json& patch : {json{{"solver", {{"lr", 0.02}}}},
                            json{{"data", {{"augment", false}}}}}) {
    try {
      TrainAndEvaluate(SmokeConfig(patch), context);
      ADD_FAILURE() << "resumed into another config: " << patch.dump();
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(context.run_dir), std::string::npos) << message;
      EXPECT_NE(message.find(patch.contains("solver") ? "solver.lr: 0.05 -> 0.02"
                                                      : "data.augment: true -> false"),
                std::string::npos)
          << message;
      EXPECT_NE(message.find("--fresh"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(ReadFile(context.run_dir + "/result.json"), before);
  // The same config with another thread count is the same run: reused, resumed at the end.
  TrainConfig same = SmokeConfig();
  same.run.threads = 2;
  const json again = TrainAndEvaluate(same, context);
  EXPECT_EQ(again["resumed_from_iteration"], 8);
  EXPECT_EQ(again["config_hash"], json::parse(before)["config_hash"]);
  EXPECT_EQ(again["config_hash"].get<std::string>().size(), 16u);
}

// The same refusal mid-run: an interrupted lr-0.05 checkpoint is not continued at lr 0.5.
TEST(RunTest, InterruptedRunIsNotResumedWithAnotherConfig) {
  RunContext context = Context("interrupted_other");
  context.stop_after_iteration = 3;
  EXPECT_EQ(TrainAndEvaluate(SmokeConfig(), context)["status"]["state"], "interrupted");
  context.stop_after_iteration = -1;
  context.fresh = false;
  EXPECT_THROW(TrainAndEvaluate(SmokeConfig({{"solver", {{"lr", 0.5}}}}), context), Error);
  // --fresh discards the old run and trains the new config from the start.
  context.fresh = true;
  const json fresh = TrainAndEvaluate(SmokeConfig({{"solver", {{"lr", 0.5}}}}), context);
  EXPECT_EQ(fresh["resumed_from_iteration"], 0);
  EXPECT_EQ(fresh["config"]["solver"]["lr"], 0.5);
}

// Issue 15, bug 2: two runs in one directory at once mixed their checkpoints.
TEST(RunTest, ASecondWriterOfARunDirectoryIsRefused) {
  const RunContext context = Context("locked");
  const RunDirectoryLock holder(context.run_dir);
  try {
    TrainAndEvaluate(SmokeConfig(), context);
    ADD_FAILURE() << "a second writer was let in";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("another run (pid " + std::to_string(::getpid()) + ")"),
              std::string::npos)
        << message;
  }
  EXPECT_FALSE(std::filesystem::exists(context.run_dir + "/result.json"));
}

TEST(RunTest, StaleTemporariesOfKilledWritersAreRemoved) {
  const std::string dir = TempDir() + "/runs/stale";
  std::filesystem::create_directories(dir);
  for (const char* name : {"checkpoint.pt.tmp.999999", "result.json.tmp.12", "notes.tmp.txt"})
    std::ofstream(dir + "/" + name) << "x";
  { const RunDirectoryLock lock(dir); }
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoint.pt.tmp.999999"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/result.json.tmp.12"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/notes.tmp.txt"));  // not a writer's temporary
  const RunDirectoryLock again(dir);  // the lock was released with the first holder
}

// Issue 15, bug 4: periodic evaluations were lost on resume and the wall time covered only
// the last segment. Stopping right at an evaluation iteration (4) skips that evaluation; the
// resumed run makes it up first.
TEST(RunTest, PeriodicEvaluationsAndWallTimeSurviveResume) {
  const TrainConfig config = SmokeConfig({{"eval", {{"interval", 2}}}});
  const RunContext straight = Context("evals_straight");
  const json whole = TrainAndEvaluate(config, straight);
  ASSERT_EQ(whole["metrics"]["periodic_evaluations"].size(), 3u);  // at 2, 4, 6

  for (int64_t stop : {3, 4}) {
    RunContext split = Context("evals_split" + std::to_string(stop));
    split.stop_after_iteration = stop;
    const json first = TrainAndEvaluate(config, split);
    ASSERT_EQ(first["status"]["state"], "interrupted");
    split.stop_after_iteration = -1;
    split.fresh = false;
    const json resumed = TrainAndEvaluate(config, split);
    // Same iterations and the same numbers (the evaluation speed is the only difference).
    auto numbers = [](const json& result) {
      std::vector<std::pair<int64_t, json>> out;
      for (const json& e : result["metrics"]["periodic_evaluations"])
        out.push_back({e["iteration"].get<int64_t>(), e["metrics"]["per_class_ap"]});
      return out;
    };
    EXPECT_EQ(numbers(resumed), numbers(whole)) << "stopped after " << stop;
    EXPECT_GT(resumed["metrics"]["wall_time_s"].get<double>(),
              first["metrics"]["wall_time_s"].get<double>());
    EXPECT_EQ(resumed["metrics"]["iterations"], 8);
  }
}

// Issue 15, bug 3: with data.on_bad_sample=skip a corrupt test image was replaced by the next
// image, whose detections were then counted twice, while the skipped image's objects stayed
// as misses. Now skipping an image gives exactly the numbers of a test set without it.
TEST(RunTest, ASkippedTestImageIsLeftOutNotScoredTwice) {
  namespace fs = std::filesystem;
  const TrainConfig smoke = SmokeConfig();
  const std::string generated = EnsureShapesDataset(smoke.data.shapes, TempDir() + "/cache");
  const std::string corrupt = TempDir() + "/skip_corrupt", without = TempDir() + "/skip_without";
  for (const std::string& copy : {corrupt, without}) {
    fs::remove_all(copy);
    fs::copy(generated, copy, fs::copy_options::recursive);
  }
  const std::string bad_id = "test_000003";
  std::ofstream(corrupt + "/JPEGImages/" + bad_id + ".jpg", std::ios::trunc) << "not a jpeg";
  {
    std::ifstream in(generated + "/ImageSets/Main/test.txt");
    std::ofstream out(without + "/ImageSets/Main/test.txt", std::ios::trunc);
    for (std::string line; std::getline(in, line);)
      if (line != bad_id) out << line << "\n";
  }
  auto evaluate = [&](const std::string& root) {
    TrainConfig config = smoke;
    config.data.root = root;
    config.data.on_bad_sample = "skip";
    const DataSetup data = SetUpData(config, TempDir() + "/cache", /*with_train=*/false);
    model::SsdDetector detector =
        model::BuildDetector(ResolveModelConfig(config, data.num_classes()), 5);
    return EvaluateDetector(*detector, data, config, torch::Device("cpu"));
  };
  const json skipped = evaluate(corrupt);
  const json reference = evaluate(without);
  EXPECT_EQ(skipped["skipped_test_images"], json::array({bad_id}));
  EXPECT_EQ(reference["skipped_test_images"], json::array());
  EXPECT_EQ(skipped["num_test_images"], 15);
  EXPECT_EQ(skipped["num_detections"], reference["num_detections"]);
  EXPECT_EQ(skipped["voc"]["npos"], reference["voc"]["npos"]);
  EXPECT_EQ(skipped["per_class_ap"], reference["per_class_ap"]);

  // A whole run in skip mode names the skipped file in its result, not only a count.
  TrainConfig config = smoke;
  config.data.root = corrupt;
  config.data.on_bad_sample = "skip";
  const json run = TrainAndEvaluate(config, Context("skip_run"));
  EXPECT_EQ(run["metrics"]["bad_samples"]["corrupt_image"], 1);
  ASSERT_EQ(run["metrics"]["bad_sample_examples"].size(), 1u);
  EXPECT_NE(run["metrics"]["bad_sample_examples"][0].get<std::string>().find(bad_id + ".jpg"),
            std::string::npos);
  EXPECT_EQ(run["metrics"]["skipped_test_images"], json::array({bad_id}));
}

// Issue 15, bug 5: a dataset root with a non-UTF-8 byte trained fully, then failed writing
// result.json ("invalid UTF-8 byte"); with a corrupt image there, the JSON error replaced the
// real one. Now the result is written (U+FFFD for the bad byte) and errors stay the real ones.
TEST(RunTest, NonUtf8PathsReachTheResultSafely) {
  namespace fs = std::filesystem;
  const TrainConfig smoke = SmokeConfig();
  const std::string generated = EnsureShapesDataset(smoke.data.shapes, TempDir() + "/cache");
  const std::string root = TempDir() + "/latin1_caf\xe9";  // "café" in Latin-1
  fs::remove_all(root);
  fs::copy(generated, root, fs::copy_options::recursive);
  TrainConfig config = smoke;
  config.data.root = root;
  RunContext context = Context("latin1_run");
  const json result = TrainAndEvaluate(config, context);
  EXPECT_EQ(result["status"]["state"], "ok");
  const json written = ReadResult(context);
  EXPECT_EQ(written["config"]["data"]["root"], TempDir() + "/latin1_caf\xef\xbf\xbd");
  // Resuming the finished run matches its recorded (replaced) config.
  context.fresh = false;
  EXPECT_EQ(TrainAndEvaluate(config, context)["resumed_from_iteration"], 8);

  std::ofstream(root + "/JPEGImages/trainval_000000.jpg", std::ios::trunc) << "not a jpeg";
  context = Context("latin1_corrupt");
  try {
    TrainAndEvaluate(config, context);
    ADD_FAILURE() << "a corrupt image was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("trainval_000000.jpg"), std::string::npos) << e.what();
  }
  const std::string message = ReadResult(context)["status"]["message"];
  EXPECT_NE(message.find("trainval_000000.jpg"), std::string::npos) << message;
}

// Issue 15, bug 6: Ctrl-C during the final evaluation was ignored. Now it stops the run as
// "interrupted" (exit 130); running again evaluates the finished model, with the numbers of
// an uninterrupted run.
void IgnoreSignal(int) {}

TEST(RunTest, StopDuringTheFinalEvaluationIsAnInterruptionThatResumes) {
  namespace fs = std::filesystem;
  const TrainConfig config = SmokeConfig(
      {{"data", {{"shapes", {{"test_images", 300}}}}}, {"eval", {{"batch_size", 1}}}});
  const json straight = TrainAndEvaluate(config, Context("stop_in_eval_straight"));
  RunContext context = Context("stop_in_eval");
  // A stray signal after the run must not kill the test: the run restores this handler.
  const auto previous = std::signal(SIGINT, IgnoreSignal);
  std::atomic<bool> finished{false};
  std::thread signaller([&] {
    // model.pt is written just before the final evaluation starts.
    while (!finished && !fs::exists(context.run_dir + "/model.pt"))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!finished) std::raise(SIGINT);
  });
  const json stopped = TrainAndEvaluate(config, context);
  finished = true;
  signaller.join();
  std::signal(SIGINT, previous);
  EXPECT_EQ(stopped["status"]["state"], "interrupted");
  EXPECT_EQ(stopped["status"]["message"], "stopped during an evaluation; run again to resume");
  EXPECT_EQ(ExitCodeForState(stopped["status"]["state"]), 130);
  context.fresh = false;
  const json resumed = TrainAndEvaluate(config, context);
  EXPECT_EQ(resumed["status"]["state"], "ok");
  EXPECT_EQ(resumed["resumed_from_iteration"], 8);
  EXPECT_EQ(resumed["metrics"]["per_class_ap"], straight["metrics"]["per_class_ap"]);
}

TEST(RunTest, ExitCodesTellTheOutcomesApart) {
  EXPECT_EQ(ExitCodeForState("ok"), 0);
  EXPECT_EQ(ExitCodeForState("failed"), 1);
  EXPECT_EQ(ExitCodeForState("diverged"), 3);
  EXPECT_EQ(ExitCodeForState("interrupted"), 130);
  EXPECT_EQ(ExitCodeForState("running"), 1);  // never finished: not a success
}

TEST(RunDirectoryTest, ConfigHashIgnoresSpeedKeysAndNamesDifferences) {
  json a = ToJson(SmokeConfig());
  json b = a;
  b["run"]["threads"] = 7;
  b["run"]["workers"] = 0;
  b["run"]["checkpoint_interval"] = 99;
  EXPECT_EQ(ConfigHash(a), ConfigHash(b));
  b["solver"]["lr"] = 0.5;
  EXPECT_NE(ConfigHash(a), ConfigHash(b));
  EXPECT_EQ(ConfigDifferences(ComparableConfig(a), ComparableConfig(b)),
            (std::vector<std::string>{"solver.lr: 0.05 -> 0.5"}));
}

// Results and checkpoints written before the machine facts moved into "run" kept them at the
// top level: they still parse, and hash like the same config written today.
TEST(RunDirectoryTest, ConfigsWithTopLevelMachineFactsParseAndHashTheSame) {
  const json now = ToJson(SmokeConfig());
  json legacy = now;
  for (const char* key : {"threads", "workers", "checkpoint_interval", "log_interval"})
    legacy[key] = legacy["run"][key];
  legacy.erase("run");
  legacy["threads"] = 5;
  EXPECT_EQ(ConfigHash(legacy), ConfigHash(now));
  const TrainConfig parsed = ParseTrainConfig(legacy);
  EXPECT_EQ(parsed.run.threads, 5);
  EXPECT_EQ(parsed.run.checkpoint_interval, now["run"]["checkpoint_interval"]);
  EXPECT_EQ(ComparableConfig(ToJson(parsed)), ComparableConfig(now));
}

}  // namespace
}  // namespace scratchdet::engine
