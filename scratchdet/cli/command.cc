#include "scratchdet/cli/command.h"

#include <utility>

namespace scratchdet::cli {

std::vector<Command>& Registry() {
  static std::vector<Command> registry;
  return registry;
}

CommandRegistrar::CommandRegistrar(std::string name, std::string description, CommandSetup setup) {
  Registry().push_back({std::move(name), std::move(description), std::move(setup)});
}

}  // namespace scratchdet::cli
