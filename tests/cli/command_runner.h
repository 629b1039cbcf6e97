// Runs a registered `scratchdet` sub-command in-process, as scratchdet/cli/main.cc does, so a
// test links only the command libraries it exercises.
#pragma once

#include <string>
#include <vector>

namespace scratchdet::cli {

struct CommandOutput {
  int status = 0;
  std::string out;    // what the command printed to stdout
  std::string error;  // the scratchdet::Error / CLI11 message when status != 0
};

// `args` excludes the program name, e.g. {"voc-eval", "--annotations", dir, ...}.
CommandOutput RunCommand(const std::vector<std::string>& args);

}  // namespace scratchdet::cli
