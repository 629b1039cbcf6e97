#include "tests/cli/command_runner.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <map>

#include "scratchdet/cli/command.h"

namespace scratchdet::cli {

CommandOutput RunCommand(const std::vector<std::string>& args) {
  CLI::App app{"scratchdet (test)"};
  app.require_subcommand(1);
  std::map<CLI::App*, CommandAction> actions;
  for (const auto& command : Registry()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    actions[sub] = command.setup(*sub);
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  CommandOutput output;
  testing::internal::CaptureStdout();
  try {
    app.parse(reversed);
    output.status = 1;
    for (auto& [sub, action] : actions)
      if (sub->parsed()) output.status = action();
  } catch (const CLI::ParseError& e) {
    output.status = e.get_exit_code() == 0 ? 0 : 2;
    output.error = e.what();
  } catch (const std::exception& e) {
    output.status = 1;
    output.error = e.what();
  }
  std::fflush(stdout);
  output.out = testing::internal::GetCapturedStdout();
  return output;
}

}  // namespace scratchdet::cli
