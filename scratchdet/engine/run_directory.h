// What makes a run directory trustworthy: it holds the runs of one config (identified by a
// hash of the comparable resolved config), and one process at a time writes into it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace scratchdet::engine {

// The resolved config without its "run" object (TrainConfig::run: threads, loader workers,
// checkpoint and log intervals), which changes how fast a run goes but not its numbers (the
// loader is worker-independent; checkpoints only read state). Two runs whose comparable
// configs are equal give the same numbers. Configs written before those keys moved into
// "run" are compared without them too.
nlohmann::json ComparableConfig(nlohmann::json config);

// 16 hex digits (FNV-1a, 64 bit) of ComparableConfig(config) serialised with sorted keys:
// equal configs have equal hashes on every machine and build.
std::string ConfigHash(const nlohmann::json& config);

// The leaf values where two configs differ, as "key.path: a -> b" (at most `limit`, then
// "..."), for error messages.
std::vector<std::string> ConfigDifferences(const nlohmann::json& from, const nlohmann::json& to,
                                           size_t limit = 6);

// An exclusive advisory lock (flock) on <dir>/.lock, held for the object's lifetime and
// released by the kernel if the process dies. A second holder gets scratchdet::Error naming
// the directory and the holder's PID. Creates `dir`. Once held, temporaries left in `dir` by
// killed writers (`*.tmp.<pid>` of WriteFileAtomic and checkpoints) are removed: with the lock
// held no other process can be writing them.
class RunDirectoryLock {
 public:
  explicit RunDirectoryLock(const std::string& dir);
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// Refuses to train `config` (resolved, or already comparable) into `dir` when the directory
// already holds a run of another config (its checkpoint or its result.json say which): throws
// scratchdet::Error naming the directory, both hashes and the differing keys, and the ways
// out (--fresh, or another output directory). Nothing in `dir` is changed.
void CheckRunDirectoryConfig(const std::string& dir, const nlohmann::json& config);

}  // namespace scratchdet::engine
