// c10d (Gloo) collectives between two processes on this machine: the test process is rank 0
// and a forked child rank 1 (forked before any tensor work, so no thread pool is copied).
#include "scratchdet/engine/data_parallel.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>

#include "scratchdet/core/error.h"
#include "scratchdet/engine/data_setup.h"
#include "scratchdet/engine/evaluation.h"
#include "scratchdet/engine/train_config.h"
#include "scratchdet/model/ssd.h"
#include "tests/testing/error_of.h"
#include "scratchdet/engine/launch.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::engine {
namespace {

ProcessGroupConfig Config(int rank, int port) {
  ProcessGroupConfig c;
  c.rank = rank;
  c.world_size = 2;
  c.master_port = port;
  c.timeout = std::chrono::seconds(30);
  return c;
}

// What both ranks check; returns the number of failed checks (the child's exit code).
int Exchange(int rank, int port) {
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "rank " << rank << ": " << what;
    }
  };
  torch::set_num_threads(1);
  DataParallelGroup group(Config(rank, port));
  check(group.rank() == rank && group.world_size() == 2, "rank and world size");

  // Broadcast: every rank ends with rank 0's parameters and buffers.
  torch::Tensor weight = torch::full({2, 3}, static_cast<float>(rank + 1));
  torch::Tensor counter = torch::full({4}, static_cast<int64_t>(10 * (rank + 1)));
  group.Broadcast({weight, counter});
  check(torch::equal(weight, torch::full({2, 3}, 1.0f)), "broadcast float");
  check(torch::equal(counter, torch::full({4}, static_cast<int64_t>(10))), "broadcast int64");

  // Gradients: on rank r, parameter i has gradient (r + 1) * (i + 1) everywhere; the mean is
  // 1.5 (i + 1), exact in float. 16-byte buckets split the tensors over several allreduces
  // (a 5-element gradient gets a bucket of its own). A parameter without a gradient stays so.
  std::vector<torch::Tensor> params;
  const std::vector<std::vector<int64_t>> shapes = {{3}, {2, 2}, {1}, {5}, {2}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    torch::Tensor p = torch::zeros(shapes[i], torch::requires_grad());
    if (i != 2) p.mutable_grad() = torch::full(shapes[i], static_cast<float>((rank + 1) * (i + 1)));
    params.push_back(p);
  }
  group.AverageGradients(params, /*bucket_bytes=*/16);
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (i == 2) {
      check(!params[i].grad().defined(), "no gradient stays undefined");
      continue;
    }
    check(torch::equal(params[i].grad(), torch::full(shapes[i], 1.5f * (i + 1))), "mean gradient");
  }

  // Numbers, bytes of different lengths, rank 0's bytes.
  std::vector<double> sums = {1.0 + rank, 0.25 * rank};
  group.Sum(sums);
  check(sums == std::vector<double>({3.0, 0.25}), "sum");
  const std::vector<std::string> gathered = group.AllGather(std::string(rank + 1, 'a' + rank));
  check(gathered == std::vector<std::string>({"a", "bb"}), "allgather");
  check(group.BroadcastBytes(rank == 0 ? "from rank 0" : "ignored") == "from rank 0",
        "broadcast bytes");

  // The trainer with the data-parallel hook: rank r's loss is (w - target_r)^2 with targets 2
  // and 4, so the averaged update equals one process accumulating both micro-batches
  // (w: 0 -> 0.6); the recorded loss and the run's own numbers are the means over the ranks
  // (4 and 16 -> 10; 1 and 3 -> 2); the buffer is rank 0's; a stop asked on rank 1 only is
  // seen by both.
  torch::Tensor w = torch::zeros({1}, torch::requires_grad());
  torch::Tensor running_mean = torch::full({2}, static_cast<float>(rank));
  torch::optim::SGD sgd({w}, torch::optim::SGDOptions(0.1));
  TrainerOptions options;
  options.iterations = 2;
  options.schedule.base_lr = 0.1;
  Trainer trainer(options, {w}, sgd,
                  [&](int64_t, int) { return (w - (rank == 0 ? 2.0 : 4.0)).pow(2).sum(); });
  double own_number = 0;
  DataParallelHook sync(
      group, {w}, {running_mean},
      [&] {
        own_number = 1 + 2 * rank;
        return std::vector<double*>{&own_number};
      },
      [&] { return rank == 1; });
  struct Last : TrainerHook {
    void AfterIteration(Trainer& t, const IterationRecord& r) override {
      record = r;
      if (stop->stop_requested()) t.RequestStop();
    }
    DataParallelHook* stop = nullptr;
    IterationRecord record;
  } last;
  last.stop = &sync;
  trainer.AddHook(&sync);
  trainer.AddHook(&last);
  check(trainer.Run(0) == TrainOutcome::kStopped, "a stop on one rank stops both");
  check(std::abs(w.item<double>() - 0.6) < 1e-6, "synchronised update");
  check(std::abs(last.record.loss - 10.0) < 1e-9, "loss averaged over the ranks");
  check(own_number == 2.0, "the run's numbers averaged over the ranks");
  check(torch::equal(running_mean, torch::zeros({2})), "buffers are rank 0's");
  group.Barrier();
  return failures;
}

