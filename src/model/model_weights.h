// ModelWeights: zero-copy views of a decoder-only transformer's tensors inside
// a mapped GGUF file, bound and shape-checked by the architecture's loader.
//
// 2-D weights are WeightMatrix views (rows = n_out, cols = n_in) into the file;
// 1-D tensors (norm weights, biases, rope factors) are f32 pointers, into the
// file when stored as F32 or into `owned_` copies when stored as F16/BF16.
// Owned by Model, which keeps the file mapped as long as the views live.
// Thread-safety: immutable after binding; any thread may read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_file.h"
#include "kernels/matmul.h"
#include "model/hparams.h"

namespace cellar {

struct LayerWeights {
  const float* attn_norm = nullptr;  // [n_embd]
  WeightMatrix wq;                   // [n_embd_q x n_embd]
  WeightMatrix wk;                   // [n_embd_kv x n_embd]
  WeightMatrix wv;                   // [n_embd_kv x n_embd]
  WeightMatrix wo;                   // [n_embd x n_embd_q]
  const float* bq = nullptr;         // [n_embd_q] or null
  const float* bk = nullptr;         // [n_embd_kv] or null
  const float* bv = nullptr;         // [n_embd_kv] or null
  const float* bo = nullptr;         // [n_embd] or null
  const float* ffn_norm = nullptr;   // [n_embd]
  WeightMatrix ffn_gate;             // [n_ff x n_embd]
  WeightMatrix ffn_up;               // [n_ff x n_embd]
  WeightMatrix ffn_down;             // [n_embd x n_ff]
};

struct ModelWeights {
  WeightMatrix token_embd;             // [n_vocab x n_embd]; rows are dequantized for lookup
  const float* output_norm = nullptr;  // [n_embd]
  WeightMatrix output;                 // [n_vocab x n_embd]; token_embd when tied
  bool tied_output = false;            // no output.weight in the file
  const float* rope_freqs = nullptr;   // [n_rot / 2] or null (Llama 3 rope scaling)
  std::vector<LayerWeights> layers;
  // f32 copies of 1-D tensors stored in another type (their buffers never move).
  std::vector<std::unique_ptr<float[]>> owned;
};

// What the shared binder requires of an architecture.
struct DecoderBindOptions {
  bool require_qkv_bias = false;  // qwen2: attn_{q,k,v}.bias must exist
};

// Binds the llama-style tensor set (token_embd, output_norm, optional output,
// optional rope_freqs, blk.N.{attn_norm, attn_q/k/v/output, ffn_norm,
// ffn_gate/up/down} + optional biases) and checks every shape and type against
// `hp`. Errors name the tensor and what was expected.
Result<ModelWeights> BindDecoderWeights(const GgufFile& file, const ModelHParams& hp,
                                        const DecoderBindOptions& options);

// A 2-D tensor as a WeightMatrix of [rows x cols] (GGUF dims {cols, rows}).
Result<WeightMatrix> BindMatrix(const GgufFile& file, const std::string& name, int64_t rows,
                                int64_t cols);

// A 1-D tensor of n elements as f32 (converted into `weights->owned` if needed).
// `required` false: returns nullptr when the tensor is absent.
Result<const float*> BindVector(const GgufFile& file, const std::string& name, int64_t n,
                                bool required, ModelWeights* weights);

}  // namespace cellar
