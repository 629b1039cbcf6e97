// One training run end to end: data, model, the training loop, evaluation, the result JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "scratchdet/engine/exit_code.h"
#include "scratchdet/engine/train_config.h"

namespace scratchdet::engine {

class DataParallelGroup;

struct RunContext {
  nlohmann::json experiment = nlohmann::json::object();  // name/table/row/paper_value
  std::string profile;
  std::string run_dir;      // result.json, checkpoint.pt, curves.csv, model.pt live here
  std::string cache_root;   // generated datasets (empty: ~/.cache/scratchdet)
  bool fresh = false;       // ignore an existing checkpoint
  bool quiet = false;       // no progress output (tests)
  // Stop (checkpoint written, status "interrupted") once this many iterations are done;
  // -1: run to the end. Ctrl-C / SIGTERM do the same at the next iteration boundary.
  int64_t stop_after_iteration = -1;
  // Data-parallel training (data_parallel.h): every rank calls TrainAndEvaluate with the same
  // config and its group; rank 0 alone writes the run directory. nullptr: one process.
  DataParallelGroup* group = nullptr;
};

// Trains (resuming from run_dir/checkpoint.pt unless fresh), evaluates, writes
// run_dir/result.json atomically and returns the result. A NaN/Inf loss or gradient ends the
// run with status "diverged"; an exception ends it with status "failed" and the message, and
// the result is still written before the error propagates. An interrupted run (see
// stop_after_iteration) writes status "interrupted"; running it again resumes it exactly.
//
// Before anything is written, the run takes an exclusive lock on run_dir (a second writer
// fails naming the holder's PID) and, unless fresh, refuses a directory that holds a run of
// another config (see run_directory.h); the result records `config_hash`. A resumed run keeps
// the earlier segments' periodic evaluations, wall time and training time.
//
// Data parallel (context.group): the ranks check that they resolved the same config (hash),
// rank 0 prepares the data first, the ranks start from rank 0's weights (or from the
// checkpoint that rank 0 reads and sends), each trains on its share of the one-process batch
// stream (loader.h) with the gradients averaged (DataParallelHook), and evaluation is split
// over the ranks. A checkpoint records its world size; resuming with another is an error.
nlohmann::json TrainAndEvaluate(const TrainConfig& config, const RunContext& context);

// The exit code (exit_code.h) for a result's status.state ("ok", "diverged", "interrupted", "failed").
int ExitCodeForState(const std::string& state);

}  // namespace scratchdet::engine
