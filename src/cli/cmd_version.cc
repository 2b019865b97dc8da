#include <cstdio>

#include "cli/commands.h"

namespace cellar::cli {
namespace {

void RegisterVersionCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version of cellar");
  cmd->callback([] { std::printf("cellar 0.1.0\n"); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(1000, RegisterVersionCommand);

}  // namespace cellar::cli
