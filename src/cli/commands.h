// The `cellar` subcommands. Each lives in its own cmd_*.cc file and registers
// itself with CELLAR_REGISTER_COMMAND, so adding a command touches no shared file.
// A command's callback runs it and reports a non-zero exit code through Exit().
#pragma once

#include <CLI/CLI.hpp>

namespace cellar::cli {

// Ends the current subcommand with `code` (no-op for 0). Throws CLI::RuntimeError,
// which CLI11_PARSE turns into the process exit code.
void Exit(int code);

using RegisterFn = void (*)(CLI::App& app);

// Adds `fn` to the registry; `order` sorts commands in --help (lower first).
struct CommandRegistration {
  CommandRegistration(int order, RegisterFn fn);
};

// Calls every registered RegisterFn in order.
void RegisterAllCommands(CLI::App& app);

}  // namespace cellar::cli

// In a cmd_*.cc file: CELLAR_REGISTER_COMMAND(50, RegisterInfoCommand);
#define CELLAR_REGISTER_COMMAND(order, fn) \
  static ::cellar::cli::CommandRegistration cellar_registration_##fn(order, fn)
