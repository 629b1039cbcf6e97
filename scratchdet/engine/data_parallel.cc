#include "scratchdet/engine/data_parallel.h"

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <cstdlib>

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
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = config.timeout;
    options->devices.push_back(
        c10d::ProcessGroupGloo::createDeviceForHostname(config.master_addr));
    group_ = std::make_shared<c10d::ProcessGroupGloo>(store, config.rank, config.world_size,
                                                      options);
  } catch (const std::exception& e) {
    Fail("rank {} of {}: could not join the process group at {}:{} within {} ms: {}",
         config.rank, config.world_size, config.master_addr, config.master_port,
         config.timeout.count(), e.what());
  }
}

DataParallelGroup::~DataParallelGroup() = default;

void DataParallelGroup::Broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : tensors) {
    std::vector<at::Tensor> one = {t.is_contiguous() ? t : t.contiguous()};
    try {
      group_->broadcast(one)->wait();
    } catch (const std::exception& e) {
      Fail("rank {}: broadcast from rank 0 failed: {}", config_.rank, e.what());
    }
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
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
    std::vector<torch::Tensor> flat_parts;
    for (size_t i = begin; i < end; ++i) flat_parts.push_back(grads[i].reshape({-1}));
    std::vector<at::Tensor> bucket = {torch::cat(flat_parts)};
    try {
      group_->allreduce(bucket)->wait();
    } catch (const std::exception& e) {
      Fail("rank {}: gradient allreduce failed (did another rank stop?): {}", config_.rank,
           e.what());
    }
    bucket[0].div_(config_.world_size);
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = grads[i].numel();
      grads[i].copy_(bucket[0].narrow(0, offset, n).view_as(grads[i]));
      offset += n;
    }
    begin = end;
  }
}

void DataParallelGroup::Barrier() {
  try {
    group_->barrier()->wait();
  } catch (const std::exception& e) {
    Fail("rank {}: barrier failed: {}", config_.rank, e.what());
  }
}

}  // namespace scratchdet::engine
