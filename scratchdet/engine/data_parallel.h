// Data-parallel collectives over PyTorch's own distributed engine, c10d (Gloo for CPU tensors),
// as Debian's LibTorch 1.13 ships it: the part of data-parallel training (issue 11) that talks
// to the other processes. Semantics as PyTorch DDP: parameters and buffers broadcast from
// rank 0 at the start, gradients averaged over the ranks after backward and before the
// optimizer step, in flattened buckets (not one allreduce per parameter).
#pragma once

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scratchdet/engine/trainer.h"

namespace c10d {
class ProcessGroup;
class ProcessGroupGloo;
class ProcessGroupNCCL;
class Store;
class Work;
}  // namespace c10d

namespace scratchdet::engine {

struct ProcessGroupConfig {
  int rank = 0;
  int world_size = 1;
  // This machine's share (LOCAL_RANK, LOCAL_WORLD_SIZE): picks cuda:<local_rank> and the
  // threads per process. One machine when unset: the global rank and world size.
  int local_rank = 0;
  int local_world_size = 1;
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
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE and TORCHELASTIC_RESTART_COUNT in `env`; world size 1 when WORLD_SIZE is absent. Throws
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
  const ProcessGroupConfig& config() const { return config_; }
  // The c10d backend of the training tensors: "nccl" for CUDA tensors in a build with CUDA
  // (SCRATCHDET_WITH_CUDA, third_party/libtorch.bzl), "gloo" otherwise. The small host-side
  // collectives (Sum, AllGather, BroadcastBytes, Barrier) always use Gloo.
  std::string backend() const { return nccl_ ? "nccl" : "gloo"; }

  // Every collective below throws scratchdet::Error when a peer stops or does not answer
  // within the timeout; the message names this rank and the ranks that are gone
  // (DescribeLostRanks).

  // Every rank ends with rank 0's values (in place; any dtype; CUDA tensors over NCCL).
  void Broadcast(const std::vector<torch::Tensor>& tensors);
  // Each defined gradient of `parameters` becomes the mean over the ranks, bit-identical on
  // every rank. Gradients are flattened into buckets of at most `bucket_bytes` (a tensor
  // larger than that gets a bucket of its own), one allreduce per bucket.
  void AverageGradients(const std::vector<torch::Tensor>& parameters,
                        int64_t bucket_bytes = 25 << 20);
  // `values` becomes their sums over the ranks (the same on every rank).
  void Sum(std::vector<double>& values);
  // Every rank's `bytes`, in rank order.
  std::vector<std::string> AllGather(const std::string& bytes);
  // Rank 0's `bytes` on every rank (the argument of the other ranks is ignored).
  std::string BroadcastBytes(const std::string& bytes);
  void Barrier();

  // After a failed collective: "rank(s) 1 stopped or cannot be reached" -- the ranks that do
  // not answer through the store within a few seconds; or that the store itself is gone.
  std::string DescribeLostRanks();

 private:
  // Waits for one collective; on failure throws naming `what`, this rank and the lost ranks.
  void Wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what);
  // NCCL for a CUDA tensor where there is an NCCL group, Gloo otherwise.
  c10d::ProcessGroup& GroupFor(const torch::Tensor& tensor);

  ProcessGroupConfig config_;
  c10::intrusive_ptr<c10d::Store> store_;
  std::shared_ptr<c10d::ProcessGroupGloo> group_;
  // CUDA builds with a GPU: the group for CUDA tensors (gradients, buffers), on the same store
  // under the prefix "nccl/". Null otherwise.
  std::shared_ptr<c10d::ProcessGroupNCCL> nccl_;
  int failures_ = 0;
};

// PyTorch DDP's semantics as a trainer hook (trainer.h), after the backward passes of each
// iteration and before the gradient norm, the divergence check and the update:
//  - gradients averaged over the ranks (flattened buckets);
//  - the iteration's loss and the run's own per-iteration `scalars` (curves, diagnostics)
//    averaged over the ranks, so every rank records the curve of the global batch and takes
//    the same divergence decision;
//  - `buffers` (BN running statistics) from rank 0, as DDP's broadcast_buffers: each rank
//    normalises its training batches with its own batch statistics (paper: BN per GPU), and
//    every rank holds rank 0's running statistics, so the ranks' models stay identical;
//  - a stop requested on any rank (`local_stop`, e.g. Ctrl-C) becomes stop_requested() on
//    every rank in the same iteration.
// One small allreduce carries the loss, the scalars and the stop flag.
class DataParallelHook : public TrainerHook {
 public:
  DataParallelHook(DataParallelGroup& group, std::vector<torch::Tensor> parameters,
                   std::vector<torch::Tensor> buffers,
                   std::function<std::vector<double*>()> scalars,
                   std::function<bool()> local_stop);
  void AfterBackward(Trainer& trainer, int64_t iteration, IterationRecord& record) override;
  // Whether any rank asked to stop at the last synchronised iteration.
  bool stop_requested() const { return stop_requested_; }
  // Seconds spent in this hook's collectives so far (the benchmark's allreduce time).
  double sync_seconds() const { return sync_seconds_; }

 private:
  DataParallelGroup& group_;
  std::vector<torch::Tensor> parameters_, buffers_;
  std::function<std::vector<double*>()> scalars_;
  std::function<bool()> local_stop_;
  bool stop_requested_ = false;
  double sync_seconds_ = 0;
};

}  // namespace scratchdet::engine
