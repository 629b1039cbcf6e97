// Sub-command registry of the `scratchdet` tool.
//
// Each sub-command lives in its own file and registers itself at static-initialisation
// time; its cc_library is `alwayslink = 1` and listed in //scratchdet/cli:commands.
//
//   static const scratchdet::cli::CommandRegistrar kRegistrar(
//       "voc-eval", "VOC mAP of devkit detection files",
//       [](CLI::App& app) { ...add options...; return [opts] { return Run(*opts); }; });
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace scratchdet::cli {

// Runs a parsed sub-command; returns the process exit status.
using CommandAction = std::function<int()>;
// Adds the sub-command's options to `app` and returns the action to run after parsing.
using CommandSetup = std::function<CommandAction(CLI::App& app)>;

struct Command {
  std::string name;
  std::string description;
  CommandSetup setup;
};

// All registered sub-commands, in registration order.
std::vector<Command>& Registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, CommandSetup setup);
};

}  // namespace scratchdet::cli
