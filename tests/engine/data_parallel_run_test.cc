// Data-parallel training end to end, with the real binaries (issue 11's checks):
//  - 2 processes with per-process batch B train exactly as 1 process with batch B and 2
//    accumulation steps, launched by --nproc and by torchrun; the ranks' parameters are
//    compared after every step (run.verify_replicas);
//  - an interrupted 2-process run resumes exactly; a 1-process run into its directory is
//    refused;
//  - a killed rank ends the others with an error naming it; a rank that never starts, or a
//    rank with another config, is an error -- never a hang.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "scratchdet/engine/launch.h"
#include "tests/testing/temp_files.h"

namespace scratchdet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Runfile(const std::string& path) {
  return std::string(std::getenv("TEST_SRCDIR")) + "/scratchdet/" + path;
}
const std::string& Experiment() {
  static const std::string path = Runfile("experiments/table_d/scratchdet300");
  return path;
}
const std::string& Cli() {
  static const std::string path = Runfile("scratchdet/cli/scratchdet");
  return path;
}

// Starts `args` with this process's environment plus `env`, stdout and stderr into `log`.
pid_t Start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
            const std::string& log) {
  std::map<std::string, std::string> all = engine::Environment();
  all["XDG_CACHE_HOME"] = testing::TempDir() + "/dp_cache";  // the generated dataset
  for (const auto& [k, v] : env) all[k] = v;
  std::vector<std::string> entries;
  for (const auto& [k, v] : all) entries.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (std::string& e : entries) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0) << args[0];
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// The exit code (128 + signal when killed); -1 after killing it at the deadline.
int Wait(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Outcome {
  int code = 0;
  std::string log;
};
Outcome Execute(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
            std::chrono::seconds limit = std::chrono::seconds(300)) {
  static int count = 0;
  const std::string log = testing::TempDir() + "/dp_log" + std::to_string(count++) + ".txt";
  Outcome run;
  run.code = Wait(Start(args, env, log), limit);
  run.log = Read(log);
  return run;
}

// The smoke profile at batch 4 on one thread per process (+ extra arguments).
std::vector<std::string> Smoke(const std::string& binary, std::vector<std::string> extra) {
  std::vector<std::string> args = {binary, "--profile", "smoke", "--threads", "1", "--set",
                                   "solver.batch_size=4", "--set", "run.log_interval=1000",
                                   "--set", "solver.iterations=40"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// curves.csv of the one run under `root`: column name -> values per iteration.
std::map<std::string, std::vector<double>> Curves(const std::string& root) {
  std::string path;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename() == "curves.csv") path = entry.path().string();
  EXPECT_FALSE(path.empty()) << "no curves.csv under " << root;
  std::map<std::string, std::vector<double>> columns;
  std::ifstream in(path);
  std::string line, cell;
  std::getline(in, line);
  std::vector<std::string> names;
  for (std::stringstream header(line); std::getline(header, cell, ',');) names.push_back(cell);
  while (std::getline(in, line)) {
    size_t i = 0;
    for (std::stringstream row(line); std::getline(row, cell, ','); ++i)
      columns[names.at(i)].push_back(std::stod(cell));
  }
  return columns;
}

json Result(const std::string& root) {
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename() == "result.json") return json::parse(Read(entry.path().string()));
  ADD_FAILURE() << "no result.json under " << root;
  return json();
}

void ExpectSameCurves(const std::string& a, const std::string& b) {
  const auto x = Curves(a), y = Curves(b);
  for (const char* column : {"loss", "loc", "conf", "grad_norm", "positives_per_image"}) {
    ASSERT_EQ(x.at(column).size(), 40u) << column;
    ASSERT_EQ(y.at(column).size(), 40u) << column;
    for (size_t i = 0; i < 40; ++i)
      EXPECT_LE(std::abs(x.at(column)[i] - y.at(column)[i]),
                1e-4 * std::max(1e-3, std::abs(x.at(column)[i])))
          << column << " at iteration " << i + 1 << ": " << a << " vs " << b;
  }
}

TEST(DataParallelRunTest, TwoProcessesTrainAsOneProcessWithTwoAccumulationSteps) {
  const std::string root = testing::FreshDir("dp_equivalence");
  const Outcome one = Execute(Smoke(Experiment(), {"--set", "solver.accumulation_steps=2", "--out",
                                               root + "/one"}));
  ASSERT_EQ(one.code, 0) << one.log;
  const Outcome two = Execute(Smoke(Experiment(), {"--nproc", "2", "--set",
                                               "run.verify_replicas=true", "--out",
                                               root + "/nproc"}));
  ASSERT_EQ(two.code, 0) << two.log;
  EXPECT_NE(two.log.find("data parallel: 2 processes x batch 4 x 1 accumulation step(s) = "
                         "global batch 8"),
            std::string::npos)
      << two.log;
  ExpectSameCurves(root + "/one", root + "/nproc");
  const json result = Result(root + "/nproc");
  EXPECT_EQ(result["provenance"]["world_size"], 2);
  EXPECT_EQ(result["provenance"]["backend"], "gloo");
  EXPECT_EQ(result["provenance"]["per_process_batch"], 4);
  EXPECT_EQ(result["provenance"]["global_batch"], 8);
  EXPECT_EQ(result["metrics"]["replicas_verified_iterations"], 40);  // bit-identical ranks
  EXPECT_EQ(result["config"]["solver"]["world_size"], 2);

  // torchrun (Debian's python3-torch). Python 3.11 breaks its default "--redirects 0"
  // (README, "Several processes and GPUs"): 2 redirects and tees stderr instead.
  std::vector<std::string> args = {"/usr/bin/python3", "-m", "torch.distributed.run",
                                   "--nproc_per_node=2", "--redirects", "2", "--tee", "2",
                                   "--no_python"};
  for (const std::string& a : Smoke(Experiment(), {"--set", "run.verify_replicas=true",
                                                   "--out", root + "/torchrun"}))
    args.push_back(a);
  const Outcome launched = Execute(args);
  ASSERT_EQ(launched.code, 0) << launched.log;
  ExpectSameCurves(root + "/one", root + "/torchrun");
  EXPECT_EQ(Result(root + "/torchrun")["metrics"]["replicas_verified_iterations"], 40);
}

TEST(DataParallelRunTest, AnInterruptedTwoProcessRunResumesExactly) {
  const std::string root = testing::FreshDir("dp_resume");
  auto train = [&](const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = Smoke(Cli(), {"--nproc", "2", "--out", root + "/" + out,
                                                  "--set", "run.checkpoint_interval=2"});
    args.insert(args.begin() + 1, "train");
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const Outcome whole = Execute(train("whole", {}));
  ASSERT_EQ(whole.code, 0) << whole.log;

  // SIGTERM to the launcher reaches both ranks; they agree on the iteration to stop at.
  const std::string log = root + "/interrupted.txt";
  const pid_t launcher = Start(train("resumed", {}), {}, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(root + "/resumed/checkpoint.pt") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(launcher, SIGTERM);
  ASSERT_EQ(Wait(launcher, std::chrono::seconds(120)), 130) << Read(log);
  const json interrupted = json::parse(Read(root + "/resumed/result.json"));
  ASSERT_EQ(interrupted["status"]["state"], "interrupted");
  const Outcome resumed = Execute(train("resumed", {}));
  ASSERT_EQ(resumed.code, 0) << resumed.log;
  EXPECT_NE(resumed.log.find("resuming"), std::string::npos) << resumed.log;
  EXPECT_EQ(Read(root + "/whole/curves.csv"), Read(root + "/resumed/curves.csv"));

  // One process into the 2-process run's directory: another config, refused.
  std::vector<std::string> single = Smoke(Cli(), {"--out", root + "/resumed"});
  single.insert(single.begin() + 1, "train");
  const Outcome refused = Execute(single);
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.log.find("holds a run of another config"), std::string::npos)
      << refused.log;
  EXPECT_NE(refused.log.find("solver.world_size"), std::string::npos) << refused.log;
}

// Ranks started by hand, as torchrun or a cluster scheduler would (RANK, WORLD_SIZE, ...).
std::map<std::string, std::string> RankEnv(int rank, int port) {
  return {{"RANK", std::to_string(rank)},      {"LOCAL_RANK", std::to_string(rank)},
          {"WORLD_SIZE", "2"},                 {"LOCAL_WORLD_SIZE", "2"},
          {"MASTER_ADDR", "127.0.0.1"},        {"MASTER_PORT", std::to_string(port)}};
}

TEST(DataParallelRunTest, AKilledRankStopsTheOtherWithItsName) {
  const std::string root = testing::FreshDir("dp_killed");
  const int port = engine::FreeLoopbackPort();
  std::vector<std::string> args = Smoke(Experiment(), {"--out", root, "--dist-timeout", "60",
                                                       "--set", "solver.iterations=100000",
                                                       "--set", "run.checkpoint_interval=2"});
  const pid_t rank0 = Start(args, RankEnv(0, port), root + "/rank0.txt");
  const pid_t rank1 = Start(args, RankEnv(1, port), root + "/rank1.txt");
  std::string checkpoint;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (checkpoint.empty() && std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(root))
      for (const auto& entry : fs::recursive_directory_iterator(root))
        if (entry.path().filename() == "checkpoint.pt") checkpoint = entry.path().string();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(checkpoint.empty()) << Read(root + "/rank0.txt");
  kill(rank1, SIGKILL);
  Wait(rank1, std::chrono::seconds(10));
  const auto killed = std::chrono::steady_clock::now();
  const int code = Wait(rank0, std::chrono::seconds(60));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, std::chrono::seconds(30));
  EXPECT_EQ(code, 1);
  const std::string log = Read(root + "/rank0.txt");
  EXPECT_NE(log.find("rank(s) 1 stopped or cannot be reached"), std::string::npos) << log;
}

TEST(DataParallelRunTest, AMissingRankOrAnotherConfigIsAnError) {
  const std::string root = testing::FreshDir("dp_errors");
  // Rank 1 never starts: rank 0 gives up after --dist-timeout.
  int port = engine::FreeLoopbackPort();
  const Outcome alone = Execute(Smoke(Experiment(), {"--out", root + "/alone", "--dist-timeout", "2"}),
                            RankEnv(0, port), std::chrono::seconds(60));
  EXPECT_EQ(alone.code, 1);
  EXPECT_NE(alone.log.find("rank 0 of 2: could not join the process group at 127.0.0.1:" +
                           std::to_string(port)),
            std::string::npos)
      << alone.log;

  // Two ranks with different learning rates: both stop at the start.
  port = engine::FreeLoopbackPort();
  std::vector<std::string> a = Smoke(Experiment(), {"--out", root + "/mismatch"});
  std::vector<std::string> b = a;
  b.insert(b.end(), {"--set", "solver.lr=0.5"});
  const pid_t rank0 = Start(a, RankEnv(0, port), root + "/m0.txt");
  const pid_t rank1 = Start(b, RankEnv(1, port), root + "/m1.txt");
  EXPECT_EQ(Wait(rank0, std::chrono::seconds(60)), 1);
  EXPECT_EQ(Wait(rank1, std::chrono::seconds(60)), 1);
  EXPECT_NE(Read(root + "/m0.txt").find("rank 1 resolved another config than rank 0"),
            std::string::npos)
      << Read(root + "/m0.txt");
}

}  // namespace
}  // namespace scratchdet