TEST(DataParallelTest, TwoProcessesBroadcastAverageAndTrainAsOne) {
  const int port = FreeLoopbackPort();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(Exchange(1, port));
  Exchange(0, port);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "rank 1 failed checks";
}

// A rank that dies: the survivor's next collective fails at once (Gloo sees the closed
// connection), well within the timeout, and the message names the rank that is gone.
TEST(DataParallelTest, ARankThatDiesEndsTheOthersCollectiveWithItsName) {
  const int port = FreeLoopbackPort();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    torch::set_num_threads(1);
    DataParallelGroup group(Config(1, port));
    group.Barrier();
    _exit(9);  // gone without a word, as a killed process
  }
  ProcessGroupConfig config = Config(0, port);
  config.timeout = std::chrono::seconds(60);
  DataParallelGroup group(config);
  group.Barrier();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const auto start = std::chrono::steady_clock::now();
  const std::string error = ::scratchdet::testing::ErrorOf([&] {
    std::vector<double> values = {1.0};
    group.Sum(values);
  });
  EXPECT_NE(error.find("rank 0 of 2: allreduce of the iteration's numbers failed (rank(s) 1 "
                       "stopped or cannot be reached)"),
            std::string::npos)
      << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// Evaluation split over 2 ranks (test batch k on rank k mod 2, detections gathered) gives
// every rank the metrics one process computes: the same AP per class, the same detections.
TrainConfig EvaluationConfig() {
  nlohmann::json j = ProfileDefaults("smoke");
  j["run"]["threads"] = 1;
  j["eval"]["batch_size"] = 3;  // several batches, so both ranks have some
  return ParseTrainConfig(j);
}

nlohmann::json EvaluateOnRank(int rank, int port) {
  torch::set_num_threads(1);
  const TrainConfig config = EvaluationConfig();
  const DataSetup data = SetUpData(config, ::scratchdet::testing::TempDir() + "/dp_eval", false);
  model::SsdDetector detector =
      model::BuildDetector(ResolveModelConfig(config, data.num_classes()), 7);
  DataParallelGroup group(Config(rank, port));
  nlohmann::json metrics = EvaluateDetector(*detector, data, config, torch::kCPU, {}, &group);
  metrics.erase("eval_images_per_second");
  return metrics;
}

TEST(DataParallelTest, EvaluationOverTwoRanksEqualsOneProcess) {
  const TrainConfig config = EvaluationConfig();
  // The dataset is generated once, before the ranks start.
  SetUpData(config, ::scratchdet::testing::TempDir() + "/dp_eval", false);
  const int port = FreeLoopbackPort();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const nlohmann::json metrics = EvaluateOnRank(1, port);
    ::scratchdet::testing::WriteText(::scratchdet::testing::TempDir() + "/dp_eval_rank1.json",
                                     metrics.dump());
    _exit(0);
  }
  const nlohmann::json two = EvaluateOnRank(0, port);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  const DataSetup data = SetUpData(config, ::scratchdet::testing::TempDir() + "/dp_eval", false);
  model::SsdDetector detector =
      model::BuildDetector(ResolveModelConfig(config, data.num_classes()), 7);
  nlohmann::json one = EvaluateDetector(*detector, data, config, torch::kCPU);
  one.erase("eval_images_per_second");
  EXPECT_GT(one["num_detections"].get<int>(), 0);
  EXPECT_GT(data.test->size(), 2u * 3u);
  EXPECT_EQ(one, two);
  std::ifstream in(::scratchdet::testing::TempDir() + "/dp_eval_rank1.json");
  EXPECT_EQ(one, nlohmann::json::parse(in));
}

