#include "scratchdet/engine/data_parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef SCRATCHDET_WITH_CUDA
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/cuda.h>
#endif
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "scratchdet/core/error.h"

namespace scratchdet::engine {
namespace {

int ParseInt(const std::map<std::string, std::string>& env, const std::string& name, int min) {
  const std::string& text = env.at(name);
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value >= min) return value;
  } catch (const std::exception&) {
  }
  Fail("{}='{}': expected an integer >= {}", name, text, min);
}

}  // namespace

ProcessGroupConfig ProcessGroupFromEnvironment(const std::map<std::string, std::string>& env) {
  ProcessGroupConfig config;
  if (!env.count("WORLD_SIZE")) return config;
  config.world_size = ParseInt(env, "WORLD_SIZE", 1);
  for (const char* name : {"RANK", "MASTER_ADDR", "MASTER_PORT"})
    if (!env.count(name)) Fail("WORLD_SIZE is set but {} is not (launch with torchrun)", name);
  config.rank = ParseInt(env, "RANK", 0);
  if (config.rank >= config.world_size)
    Fail("RANK={} is not below WORLD_SIZE={}", config.rank, config.world_size);
  config.local_rank = env.count("LOCAL_RANK") ? ParseInt(env, "LOCAL_RANK", 0) : config.rank;
  config.local_world_size =
      env.count("LOCAL_WORLD_SIZE") ? ParseInt(env, "LOCAL_WORLD_SIZE", 1) : config.world_size;
  if (config.local_rank >= config.local_world_size)
    Fail("LOCAL_RANK={} is not below LOCAL_WORLD_SIZE={}", config.local_rank,
         config.local_world_size);
  config.master_addr = env.at("MASTER_ADDR");
  config.master_port = ParseInt(env, "MASTER_PORT", 1);
  if (config.master_port > 65535) Fail("MASTER_PORT={} is not a port", config.master_port);
  const auto agent = env.find("TORCHELASTIC_USE_AGENT_STORE");
  if (agent != env.end() && (agent->second == "True" || agent->second == "true" ||
                             agent->second == "1")) {
    config.rank0_hosts_store = false;
    const auto restarts = env.find("TORCHELASTIC_RESTART_COUNT");
    config.store_prefix =
        fmt::format("/worker/attempt_{}", restarts == env.end() ? "0" : restarts->second);
  }
  return config;
}

DataParallelGroup::DataParallelGroup(const ProcessGroupConfig& config) : config_(config) {
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(config.master_port);
  store_options.isServer = config.rank0_hosts_store && config.rank == 0;
  store_options.numWorkers = config.world_size;
  // Every rank waits until all have connected to the store: with only rank 0 waiting, Gloo's
  // rendezvous stalled until the timeout (measured: 30.5 s instead of 0.5 s for two ranks).
  // Under torchrun's agent store the agent is the server and counts the workers itself.
  store_options.waitWorkers = config.rank0_hosts_store;
  store_options.timeout = config.timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(config.master_addr, store_options);
    if (!config.store_prefix.empty())
      store = c10::make_intrusive<c10d::PrefixStore>(config.store_prefix, store);
    store_ = store;
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = config.timeout;
    options->devices.push_back(
        c10d::ProcessGroupGloo::createDeviceForHostname(config.master_addr));
    group_ = std::make_shared<c10d::ProcessGroupGloo>(store, config.rank, config.world_size,
                                                      options);
#ifdef SCRATCHDET_WITH_CUDA
    // NCCL connects lazily, at the first collective on CUDA tensors.
    if (torch::cuda::is_available()) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = config.timeout;
      nccl_ = std::make_shared<c10d::ProcessGroupNCCL>(
          c10::make_intrusive<c10d::PrefixStore>("nccl", store), config.rank, config.world_size,
          nccl_options);
    }
#endif
  } catch (const std::exception& e) {
    Fail("rank {} of {}: could not join the process group at {}:{} (timeout {} ms): {}",
         config.rank, config.world_size, config.master_addr, config.master_port,
         config.timeout.count(), e.what());
  }
}

DataParallelGroup::~DataParallelGroup() = default;

void DataParallelGroup::Wait(const c10::intrusive_ptr<c10d::Work>& work,
                             const std::string& what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    const std::string lost = DescribeLostRanks();
    Fail("rank {} of {}: {} failed{}: {}", config_.rank, config_.world_size, what,
         lost.empty() ? "" : " (" + lost + ")", e.what());
  }
}

