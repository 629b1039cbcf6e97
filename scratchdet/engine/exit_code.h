// Process exit codes of `scratchdet train` and of the experiment binaries (README,
// "Exit codes"); a header of its own so that the paper runner, which launches experiment
// binaries, reads them without linking the trainer.
#pragma once

namespace scratchdet::engine {

// A diverged run is a result (its JSON is written and reused, Table A expects some), but not
// a trained detector, so scripts can tell it apart.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,        // an error: bad input, a config mismatch, a run directory in use
  kExitDiverged = 3,
  kExitInterrupted = 130,  // Ctrl-C / SIGTERM (128 + SIGINT): checkpointed, run again to resume
};

}  // namespace scratchdet::engine
