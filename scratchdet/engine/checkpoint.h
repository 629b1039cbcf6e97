// Training checkpoints: model, optimizer, iteration, loader position and the curves so far,
// written atomically (temporary file + rename) so an interrupted write never corrupts the
// last good checkpoint. A run resumes from it unless --fresh, and a resumed run ends with the
// same weights as an uninterrupted one (CPU, same thread count; tests/engine/run_test.cc,
// InterruptedAndResumedRunEndsWithIdenticalWeights).
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <nlohmann/json.hpp>
#include <string>

namespace scratchdet::engine {

// Everything besides tensors that a run needs to continue exactly, as JSON: iteration,
// loader (epoch, position), curves, per-run counters.
struct CheckpointState {
  nlohmann::json state = nlohmann::json::object();
};

void SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                    torch::optim::Optimizer& optimizer, const CheckpointState& state);

// Returns false when `path` does not exist; throws scratchdet::Error naming the file when it
// exists but cannot be read or does not fit the model.
bool LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                    torch::optim::Optimizer& optimizer, CheckpointState& state);

// The same from the checkpoint file's bytes (data-parallel training: rank 0 reads the file and
// sends it to every rank); `path` names it in errors.
void LoadCheckpointBytes(const std::string& bytes, const std::string& path,
                         torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         CheckpointState& state);

// The JSON state of a checkpoint alone (no model needed), e.g. to check which config wrote
// it before resuming; throws scratchdet::Error naming the file when it cannot be read.
nlohmann::json ReadCheckpointState(const std::string& path);

// Model weights alone (parameters and buffers), e.g. for `scratchdet eval --weights`.
void SaveWeights(const std::string& path, torch::nn::Module& model);
void LoadWeights(const std::string& path, torch::nn::Module& model);

}  // namespace scratchdet::engine
