// `cellar eval-kv -m MODEL`: the quality cost of reused KV (engine/kv_reuse_eval.h)
// — codecs (raw, int8, +zstd) and truncation with decoupled positions — as
// perplexity over scored tokens and top-1 agreement with computing everything.
//
// Text: --text FILE (tokenized), else stories sampled from the model itself
// (--temp, --seed; BOS between stories). The stream is cut into --windows
// windows of history + scored + 1 tokens; results are averaged over them
// (perplexity = exp(mean NLL over all scored tokens)).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cmd_generate_options.h"
#include "cli/commands.h"
#include "engine/generate.h"
#include "engine/kv_reuse_eval.h"

namespace cellar::cli {
namespace {

struct EvalKvArgs {
  ModelFlags model;
  std::string text_file;
  float temp = 1.0f;
  uint64_t seed = 42;
  int history = 384;
  int scored = 64;
  int keep = 4;
  std::string drops = "0";
  std::string codecs = "raw,int8";
  int windows = 4;
  int chunk = 64;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

// Stories sampled from the model until `n` tokens (BOS before each).
Result<std::vector<int32_t>> SampleText(Runtime& rt, int n, float temp, uint64_t seed) {
  std::vector<int32_t> out;
  const int32_t bos = rt.tokenizer->vocab().bos();
  GenerateOptions g;
  g.sampling.temperature = temp;
  g.sampling.seed = seed;
  while (static_cast<int>(out.size()) < n) {
    rt.session->Truncate(0);
    const int32_t first = bos >= 0 ? bos : 0;
    CELLAR_ASSIGN_OR_RETURN(auto logits, rt.session->Feed(std::span<const int32_t>(&first, 1)));
    g.max_tokens = std::min(rt.session->n_ctx() - 2, n - static_cast<int>(out.size()));
    g.sampling.seed += 1;
    CELLAR_ASSIGN_OR_RETURN(GenerateResult r, Generate(*rt.session, *rt.tokenizer, logits, g));
    out.push_back(first);
    out.insert(out.end(), r.ids.begin(), r.ids.end());
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

int RunEvalKv(const EvalKvArgs& a) {
  const int window = a.history + a.scored + 1;
  auto rt = StartRuntime(a.model, /*need_tokenizer=*/true, window);
  if (!rt.ok()) return ReportError("eval-kv", rt.status());
  std::vector<int32_t> tokens;
  if (!a.text_file.empty()) {
    std::ifstream in(a.text_file, std::ios::binary);
    if (!in) return ReportError("eval-kv", NotFound("cannot read " + a.text_file));
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    tokens = rt->tokenizer->Encode(text, /*add_special=*/true, /*parse_special=*/false);
  } else {
    auto t = SampleText(*rt, window * a.windows, a.temp, a.seed);
    if (!t.ok()) return ReportError("eval-kv", t.status());
    tokens = std::move(*t);
  }
  const int n_windows = std::min(a.windows, static_cast<int>(tokens.size()) / window);
  if (n_windows <= 0) {
    std::fprintf(stderr, "cellar eval-kv: the text has fewer than %d tokens\n", window);
    return 1;
  }
  std::printf("model %s, KV %s, history %d, scored %d, keep %d, chunks of %d, %d windows\n\n",
              a.model.model.c_str(), a.model.kv_type.c_str(), a.history, a.scored, a.keep, a.chunk,
              n_windows);
  std::printf(
      "| codec | dropped | PPL full | PPL recompute | PPL reuse | top-1 recompute | top-1 reuse | "
      "bytes |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& codec_name : Split(a.codecs)) {
    auto codec = ParseCodec(codec_name);
    if (!codec.ok()) return ReportError("eval-kv", codec.status());
    for (const std::string& d : Split(a.drops)) {
      KvReuseEvalOptions o;
      o.n_history = a.history;
      o.n_scored = a.scored;
      o.n_keep = a.keep;
      o.n_drop = std::stoi(d);
      o.codec = *codec;
      o.chunk_tokens = a.chunk;
      o.kv_type = a.model.kv_type == "f32" ? KvType::kF32 : KvType::kF16;
      double nll_full = 0, nll_rec = 0, nll_reuse = 0, top_rec = 0, top_reuse = 0, bytes = 0;
      for (int w = 0; w < n_windows; ++w) {
        const std::span<const int32_t> win(tokens.data() + static_cast<size_t>(w) * window,
                                           static_cast<size_t>(window));
        auto r = EvaluateKvReuse(*rt->model, rt->pool.get(), win, o);
        if (!r.ok()) return ReportError("eval-kv", r.status());
        nll_full += r->full.mean_nll;
        nll_rec += r->recompute.mean_nll;
        nll_reuse += r->reuse.mean_nll;
        top_rec += r->recompute.top1_agreement;
        top_reuse += r->reuse.top1_agreement;
        bytes += r->encoded_bytes_ratio;
      }
      const double k = n_windows;
      std::printf("| %s | %d | %.4f | %.4f | %.4f | %.1f%% | %.1f%% | %.3f |\n", codec_name.c_str(),
                  o.n_drop, std::exp(nll_full / k), std::exp(nll_rec / k), std::exp(nll_reuse / k),
                  100 * top_rec / k, 100 * top_reuse / k, bytes / k);
      std::fflush(stdout);
    }
  }
  return 0;
}

void RegisterEvalKvCommand(CLI::App& app) {
  auto a = std::make_shared<EvalKvArgs>();
  auto* cmd = app.add_subcommand(
      "eval-kv", "Quality cost of reused KV: codecs and truncation (perplexity, top-1 agreement)");
  AddModelFlags(cmd, &a->model);
  cmd->add_option("--text", a->text_file,
                  "Text file to score (default: stories sampled from the model)");
  cmd->add_option("--temp", a->temp, "Sampling temperature of the generated text")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Sampling seed of the generated text")->capture_default_str();
  cmd->add_option("--history", a->history, "History tokens whose KV is reused")
      ->capture_default_str();
  cmd->add_option("--scored", a->scored, "Tokens scored after the history")->capture_default_str();
  cmd->add_option("--keep", a->keep, "Truncation keeps this many leading tokens")
      ->capture_default_str();
  cmd->add_option("--drop", a->drops, "Tokens dropped after --keep (comma list; 0: none)")
      ->capture_default_str();
  cmd->add_option("--codec", a->codecs, "Codecs (comma list of raw, int8, raw+zstd, int8+zstd)")
      ->capture_default_str();
  cmd->add_option("--windows", a->windows, "Windows of the text to average over")
      ->capture_default_str();
  cmd->add_option("--chunk", a->chunk, "Tokens per chunk")->capture_default_str();
  cmd->callback([a] { Exit(RunEvalKv(*a)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(64, RegisterEvalKvCommand);

}  // namespace cellar::cli
