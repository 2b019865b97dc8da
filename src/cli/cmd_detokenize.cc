// `cellar detokenize -m FILE [--special]`: reads token ids (decimal, separated by
// whitespace) on stdin and prints their text exactly, with no added newline.
// A non-integer or out-of-range id is an error (exit 1, nothing printed).
#include <cctype>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "model/tokenizer.h"

namespace cellar::cli {
namespace {

struct DetokenizeArgs {
  std::string model;
  bool special = false;
};

int RunDetokenize(const DetokenizeArgs& args) {
  auto file = GgufFile::Open(args.model);
  if (!file.ok()) {
    std::fprintf(stderr, "cellar detokenize: %s\n", file.status().ToString().c_str());
    return 1;
  }
  auto tokenizer = Tokenizer::FromGguf(**file);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "cellar detokenize: %s\n", tokenizer.status().ToString().c_str());
    return 1;
  }
  const Tokenizer& tok = **tokenizer;
  std::ios::sync_with_stdio(false);
  const std::string input((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (true) {
    while (pos < input.size() && std::isspace(static_cast<unsigned char>(input[pos]))) ++pos;
    if (pos == input.size()) break;
    size_t end = pos;
    while (end < input.size() && !std::isspace(static_cast<unsigned char>(input[end]))) ++end;
    const std::string_view word(input.data() + pos, end - pos);
    int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), id);
    if (ec != std::errc() || ptr != word.data() + word.size()) {
      std::fprintf(stderr, "cellar detokenize: '%.*s' is not a token id (an integer)\n",
                   static_cast<int>(word.size()), word.data());
      return 1;
    }
    if (id < 0 || id >= tok.vocab().n_tokens()) {
      std::fprintf(stderr, "cellar detokenize: token id %lld is out of range [0, %d)\n",
                   static_cast<long long>(id), tok.vocab().n_tokens());
      return 1;
    }
    ids.push_back(static_cast<int32_t>(id));
    pos = end;
  }
  const std::string text = tok.Decode(ids, args.special);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

void RegisterDetokenizeCommand(CLI::App& app) {
  auto args = std::make_shared<DetokenizeArgs>();
  auto* cmd = app.add_subcommand("detokenize",
                                 "Print the text of the token ids on stdin (no added newline)");
  cmd->add_option("-m,--model", args->model, "GGUF file (a model or a vocab-only file)")
      ->required();
  cmd->add_flag("--special", args->special, "Render control tokens (e.g. <s>) as their text");
  cmd->callback([args] { Exit(RunDetokenize(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(61, RegisterDetokenizeCommand);

}  // namespace cellar::cli
