// ModelHParams: the hyperparameters of a decoder-only transformer, read from a
// GGUF file's metadata by the architecture's loader (arch_<name>.cc).
//
// Every value comes from the file (`<arch>.*` keys), with llama.cpp's defaults
// where a key is optional: head_dim = attention.key_length if present, else
// n_embd / n_head; n_rot = rope.dimension_count, else head_dim; rope freq base
// 10000; rope scaling "linear" with factor 1 (no scaling) unless the file says
// otherwise.
//
// A plain value; thread-safe to read.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "kernels/rope.h"

namespace cellar {

enum class RopeScaling : uint8_t { kNone = 0, kLinear = 1, kYarn = 2 };

struct ModelHParams {
  std::string arch;        // general.architecture, e.g. "llama", "qwen2"
  std::string name;        // general.name (may be empty)
  uint32_t file_type = 0;  // general.file_type (llama_ftype), 0 if absent

  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;  // <arch>.context_length
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  // per head, for K, V and Q
  int32_t n_ff = 0;
  float rms_eps = 1e-5f;

  RopeScaling rope_scaling = RopeScaling::kLinear;
  // RoPE as the forward pass applies it (freq_factors is bound with the weights).
  RopeParams rope;

  int32_t n_embd_q() const { return n_head * head_dim; }
  int32_t n_embd_kv() const { return n_head_kv * head_dim; }
  int32_t n_group() const { return n_head / n_head_kv; }
};

// Reads the hyperparameters every llama-like architecture shares from
// `<arch>.*` keys, using `style` for RoPE. Errors name the missing or invalid key.
Result<ModelHParams> ReadDecoderHParams(const GgufFile& file, RopeStyle style);

// Checks internal consistency (positive sizes, n_head % n_head_kv == 0, even
// n_rot <= head_dim, ...). Errors name the offending value.
Status ValidateHParams(const ModelHParams& hp);

}  // namespace cellar
