#include "scratchdet/engine/checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "scratchdet/core/error.h"
#include "scratchdet/core/json_text.h"

namespace scratchdet::engine {

namespace {

void WriteArchiveAtomic(torch::serialize::OutputArchive& archive, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
  try {
    archive.save_to(temp);
  } catch (const c10::Error& e) {
    std::remove(temp.c_str());
    Fail("{}: cannot write checkpoint: {}", path, e.what_without_backtrace());
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    Fail("{}: cannot move checkpoint into place", path);
  }
}

void LoadArchive(torch::serialize::InputArchive& archive, const std::string& path) {
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    Fail("{}: not a readable checkpoint: {}", path, e.what_without_backtrace());
  }
}

}  // namespace

void SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                    torch::optim::Optimizer& optimizer, const CheckpointState& state) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("state", c10::IValue(JsonText(state.state)));
  WriteArchiveAtomic(archive, path);
}

namespace {

// The checkpoint in `archive` into model, optimizer and state; `path` names it in errors.
void ReadCheckpoint(torch::serialize::InputArchive& archive, const std::string& path,
                    torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                    CheckpointState& state) {
  try {
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    c10::IValue json_text;
    archive.read("state", json_text);
    state.state = nlohmann::json::parse(json_text.toStringRef());
  } catch (const c10::Error& e) {
    Fail("{}: checkpoint does not fit this model/optimizer: {}", path,
         e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    Fail("{}: checkpoint state is not valid JSON: {}", path, e.what());
  }
}

}  // namespace

bool LoadCheckpoint(const std::string& path, torch::nn::Module& model,
                    torch::optim::Optimizer& optimizer, CheckpointState& state) {
  if (!std::filesystem::exists(path)) return false;
  torch::serialize::InputArchive archive;
  LoadArchive(archive, path);
  ReadCheckpoint(archive, path, model, optimizer, state);
  return true;
}

void LoadCheckpointBytes(const std::string& bytes, const std::string& path,
                         torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                         CheckpointState& state) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    Fail("{}: not a readable checkpoint: {}", path, e.what_without_backtrace());
  }
  ReadCheckpoint(archive, path, model, optimizer, state);
}

nlohmann::json ReadCheckpointState(const std::string& path) {
  torch::serialize::InputArchive archive;
  LoadArchive(archive, path);
  try {
    c10::IValue json_text;
    archive.read("state", json_text);
    return nlohmann::json::parse(json_text.toStringRef());
  } catch (const c10::Error& e) {
    Fail("{}: checkpoint has no state record: {}", path, e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    Fail("{}: checkpoint state is not valid JSON: {}", path, e.what());
  }
}

void SaveWeights(const std::string& path, torch::nn::Module& model) {
  torch::serialize::OutputArchive archive;
  model.save(archive);
  WriteArchiveAtomic(archive, path);
}

void LoadWeights(const std::string& path, torch::nn::Module& model) {
  if (!std::filesystem::exists(path)) Fail("{}: weights file not found", path);
  torch::serialize::InputArchive archive;
  LoadArchive(archive, path);
  try {
    model.load(archive);
  } catch (const c10::Error& e) {
    Fail("{}: weights do not fit this model: {}", path, e.what_without_backtrace());
  }
}

}  // namespace scratchdet::engine
