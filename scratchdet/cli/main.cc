// The `scratchdet` command-line tool: `bazel run //:scratchdet -- <command> [options]`.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <map>

#include "scratchdet/cli/command.h"
#include "scratchdet/core/allocator.h"
#include "scratchdet/core/error.h"

int main(int argc, char** argv) {
  scratchdet::core::TuneAllocatorForTraining();
  CLI::App app{"scratchdet: train, evaluate and inspect from-scratch single-shot detectors"};
  app.require_subcommand(1);
  std::map<CLI::App*, scratchdet::cli::CommandAction> actions;
  for (const auto& command : scratchdet::cli::Registry()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    actions[sub] = command.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const scratchdet::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 1;
}
