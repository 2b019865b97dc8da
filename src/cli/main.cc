// cellar: one binary, many subcommands (serve, chat, generate, bench, info, ...).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <utility>
#include <vector>

#include "base/log.h"
#include "cli/commands.h"

namespace cellar::cli {
namespace {
std::vector<std::pair<int, RegisterFn>>& Registry() {
  static std::vector<std::pair<int, RegisterFn>> registry;
  return registry;
}
}  // namespace

void Exit(int code) {
  if (code != 0) throw CLI::RuntimeError(code);
}

CommandRegistration::CommandRegistration(int order, RegisterFn fn) {
  Registry().emplace_back(order, fn);
}

void RegisterAllCommands(CLI::App& app) {
  auto& r = Registry();
  std::stable_sort(r.begin(), r.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [order, fn] : r) fn(app);
}

}  // namespace cellar::cli

int main(int argc, char** argv) {
  cellar::InitLogging("info");
  CLI::App app{"cellar: an LLM inference server for multi-turn conversations (CachedAttention)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  cellar::cli::RegisterAllCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
