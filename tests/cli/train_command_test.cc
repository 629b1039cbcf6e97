// `scratchdet train` in-process: exit codes tell finished, diverged and failed runs apart
// (README "Exit codes"), and bad flags are refused before anything runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "scratchdet/engine/run.h"
#include "tests/cli/command_runner.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::cli {
namespace {

std::vector<std::string> Train(const std::string& name, std::vector<std::string> extra) {
  std::vector<std::string> args = {"train", "--profile", "smoke", "--threads", "1", "--out",
                                   testing::TempDir() + "/train_cmd/" + name, "--set",
                                   "data.shapes.seed=3", "--fresh"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(TrainCommandTest, ExitCodesTellOkDivergedAndFailedApart) {
  // The generated dataset goes to $XDG_CACHE_HOME/scratchdet: inside the test's sandbox.
  setenv("XDG_CACHE_HOME", (testing::TempDir() + "/xdg_cache").c_str(), 1);
  const CommandOutput ok = RunCommand(Train("ok", {}));
  EXPECT_EQ(ok.status, engine::kExitOk) << ok.error;
  EXPECT_NE(ok.out.find("status: ok"), std::string::npos) << ok.out;

  // No BN anywhere and an absurd learning rate diverge (a result, exit 3).
  const CommandOutput diverged = RunCommand(
      Train("diverged", {"--set", R"(model={"backbone":"vgg16","extras":"ssd"})", "--set",
                         "solver.lr=1e6", "--set", "solver.warmup_iterations=0"}));
  EXPECT_EQ(diverged.status, engine::kExitDiverged) << diverged.error << diverged.out;

  const CommandOutput failed = RunCommand(
      Train("failed", {"--set", "data.format=voc", "--set", "data.root=/no/such/dataset"}));
  EXPECT_EQ(failed.status, engine::kExitFailed);
  EXPECT_NE(failed.error.find("/no/such/dataset"), std::string::npos) << failed.error;
}

TEST(TrainCommandTest, BadThreadsAndDeviceAreRefusedBeforeTraining) {
  const CommandOutput threads = RunCommand(Train("threads", {"--threads", "-3"}));
  EXPECT_NE(threads.status, 0);
  EXPECT_NE(threads.error.find("--threads"), std::string::npos) << threads.error;
  const CommandOutput device = RunCommand(Train("device", {"--device", "cudax"}));
  EXPECT_EQ(device.status, engine::kExitFailed);
  EXPECT_NE(device.error.find("device must be cpu, cuda or cuda:N (got cudax)"),
            std::string::npos)
      << device.error;
  EXPECT_EQ(device.error.find("frame #"), std::string::npos) << "a C++ backtrace";
  EXPECT_FALSE(std::filesystem::exists(testing::TempDir() + "/train_cmd/device"));
}

}  // namespace
}  // namespace scratchdet::cli
