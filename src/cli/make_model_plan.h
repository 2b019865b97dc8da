// The shape and tensor list of a random-weight model for `cellar make-model`:
// architecture presets (TinyLlama-1.1B, Qwen2.5-0.5B) and the per-tensor weight
// types of each file type, following llama-quantize's mixes (e.g. Q4_K_M keeps
// output.weight and some attn_v / ffn_down tensors at Q6_K; rows whose length is
// not a multiple of 256 fall back to Q5_0 / Q5_1 / Q8_0 as llama-quantize does).
// Thread-safety: pure functions and plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/ggml_type.h"

namespace cellar::cli {

struct ModelShape {
  std::string arch = "llama";  // "llama" or "qwen2"
  std::string name = "custom";
  int n_layers = 2;
  int n_embd = 256;
  int n_head = 8;
  int n_head_kv = 2;
  int head_dim = 32;
  int n_ff = 768;
  int n_vocab = 0;  // 0: take it from the vocabulary file
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  int n_ctx = 4096;
  bool qkv_bias = false;         // qwen2: attn_q/k/v biases
  bool tied_embeddings = false;  // no output.weight (token_embd is reused)
};

// "tinyllama-1.1b", "qwen2.5-0.5b"; nullopt for other names.
std::optional<ModelShape> PresetShape(std::string_view name);

// File types (llama.cpp's LLAMA_FTYPE_* names without the prefix).
enum class ModelFileType { kF32, kF16, kBF16, kQ8_0, kQ4_0, kQ4_K_M, kQ5_K_M, kQ6_K };

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q6_k" (any case).
Result<ModelFileType> ParseModelFileType(std::string_view name);
// llama.cpp's general.file_type id (LLAMA_FTYPE_*).
uint32_t LlamaFileTypeId(ModelFileType type);

enum class TensorInit { kNormal, kOnes };

struct TensorPlan {
  std::string name;
  std::vector<int64_t> dims;  // ne[0] (row length) first
  GgmlType type;
  TensorInit init;
};

// The model's tensors in file order with their types. Errors: a shape that
// cannot be built (non-positive sizes, n_head not a multiple of n_head_kv, ...).
Result<std::vector<TensorPlan>> PlanTensors(const ModelShape& shape, ModelFileType type);

}  // namespace cellar::cli
