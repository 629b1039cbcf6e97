#include "scratchdet/engine/run_directory.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/core/hash.h"
#include "scratchdet/core/json_text.h"
#include "scratchdet/engine/checkpoint.h"

namespace scratchdet::engine {

using nlohmann::json;
namespace fs = std::filesystem;

json ComparableConfig(json config) {
  // The machine facts (TrainConfig::run), and where configs written before they moved into
  // "run" kept them.
  for (const char* key : {"run", "threads", "workers", "checkpoint_interval", "log_interval"})
    config.erase(key);
  // Data-parallel keys at their one-process values are left out, so that one-process configs
  // compare (and hash) as those written before the keys existed.
  if (config.contains("solver") && config["solver"].is_object()) {
    json& solver = config["solver"];
    if (solver.value("world_size", 1) == 1) solver.erase("world_size");
    if (solver.value("global_batch_size", 0) == 0) solver.erase("global_batch_size");
  }
  if (config.value("precision", "fp32") == "fp32") config.erase("precision");
  // As written to results and checkpoints: a non-UTF-8 path compares equal to its record.
  return json::parse(JsonText(config));
}

std::string ConfigHash(const json& config) {
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  return Fnv1a64().Update(JsonText(ComparableConfig(config))).Hex();
}

namespace {

void Flatten(const json& value, const std::string& path, std::map<std::string, std::string>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items())
      Flatten(child, path.empty() ? key : path + "." + key, out);
  } else {
    out[path] = JsonText(value);
  }
}

}  // namespace

std::vector<std::string> ConfigDifferences(const json& from, const json& to, size_t limit) {
  std::map<std::string, std::string> a, b;
  Flatten(from, "", a);
  Flatten(to, "", b);
  std::map<std::string, std::pair<std::string, std::string>> diff;
  for (const auto& [key, value] : a)
    if (!b.count(key) || b.at(key) != value) diff[key] = {value, b.count(key) ? b.at(key) : "(absent)"};
  for (const auto& [key, value] : b)
    if (!a.count(key)) diff[key] = {"(absent)", value};
  std::vector<std::string> out;
  for (const auto& [key, values] : diff) {
    if (out.size() == limit) {
      out.push_back("...");
      break;
    }
    out.push_back(fmt::format("{}: {} -> {}", key, values.first, values.second));
  }
  return out;
}

RunDirectoryLock::RunDirectoryLock(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) Fail("{}: cannot create run directory: {}", dir, ec.message());
  const std::string path = dir + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) Fail("{}: cannot open lock file: {}", path, std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char pid[32] = {0};
    const ssize_t n = ::pread(fd_, pid, sizeof(pid) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      Fail("{}: another run (pid {}) is writing into this directory; wait for it to finish or "
           "use another output directory",
           dir, n > 0 ? std::string(pid, static_cast<size_t>(n)) : std::string("unknown"));
    Fail("{}: cannot lock: {}", path, std::strerror(error));
  }
  const std::string own = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, own.data(), own.size(), 0) < 0) {
    // The lock itself is held; only the PID shown to a second writer is missing.
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 == name.size()) continue;
    if (name.find_first_not_of("0123456789", at + 5) != std::string::npos) continue;
    fs::remove(entry.path(), ec);
  }
}

RunDirectoryLock::~RunDirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

void CheckRunDirectoryConfig(const std::string& dir, const json& config) {
  const std::string checkpoint_path = dir + "/checkpoint.pt";
  const std::string result_path = dir + "/result.json";
  json held;
  std::string source;
  if (fs::exists(checkpoint_path)) {
    const json state = ReadCheckpointState(checkpoint_path);
    if (state.contains("config")) {
      held = state.at("config");
      source = checkpoint_path;
    }
  }
  if (source.empty() && fs::exists(result_path)) {
    try {
      held = json::parse(ReadFile(result_path)).at("config");
      source = result_path;
    } catch (const std::exception&) {
      // A torn or foreign result.json says nothing about the config; a checkpoint may.
    }
  }
  if (source.empty()) {
    if (fs::exists(checkpoint_path))
      Fail("{}: written by an older scratchdet that did not record its config, so resuming "
           "cannot be checked to continue the same run; use --fresh to start over",
           checkpoint_path);
    return;
  }
  const json held_comparable = ComparableConfig(held);
  const json wanted = ComparableConfig(config);
  if (held_comparable == wanted) return;
  std::string differences;
  for (const std::string& line : ConfigDifferences(held_comparable, wanted))
    differences += "\n  " + line;
  Fail("{}: holds a run of another config (config hash {} in {}, this run's is {}); differing "
       "keys:{}\nUse --fresh to discard that run, or write this one to another directory.",
       dir, ConfigHash(held_comparable), source, ConfigHash(wanted), differences);
}

}  // namespace scratchdet::engine