// Rank 0 cannot host the store on a port another process listens on: the error names the
// address and the reason instead of waiting for the timeout.
TEST(DataParallelTest, APortInUseIsNamed) {
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = 0;
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  ProcessGroupConfig config = Config(0, port);
  config.timeout = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  const std::string error =
      ::scratchdet::testing::ErrorOf([&] { DataParallelGroup group(config); });
  close(holder);
  EXPECT_NE(error.find(fmt::format("rank 0 of 2: could not join the process group at "
                                   "127.0.0.1:{}",
                                   port)),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("Address already in use"), std::string::npos) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// A MASTER_ADDR that does not resolve (".invalid" never does, RFC 6761) is named.
TEST(DataParallelTest, AnUnknownMasterAddressIsNamed) {
  ProcessGroupConfig config = Config(1, FreeLoopbackPort());
  config.master_addr = "scratchdet-master.invalid";
  config.timeout = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  const std::string error =
      ::scratchdet::testing::ErrorOf([&] { DataParallelGroup group(config); });
  EXPECT_NE(error.find("rank 1 of 2: could not join the process group at "
                       "scratchdet-master.invalid:"),
            std::string::npos)
      << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(DataParallelTest, ARankThatNeverJoinsIsAnErrorWithinTheTimeout) {
  ProcessGroupConfig config = Config(0, FreeLoopbackPort());
  config.timeout = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  try {
    DataParallelGroup group(config);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0 of 2: could not join the process group at "
                                         "127.0.0.1:"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(DataParallelTest, TorchrunsEnvironment) {
  EXPECT_EQ(ProcessGroupFromEnvironment({}).world_size, 1);
  const ProcessGroupConfig c = ProcessGroupFromEnvironment(
      {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "10.0.0.5"}, {"MASTER_PORT", "29400"},
       {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "3"}});
  EXPECT_EQ(c.rank, 1);
  EXPECT_EQ(c.world_size, 2);
  EXPECT_EQ(c.master_addr, "10.0.0.5");
  EXPECT_EQ(c.master_port, 29400);
  EXPECT_FALSE(c.rank0_hosts_store);  // the launcher's agent hosts it
  EXPECT_EQ(c.store_prefix, "/worker/attempt_3");
  EXPECT_TRUE(ProcessGroupFromEnvironment(
                  {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})
                  .rank0_hosts_store);
  auto error = [](const std::map<std::string, std::string>& env) {
    return ::scratchdet::testing::ErrorOf([&] { ProcessGroupFromEnvironment(env); });
  };
  EXPECT_NE(error({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_ADDR", "a"}}).find("MASTER_PORT"),
            std::string::npos);
  EXPECT_NE(error({{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}})
                .find("RANK=2 is not below WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(error({{"WORLD_SIZE", "two"}}).find("WORLD_SIZE='two'"), std::string::npos);
}

TEST(DataParallelTest, LocalRankAndSizeFromEnvironment) {
  const std::map<std::string, std::string> base = {
      {"RANK", "3"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "a"}, {"MASTER_PORT", "1"}};
  // One machine: the local figures are the global ones.
  ProcessGroupConfig c = ProcessGroupFromEnvironment(base);
  EXPECT_EQ(c.local_rank, 3);
  EXPECT_EQ(c.local_world_size, 4);
  // Two machines of two processes: rank 3 is the second on its machine.
  auto two_machines = base;
  two_machines["LOCAL_RANK"] = "1";
  two_machines["LOCAL_WORLD_SIZE"] = "2";
  c = ProcessGroupFromEnvironment(two_machines);
  EXPECT_EQ(c.local_rank, 1);
  EXPECT_EQ(c.local_world_size, 2);
  auto bad = two_machines;
  bad["LOCAL_RANK"] = "x1";
  EXPECT_NE(::scratchdet::testing::ErrorOf([&] { ProcessGroupFromEnvironment(bad); })
                .find("LOCAL_RANK='x1'"),
            std::string::npos);
  bad["LOCAL_RANK"] = "2";
  EXPECT_NE(::scratchdet::testing::ErrorOf([&] { ProcessGroupFromEnvironment(bad); })
                .find("LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2"),
            std::string::npos);
}

}  // namespace
}  // namespace scratchdet::engine
