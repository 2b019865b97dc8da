// `cellar generate -m MODEL -p PROMPT [-n N] [sampling flags] [--ids]`: prefills
// the prompt and streams the continuation to stdout as it is generated. With
// --ids, a final line "ids: ..." lists the generated token ids. Timings go to
// stderr.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/cmd_generate_options.h"
#include "cli/commands.h"
#include "engine/generate.h"

namespace cellar::cli {
namespace {

struct GenerateArgs {
  ModelFlags model;
  SamplingFlags sampling;
  std::string prompt;
  int n_predict = 128;
  bool print_ids = false;
  bool special = false;
};

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

int RunGenerate(const GenerateArgs& args) {
  auto rt = StartRuntime(args.model, /*need_tokenizer=*/true);
  if (!rt.ok()) return ReportError("generate", rt.status());
  LocalSession& session = *rt->session;
  const Tokenizer& tok = *rt->tokenizer;
  const std::vector<int32_t> prompt = tok.Encode(args.prompt, /*add_special=*/true, args.special);
  if (prompt.empty()) {
    return ReportError("generate", InvalidArgument("the prompt has no tokens (and no BOS)"));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto logits = session.Feed(prompt);
  if (!logits.ok()) return ReportError("generate", logits.status());
  const auto t1 = std::chrono::steady_clock::now();

  GenerateOptions o;
  o.max_tokens = args.n_predict;
  o.sampling = args.sampling.params;
  o.stop = args.sampling.stop;
  auto result = Generate(session, tok, *logits, o, [](const GeneratedToken& t) {
    if (!t.text.empty()) {
      std::fwrite(t.text.data(), 1, t.text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  const auto t2 = std::chrono::steady_clock::now();
  if (!result.ok()) return ReportError("generate", result.status());
  std::printf("\n");
  if (args.print_ids) {
    std::string line = "ids:";
    for (int32_t id : result->ids) line += " " + std::to_string(id);
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
  const double prefill_ms = Ms(t1 - t0), gen_ms = Ms(t2 - t1);
  const size_t n_gen = result->ids.size();
  std::fprintf(stderr,
               "[generate] prompt %zu tokens in %.1f ms (%.1f tok/s); generated %zu tokens in "
               "%.1f ms (%.1f tok/s); finish: %s\n",
               prompt.size(), prefill_ms, prompt.size() / (prefill_ms / 1000.0), n_gen, gen_ms,
               n_gen > 1 ? (n_gen - 1) / (gen_ms / 1000.0) : 0.0,
               std::string(FinishReasonName(result->finish)).c_str());
  if (result->finish == FinishReason::kContextFull) {
    std::fprintf(stderr, "[generate] stopped: the context of %d tokens is full (raise -c)\n",
                 session.n_ctx());
  }
  return 0;
}

void RegisterGenerateCommand(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Continue a prompt, streaming the text to stdout");
  AddModelFlags(cmd, &args->model);
  AddSamplingFlags(cmd, &args->sampling);
  cmd->add_option("-p,--prompt", args->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", args->n_predict, "Tokens to generate at most");
  cmd->add_flag("--ids", args->print_ids, "Print the generated token ids on a final line");
  cmd->add_flag("--special", args->special, "Parse special tokens written in the prompt");
  cmd->callback([args] { Exit(RunGenerate(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(20, RegisterGenerateCommand);

}  // namespace cellar::cli
