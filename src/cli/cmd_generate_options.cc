#include "cli/cmd_generate_options.h"

#include <algorithm>
#include <cstdio>

namespace cellar::cli {

void AddModelFlags(CLI::App* cmd, ModelFlags* f) {
  cmd->add_option("-m,--model", f->model, "GGUF model file")->required();
  cmd->add_option("-t,--threads", f->threads, "Compute threads (default: physical cores)");
  cmd->add_option("--kv-type", f->kv_type, "KV cache element type: f16 or f32")
      ->check(CLI::IsMember({"f16", "f32"}));
  cmd->add_option("-c,--ctx", f->ctx,
                  "Context size in tokens (default: the model's, at most 4096)");
  cmd->add_option("-b,--batch", f->batch, "Prompt tokens per forward step")
      ->check(CLI::PositiveNumber);
}

void AddSamplingFlags(CLI::App* cmd, SamplingFlags* f) {
  SamplingParams& p = f->params;
  cmd->add_option("--temp", p.temperature, "Temperature; 0 = greedy (default 0)");
  cmd->add_option("--top-k", p.top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--top-p", p.top_p, "Nucleus sampling threshold (1 = off)");
  cmd->add_option("--min-p", p.min_p, "Drop tokens below min-p x the top probability (0 = off)");
  cmd->add_option("--repeat-penalty", p.repeat_penalty, "Repetition penalty (1 = off)");
  cmd->add_option("--repeat-last-n", p.penalty_last_n, "Tokens the penalties look back on");
  cmd->add_option("--presence-penalty", p.presence_penalty, "Presence penalty (0 = off)");
  cmd->add_option("--frequency-penalty", p.frequency_penalty, "Frequency penalty (0 = off)");
  cmd->add_option("--seed", p.seed, "Random seed (sampling is reproducible for a seed)");
  cmd->add_option("--stop", f->stop, "Stop string (repeatable); not printed");
}

Result<Runtime> StartRuntime(const ModelFlags& flags, bool need_tokenizer, int32_t min_ctx) {
  Runtime rt;
  CELLAR_ASSIGN_OR_RETURN(rt.model, Model::Load(flags.model));
  if (need_tokenizer) {
    auto tok = Tokenizer::FromGguf(rt.model->gguf());
    if (!tok.ok()) return tok.status().WithContext("tokenizer of " + flags.model);
    rt.tokenizer = std::move(tok).value();
  }
  const int threads = flags.threads > 0 ? flags.threads : ThreadPool::PhysicalCores();
  rt.pool = std::make_unique<ThreadPool>(threads);
  LocalSessionOptions o;
  o.n_ctx = flags.ctx;
  if (o.n_ctx <= 0 && min_ctx > 0) {
    o.n_ctx = std::max(min_ctx, std::min(rt.model->hparams().n_ctx_train, 4096));
  }
  o.kv_type = flags.kv_type == "f32" ? KvType::kF32 : KvType::kF16;
  o.max_batch_tokens = flags.batch;
  CELLAR_ASSIGN_OR_RETURN(rt.session, LocalSession::Create(*rt.model, rt.pool.get(), o));
  return rt;
}

int ReportError(const char* command, const Status& status) {
  std::fprintf(stderr, "cellar %s: %s\n", command, status.ToString().c_str());
  return 1;
}

}  // namespace cellar::cli
