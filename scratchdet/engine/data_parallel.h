// Data-parallel collectives over PyTorch's own distributed engine, c10d (Gloo for CPU tensors),
// as Debian's LibTorch 1.13 ships it: the part of data-parallel training (issue 11) that talks
// to the other processes. Semantics as PyTorch DDP: parameters and buffers broadcast from
// rank 0 at the start, gradients averaged over the ranks after backward and before the
// optimizer step, in flattened buckets (not one allreduce per parameter).
#pragma once

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scratchdet/engine/trainer.h"

namespace c10d {
class ProcessGroupGloo;
}

namespace scratchdet::engine {

struct ProcessGroupConfig {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // How long a rank waits for the others (joining, and every collective) before failing.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // Under torchrun's default rendezvous the launcher hosts the store and every rank is a client
  // under "/worker/attempt_<restart count>"; otherwise rank 0 hosts it.
  bool rank0_hosts_store = true;
  std::string store_prefix;
};

// The config torchrun (python3 -m torch.distributed.run) gives its workers through RANK,
// WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE and
// TORCHELASTIC_RESTART_COUNT in `env`; world size 1 when WORLD_SIZE is absent. Throws
// scratchdet::Error naming the variable for a missing or malformed value.
ProcessGroupConfig ProcessGroupFromEnvironment(const std::map<std::string, std::string>& env);

class DataParallelGroup {
 public:
  // Joins the group (TCPStore + Gloo over `master_addr`). Throws scratchdet::Error naming
  // the rank, address and port when the others do not join within the timeout.
  explicit DataParallelGroup(const ProcessGroupConfig& config);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const { return config_.rank; }
  int world_size() const { return config_.world_size; }

  // Every rank ends with rank 0's values (in place; CPU tensors, any dtype).
  void Broadcast(const std::vector<torch::Tensor>& tensors);
  // Each defined gradient of `parameters` becomes the mean over the ranks, bit-identical on
  // every rank. Gradients are flattened into buckets of at most `bucket_bytes` (a tensor
  // larger than that gets a bucket of its own), one allreduce per bucket.
  void AverageGradients(const std::vector<torch::Tensor>& parameters,
                        int64_t bucket_bytes = 25 << 20);
  void Barrier();

 private:
  ProcessGroupConfig config_;
  std::shared_ptr<c10d::ProcessGroupGloo> group_;
};

// The trainer hook (trainer.h) that averages the gradients across the group after the
// backward passes of each iteration, before the gradient norm and the update.
class GradientSyncHook : public TrainerHook {
 public:
  GradientSyncHook(DataParallelGroup& group, std::vector<torch::Tensor> parameters)
      : group_(group), parameters_(std::move(parameters)) {}
  void AfterBackward(Trainer&, int64_t) override { group_.AverageGradients(parameters_); }

 private:
  DataParallelGroup& group_;
  std::vector<torch::Tensor> parameters_;
};

}  // namespace scratchdet::engine
