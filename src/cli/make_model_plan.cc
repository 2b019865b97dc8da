#include "cli/make_model_plan.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace cellar::cli {
namespace {

// llama-quantize's use_more_bits(i_layer, n_layers).
bool UseMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// llama-quantize's fallback for rows that are not a multiple of the block size.
GgmlType Fallback(GgmlType t, int64_t row) {
  if (row % TraitsOf(t).block_size == 0) return t;
  GgmlType f = GgmlType::kF16;
  if (t == GgmlType::kQ4_K) f = GgmlType::kQ5_0;
  if (t == GgmlType::kQ5_K) f = GgmlType::kQ5_1;
  if (t == GgmlType::kQ6_K) f = GgmlType::kQ8_0;
  return row % TraitsOf(f).block_size == 0 ? f : GgmlType::kF16;
}

GgmlType BaseType(ModelFileType t) {
  switch (t) {
    case ModelFileType::kF32:
      return GgmlType::kF32;
    case ModelFileType::kF16:
      return GgmlType::kF16;
    case ModelFileType::kBF16:
      return GgmlType::kBF16;
    case ModelFileType::kQ8_0:
      return GgmlType::kQ8_0;
    case ModelFileType::kQ4_0:
      return GgmlType::kQ4_0;
    case ModelFileType::kQ4_K_M:
      return GgmlType::kQ4_K;
    case ModelFileType::kQ5_K_M:
      return GgmlType::kQ5_K;
    case ModelFileType::kQ6_K:
      return GgmlType::kQ6_K;
  }
  return GgmlType::kF32;
}

// Type of a 2-D weight, as llama_tensor_get_type picks it for the file types
// supported here. `layer` is the block index (-1 outside blocks).
GgmlType WeightType(ModelFileType ft, const std::string& role, int layer, int n_layers, int64_t row,
                    bool is_output) {
  GgmlType t = BaseType(ft);
  if (!TraitsOf(t).quantized) return t;
  const bool k_mix = ft == ModelFileType::kQ4_K_M || ft == ModelFileType::kQ5_K_M;
  if (is_output) {
    // output.weight (or token_embd when tied): Q6_K unless the file is Q8_0.
    // (The row test uses the file's base type; the Q6_K pick may then fall back.)
    if (row % TraitsOf(t).block_size != 0) return GgmlType::kQ8_0;
    return Fallback(t == GgmlType::kQ8_0 ? t : GgmlType::kQ6_K, row);
  }
  if (k_mix && (role == "attn_v" || role == "ffn_down") && UseMoreBits(layer, n_layers)) {
    t = GgmlType::kQ6_K;
  }
  return Fallback(t, row);
}

}  // namespace

std::optional<ModelShape> PresetShape(std::string_view name) {
  ModelShape s;
  if (name == "tinyllama-1.1b") {
    s.arch = "llama";
    s.name = "TinyLlama-1.1B shape (random weights)";
    s.n_layers = 22;
    s.n_embd = 2048;
    s.n_head = 32;
    s.n_head_kv = 4;
    s.head_dim = 64;
    s.n_ff = 5632;
    s.n_vocab = 32000;
    s.rope_theta = 10000.0f;
    s.rms_eps = 1e-5f;
    s.n_ctx = 2048;
    return s;
  }
  if (name == "qwen2.5-0.5b") {
    s.arch = "qwen2";
    s.name = "Qwen2.5-0.5B shape (random weights)";
    s.n_layers = 24;
    s.n_embd = 896;
    s.n_head = 14;
    s.n_head_kv = 2;
    s.head_dim = 64;
    s.n_ff = 4864;
    s.n_vocab = 151936;
    s.rope_theta = 1000000.0f;
    s.rms_eps = 1e-6f;
    s.n_ctx = 32768;
    s.qkv_bias = true;
    s.tied_embeddings = true;
    return s;
  }
  return std::nullopt;
}

