// `cellar make-model`: writes a random-weight GGUF model of a real shape
// (TinyLlama-1.1B, Qwen2.5-0.5B, or custom) in one of llama.cpp's file types,
// with the tokenizer of another GGUF file. For benchmarks and loading tests.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/make_model_writer.h"

namespace cellar::cli {
namespace {

struct MakeModelArgs {
  std::string shape = "custom";
  std::string type = "f16";
  std::string vocab;
  std::string out;
  uint64_t seed = 1;
  float stddev = 0.02f;
  int threads = 0;
  // Overrides (applied on top of the preset; -1 / empty = keep).
  std::string arch, name;
  int layers = -1, embd = -1, heads = -1, kv_heads = -1, head_dim = -1, ff = -1, ctx = -1;
  float rope_theta = -1, rms_eps = -1;
  bool qkv_bias = false, no_qkv_bias = false, tied = false, untied = false;
};

int RunMakeModel(const MakeModelArgs& a) {
  MakeModelOptions opt;
  if (a.shape == "custom") {
    opt.shape = ModelShape{};
  } else if (auto preset = PresetShape(a.shape)) {
    opt.shape = *preset;
  } else {
    std::fprintf(stderr, "make-model: unknown shape '%s' (tinyllama-1.1b, qwen2.5-0.5b, custom)\n",
                 a.shape.c_str());
    return 2;
  }
  ModelShape& s = opt.shape;
  if (!a.arch.empty()) s.arch = a.arch;
  if (!a.name.empty()) s.name = a.name;
  if (a.layers > 0) s.n_layers = a.layers;
  if (a.embd > 0) s.n_embd = a.embd;
  if (a.heads > 0) s.n_head = a.heads;
  if (a.kv_heads > 0) s.n_head_kv = a.kv_heads;
  if (a.head_dim > 0) s.head_dim = a.head_dim;
  if (a.ff > 0) s.n_ff = a.ff;
  if (a.ctx > 0) s.n_ctx = a.ctx;
  if (a.rope_theta > 0) s.rope_theta = a.rope_theta;
  if (a.rms_eps > 0) s.rms_eps = a.rms_eps;
  if (a.qkv_bias) s.qkv_bias = true;
  if (a.no_qkv_bias) s.qkv_bias = false;
  if (a.tied) s.tied_embeddings = true;
  if (a.untied) s.tied_embeddings = false;
  if (a.shape == "custom") s.n_vocab = 0;  // from the vocabulary
  auto ft = ParseModelFileType(a.type);
  if (!ft.ok()) {
    std::fprintf(stderr, "make-model: %s\n", ft.status().ToString().c_str());
    return 2;
  }
  opt.file_type = *ft;
  opt.vocab_path = a.vocab;
  opt.out_path = a.out;
  opt.seed = a.seed;
  opt.stddev = a.stddev;
  opt.threads = a.threads;
  const auto start = std::chrono::steady_clock::now();
  Status st = WriteRandomModel(opt);
  if (!st.ok()) {
    std::fprintf(stderr, "make-model: %s\n", st.ToString().c_str());
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CELLAR_LOG_INFO("make-model: wrote {} in {:.1f} s", opt.out_path, secs);
  return 0;
}

void RegisterMakeModelCommand(CLI::App& app) {
  auto args = std::make_shared<MakeModelArgs>();
  auto* cmd = app.add_subcommand(
      "make-model", "Write a random-weight GGUF model of a real shape (for benchmarks and tests)");
  cmd->add_option("--shape", args->shape, "tinyllama-1.1b | qwen2.5-0.5b | custom")
      ->capture_default_str();
  cmd->add_option("--type", args->type, "f32 f16 bf16 q8_0 q4_0 q4_k_m q5_k_m q6_k")
      ->capture_default_str();
  cmd->add_option("--vocab", args->vocab, "GGUF file to copy the tokenizer.* keys from")
      ->required();
  cmd->add_option("-o,--output", args->out, "Output .gguf path")->required();
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_option("--std", args->stddev, "Standard deviation of the weights")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads (0: one per physical core)")
      ->capture_default_str();
  cmd->add_option("--arch", args->arch, "Override: llama | qwen2");
  cmd->add_option("--name", args->name, "Override: general.name");
  cmd->add_option("--layers", args->layers, "Override: number of blocks");
  cmd->add_option("--embd", args->embd, "Override: embedding length");
  cmd->add_option("--heads", args->heads, "Override: attention heads");
  cmd->add_option("--kv-heads", args->kv_heads, "Override: key/value heads");
  cmd->add_option("--head-dim", args->head_dim, "Override: head dimension");
  cmd->add_option("--ff", args->ff, "Override: feed-forward length");
  cmd->add_option("--ctx", args->ctx, "Override: context length");
  cmd->add_option("--rope-theta", args->rope_theta, "Override: RoPE base frequency");
  cmd->add_option("--rms-eps", args->rms_eps, "Override: RMSNorm epsilon");
  cmd->add_flag("--qkv-bias", args->qkv_bias, "Add q/k/v biases");
  cmd->add_flag("--no-qkv-bias", args->no_qkv_bias, "No q/k/v biases");
  cmd->add_flag("--tied", args->tied, "Tied embeddings (no output.weight)");
  cmd->add_flag("--untied", args->untied, "Separate output.weight");
  cmd->callback([args] { Exit(RunMakeModel(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(900, RegisterMakeModelCommand);

}  // namespace cellar::cli
