// `cellar tokenize -m FILE [--no-bos] [--special]`: reads all of stdin (exactly,
// no newline stripping) and prints the token ids on one line, space separated,
// then a newline. Other tools compare tokenizers through this output: keep it so.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "model/tokenizer.h"

namespace cellar::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  bool no_bos = false;
  bool special = false;
};

int RunTokenize(const TokenizeArgs& args) {
  auto file = GgufFile::Open(args.model);
  if (!file.ok()) {
    std::fprintf(stderr, "cellar tokenize: %s\n", file.status().ToString().c_str());
    return 1;
  }
  auto tokenizer = Tokenizer::FromGguf(**file);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "cellar tokenize: %s\n", tokenizer.status().ToString().c_str());
    return 1;
  }
  std::ios::sync_with_stdio(false);
  const std::string text((std::istreambuf_iterator<char>(std::cin)),
                         std::istreambuf_iterator<char>());
  const std::vector<int32_t> ids = (*tokenizer)->Encode(text, !args.no_bos, args.special);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

void RegisterTokenizeCommand(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand(
      "tokenize", "Print the token ids of the text on stdin (one line, space separated)");
  cmd->add_option("-m,--model", args->model, "GGUF file (a model or a vocab-only file)")
      ->required();
  cmd->add_flag("--no-bos", args->no_bos,
                "Do not add the BOS/EOS tokens the model asks for (add_special = false)");
  cmd->add_flag("--special", args->special,
                "Parse special tokens written in the text (e.g. <|im_start|>)");
  cmd->callback([args] { Exit(RunTokenize(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(60, RegisterTokenizeCommand);

}  // namespace cellar::cli
