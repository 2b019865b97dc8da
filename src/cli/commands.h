// The `cellar` subcommands. Each lives in its own cmd_*.cc file and registers
// itself on the CLI11 app; its callback runs the command and reports a non-zero
// exit code through Exit().
#pragma once

#include <CLI/CLI.hpp>

namespace cellar::cli {

// Ends the current subcommand with `code` (no-op for 0). Throws CLI::RuntimeError,
// which CLI11_PARSE turns into the process exit code.
void Exit(int code);

void RegisterVersionCommand(CLI::App& app);

}  // namespace cellar::cli
