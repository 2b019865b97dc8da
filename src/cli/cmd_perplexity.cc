// `cellar perplexity -m MODEL -f FILE [-c CTX] [-b BATCH] [--chunks N]`:
// perplexity over a text file as llama.cpp's llama-perplexity computes it
// (engine/perplexity.h): prints the running value after each chunk, then
// "Final estimate: PPL = x +/- e".
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/cmd_generate_options.h"
#include "cli/commands.h"
#include "engine/perplexity.h"

namespace cellar::cli {
namespace {

struct PerplexityArgs {
  ModelFlags model;
  std::string file;
  int chunks = -1;
};

int RunPerplexity(PerplexityArgs args) {
  std::ifstream in(args.file, std::ios::binary);
  if (!in) return ReportError("perplexity", NotFound("cannot read " + args.file));
  std::stringstream ss;
  ss << in.rdbuf();
  const int n_ctx = args.model.ctx > 0 ? args.model.ctx : 512;
  args.model.ctx = n_ctx;
  auto rt = StartRuntime(args.model, /*need_tokenizer=*/true);
  if (!rt.ok()) return ReportError("perplexity", rt.status());
  const Tokenizer& tok = *rt->tokenizer;
  const std::vector<int32_t> tokens = tok.Encode(ss.str(), /*add_special=*/true, false);
  PerplexityOptions o;
  o.n_ctx = n_ctx;
  o.max_chunks = args.chunks;
  o.bos_token = tok.vocab().add_bos() ? tok.vocab().bos() : -1;
  std::fprintf(stderr, "[perplexity] %zu tokens, context %d, batch %d\n", tokens.size(), n_ctx,
               args.model.batch);
  auto r = ComputePerplexity(*rt->session, tokens, o, [](const PerplexityChunk& c) {
    std::printf("[%d]%.4f,", c.index + 1, c.running_ppl);
    std::fflush(stdout);
  });
  if (!r.ok()) return ReportError("perplexity", r.status());
  std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_error);
  std::fprintf(stderr, "[perplexity] %d chunks, %lld tokens scored, mean NLL %.6f\n", r->n_chunks,
               static_cast<long long>(r->n_scored), r->mean_nll);
  return 0;
}

void RegisterPerplexityCommand(CLI::App& app) {
  auto args = std::make_shared<PerplexityArgs>();
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a model over a text file");
  AddModelFlags(cmd, &args->model);
  cmd->add_option("-f,--file", args->file, "Text file")->required();
  cmd->add_option("--chunks", args->chunks, "Evaluate at most this many chunks (default: all)");
  cmd->callback([args] { Exit(RunPerplexity(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(23, RegisterPerplexityCommand);

}  // namespace cellar::cli
