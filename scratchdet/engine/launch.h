// Starting and joining data-parallel training (data_parallel.h) from a command line: the
// built-in `--nproc N` launcher, and the worker side under it or under torchrun.
//
//   bazel-bin/experiments/table_d/scratchdet300 --profile smoke --nproc 2
//   python3 -m torch.distributed.run --nproc_per_node=2 --redirects 2 --tee 2 --no_python
//       bazel-bin/experiments/table_d/scratchdet300 --profile smoke   (one shell line)
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "scratchdet/engine/config_flags.h"
#include "scratchdet/engine/data_parallel.h"

namespace scratchdet::engine {

// A port the kernel reports free on 127.0.0.1 (a moment later someone may take it).
int FreeLoopbackPort();

// The process's environment as a map.
std::map<std::string, std::string> Environment();

// With flags.nproc > 1 in a process that is not a worker yet (no WORLD_SIZE in its
// environment): starts flags.nproc copies of this binary with the same arguments, as ranks
// 0..N-1 of one group on this machine (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
// MASTER_ADDR = 127.0.0.1 or $MASTER_ADDR, MASTER_PORT = a free port or $MASTER_PORT), waits
// for them and returns the exit code: 0 when all succeed, else the first failure's (a rank
// killed by signal S counts as 128 + S). When a rank fails, the others are given
// flags.dist_timeout_s + 30 s to notice and stop, then killed: the launcher never hangs.
// Returns nullopt when this process should run the command itself.
std::optional<int> LaunchLocalWorkers(const ConfigFlags& flags);

// In a worker (WORLD_SIZE > 1 in the environment): joins the group with the timeout of
// flags.dist_timeout_s and sets flags.local_rank / flags.local_world_size (which pick the
// GPU and the thread count, config_flags.h). nullptr for one process.
std::unique_ptr<DataParallelGroup> JoinGroupFromEnvironment(ConfigFlags& flags);

}  // namespace scratchdet::engine