std::string DataParallelGroup::DescribeLostRanks() {
  // Every rank that is still there marks itself under this failure's generation; who has not
  // within a few seconds is gone (or hangs).
  const std::string generation = fmt::format("scratchdet/alive/{}/", failures_++);
  try {
    store_->set(generation + std::to_string(config_.rank), std::vector<uint8_t>{1});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    std::vector<int> missing;
    do {
      missing.clear();
      for (int r = 0; r < config_.world_size; ++r)
        if (!store_->check({generation + std::to_string(r)})) missing.push_back(r);
      if (missing.empty()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    return fmt::format("rank(s) {} stopped or cannot be reached", fmt::join(missing, ", "));
  } catch (const std::exception&) {
    return config_.rank0_hosts_store
               ? "rank 0, which hosts the store, stopped or cannot be reached"
               : "the launcher's store cannot be reached";
  }
}

namespace {

// `tensors` (one dtype) as one flat buffer, `collective` run on it, the result copied back.
// One collective per buffer instead of one per tensor: a model's BN buffers are hundreds of
// small tensors, and one round trip each cost ~40 ms per iteration on the mini model.
template <typename Collective>
void OnFlattened(const std::vector<torch::Tensor>& tensors, Collective&& collective) {
  std::vector<torch::Tensor> parts;
  for (const torch::Tensor& t : tensors) parts.push_back(t.reshape({-1}));
  std::vector<at::Tensor> flat = {torch::cat(parts)};
  collective(flat);
  int64_t offset = 0;
  for (const torch::Tensor& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(flat[0].narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace

c10d::ProcessGroup& DataParallelGroup::GroupFor(const torch::Tensor& tensor) {
#ifdef SCRATCHDET_WITH_CUDA
  if (nccl_ && tensor.is_cuda()) return *nccl_;
#endif
  return *group_;
}

void DataParallelGroup::Broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const torch::Tensor& t : tensors) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, members] : by_type)
    OnFlattened(members, [&](std::vector<at::Tensor>& flat) {
      Wait(GroupFor(flat[0]).broadcast(flat), "broadcast from rank 0");
    });
}

void DataParallelGroup::AverageGradients(const std::vector<torch::Tensor>& parameters,
                                         int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : parameters)
    if (p.grad().defined()) grads.push_back(p.mutable_grad());
  size_t begin = 0;
  while (begin < grads.size()) {
    // A bucket: consecutive gradients of one dtype up to bucket_bytes (at least one).
    size_t end = begin + 1;
    int64_t bytes = grads[begin].numel() * grads[begin].element_size();
    while (end < grads.size() && grads[end].scalar_type() == grads[begin].scalar_type() &&
           bytes + grads[end].numel() * grads[end].element_size() <= bucket_bytes) {
      bytes += grads[end].numel() * grads[end].element_size();
      ++end;
    }
    const std::vector<torch::Tensor> bucket(grads.begin() + begin, grads.begin() + end);
    OnFlattened(bucket, [&](std::vector<at::Tensor>& flat) {
      Wait(GroupFor(flat[0]).allreduce(flat), "gradient allreduce");
      flat[0].div_(config_.world_size);
    });
    begin = end;
  }
}

void DataParallelGroup::Sum(std::vector<double>& values) {
  if (values.empty()) return;
  std::vector<at::Tensor> one = {
      torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kFloat64)
          .clone()};
  Wait(group_->allreduce(one), "allreduce of the iteration's numbers");
  std::memcpy(values.data(), one[0].data_ptr<double>(), values.size() * sizeof(double));
}

std::vector<std::string> DataParallelGroup::AllGather(const std::string& bytes) {
  const int world = config_.world_size;
  std::vector<at::Tensor> size = {torch::full({1}, static_cast<int64_t>(bytes.size()), torch::kInt64)};
  std::vector<std::vector<at::Tensor>> sizes(1);
  for (int r = 0; r < world; ++r) sizes[0].push_back(torch::empty({1}, torch::kInt64));
  Wait(group_->allgather(sizes, size), "allgather of sizes");
  int64_t longest = 0;
  for (const at::Tensor& t : sizes[0]) longest = std::max(longest, t.item<int64_t>());
  std::vector<at::Tensor> mine = {torch::zeros({std::max<int64_t>(longest, 1)}, torch::kUInt8)};
  std::memcpy(mine[0].data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::vector<std::vector<at::Tensor>> all(1);
  for (int r = 0; r < world; ++r) all[0].push_back(torch::empty_like(mine[0]));
  Wait(group_->allgather(all, mine), "allgather");
  std::vector<std::string> out;
  for (int r = 0; r < world; ++r)
    out.emplace_back(reinterpret_cast<const char*>(all[0][r].data_ptr<uint8_t>()),
                     static_cast<size_t>(sizes[0][r].item<int64_t>()));
  return out;
}

std::string DataParallelGroup::BroadcastBytes(const std::string& bytes) {
  std::vector<at::Tensor> size = {
      torch::full({1}, static_cast<int64_t>(bytes.size()), torch::kInt64)};
  Wait(group_->broadcast(size), "broadcast from rank 0");
  const int64_t n = size[0].item<int64_t>();
  std::vector<at::Tensor> data = {torch::zeros({std::max<int64_t>(n, 1)}, torch::kUInt8)};
  if (config_.rank == 0) std::memcpy(data[0].data_ptr<uint8_t>(), bytes.data(), bytes.size());
  Wait(group_->broadcast(data), "broadcast from rank 0");
  return std::string(reinterpret_cast<const char*>(data[0].data_ptr<uint8_t>()),
                     static_cast<size_t>(n));
}

void DataParallelGroup::Barrier() { Wait(group_->barrier(), "barrier"); }

DataParallelHook::DataParallelHook(DataParallelGroup& group, std::vector<torch::Tensor> parameters,
                                   std::vector<torch::Tensor> buffers,
                                   std::function<std::vector<double*>()> scalars,
                                   std::function<bool()> local_stop)
    : group_(group),
      parameters_(std::move(parameters)),
      buffers_(std::move(buffers)),
      scalars_(std::move(scalars)),
      local_stop_(std::move(local_stop)) {}

void DataParallelHook::AfterBackward(Trainer&, int64_t, IterationRecord& record) {
  const auto start = std::chrono::steady_clock::now();
  group_.AverageGradients(parameters_);
  const std::vector<double*> scalars = scalars_ ? scalars_() : std::vector<double*>{};
  std::vector<double> values = {record.loss, local_stop_ && local_stop_() ? 1.0 : 0.0};
  for (const double* v : scalars) values.push_back(*v);
  group_.Sum(values);
  const double world = group_.world_size();
  record.loss = values[0] / world;
  stop_requested_ = values[1] > 0;
  for (size_t i = 0; i < scalars.size(); ++i) *scalars[i] = values[i + 2] / world;
  group_.Broadcast(buffers_);
  sync_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace scratchdet::engine