Result<ModelFileType> ParseModelFileType(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "f32") return ModelFileType::kF32;
  if (n == "f16") return ModelFileType::kF16;
  if (n == "bf16") return ModelFileType::kBF16;
  if (n == "q8_0") return ModelFileType::kQ8_0;
  if (n == "q4_0") return ModelFileType::kQ4_0;
  if (n == "q4_k_m") return ModelFileType::kQ4_K_M;
  if (n == "q5_k_m") return ModelFileType::kQ5_K_M;
  if (n == "q6_k") return ModelFileType::kQ6_K;
  return InvalidArgument("unknown model file type '" + std::string(name) +
                         "' (f32, f16, bf16, q8_0, q4_0, q4_k_m, q5_k_m, q6_k)");
}

uint32_t LlamaFileTypeId(ModelFileType type) {
  switch (type) {
    case ModelFileType::kF32:
      return 0;
    case ModelFileType::kF16:
      return 1;
    case ModelFileType::kQ4_0:
      return 2;
    case ModelFileType::kQ8_0:
      return 7;
    case ModelFileType::kQ4_K_M:
      return 15;
    case ModelFileType::kQ5_K_M:
      return 17;
    case ModelFileType::kQ6_K:
      return 18;
    case ModelFileType::kBF16:
      return 32;
  }
  return 0;
}

Result<std::vector<TensorPlan>> PlanTensors(const ModelShape& s, ModelFileType ft) {
  if (s.arch != "llama" && s.arch != "qwen2") {
    return InvalidArgument("architecture '" + s.arch + "' is not one of llama, qwen2");
  }
  if (s.n_layers <= 0 || s.n_embd <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 || s.head_dim <= 0 ||
      s.n_ff <= 0 || s.n_vocab <= 0 || s.n_ctx <= 0) {
    return InvalidArgument("model sizes must be positive");
  }
  if (s.n_head % s.n_head_kv != 0) {
    return InvalidArgument("n_head must be a multiple of n_head_kv");
  }
  const int64_t e = s.n_embd, q = int64_t{s.n_head} * s.head_dim,
                kv = int64_t{s.n_head_kv} * s.head_dim, ff = s.n_ff, v = s.n_vocab;
  std::vector<TensorPlan> out;
  auto weight = [&](std::string name, const std::string& role, int layer, int64_t in, int64_t outs,
                    bool is_output) {
    out.push_back({std::move(name),
                   {in, outs},
                   WeightType(ft, role, layer, s.n_layers, in, is_output),
                   TensorInit::kNormal});
  };
  auto vec = [&](std::string name, int64_t n, TensorInit init) {
    out.push_back({std::move(name), {n}, GgmlType::kF32, init});
  };
  weight("token_embd.weight", "token_embd", -1, e, v, s.tied_embeddings);
  for (int l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    vec(p + "attn_norm.weight", e, TensorInit::kOnes);
    weight(p + "attn_q.weight", "attn_q", l, e, q, false);
    if (s.qkv_bias) vec(p + "attn_q.bias", q, TensorInit::kNormal);
    weight(p + "attn_k.weight", "attn_k", l, e, kv, false);
    if (s.qkv_bias) vec(p + "attn_k.bias", kv, TensorInit::kNormal);
    weight(p + "attn_v.weight", "attn_v", l, e, kv, false);
    if (s.qkv_bias) vec(p + "attn_v.bias", kv, TensorInit::kNormal);
    weight(p + "attn_output.weight", "attn_output", l, q, e, false);
    vec(p + "ffn_norm.weight", e, TensorInit::kOnes);
    weight(p + "ffn_gate.weight", "ffn_gate", l, e, ff, false);
    weight(p + "ffn_up.weight", "ffn_up", l, e, ff, false);
    weight(p + "ffn_down.weight", "ffn_down", l, ff, e, false);
  }
  vec("output_norm.weight", e, TensorInit::kOnes);
  if (!s.tied_embeddings) weight("output.weight", "output", -1, e, v, true);
  return out;
}

}  // namespace cellar::cli
