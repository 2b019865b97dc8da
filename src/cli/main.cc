// cellar: one binary, many subcommands (serve, chat, generate, bench, info, ...).
#include <CLI/CLI.hpp>

#include "base/log.h"
#include "cli/commands.h"

namespace cellar::cli {

void Exit(int code) {
  if (code != 0) throw CLI::RuntimeError(code);
}

}  // namespace cellar::cli

int main(int argc, char** argv) {
  cellar::InitLogging("info");
  CLI::App app{"cellar: an LLM inference server for multi-turn conversations (CachedAttention)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  cellar::cli::RegisterVersionCommand(app);

  CLI11_PARSE(app, argc, argv);
  return 0;
}
