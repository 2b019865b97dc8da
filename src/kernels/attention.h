// Paged attention: the query heads that share one KV head (GQA group) of one
// token attend, with causal masking expressed as "the first n_keys positions",
// over a sequence whose K/V live in fixed-size blocks addressed through a block
// table. Scores and softmax are f32; K/V are f16 or f32.
//
// Memory (the working pool's layout, see kv/kv_layout.h): for one layer, the K
// tile of block b starts at k + b * block_stride and is laid out
// [n_kv_heads][block_size][head_dim]; likewise V. Position j of the sequence is
// slot j % block_size of block block_table[j / block_size].
//
// PagedAttention() uses the CPU's best kernel level (chosen once);
// PagedAttentionReference() is the scalar oracle (exact f16->f32 conversion,
// std::exp, sums in double); PagedAttentionWithIsa() runs one level, for tests.
// Thread-safety: pure functions of their arguments; concurrent calls must use
// different scratch/out buffers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"

namespace cellar {

// One layer of the pool as the attention kernel reads it.
struct PagedKvView {
  GgmlType type = GgmlType::kF16;  // kF16 or kF32
  const uint8_t* k = nullptr;      // K tile of block 0 of this layer
  const uint8_t* v = nullptr;      // V tile of block 0 of this layer
  int64_t block_stride = 0;        // bytes from the tiles of block b to those of b + 1
  int32_t block_size = 0;          // token slots per block
  int32_t n_kv_heads = 0;
  int32_t head_dim = 0;
};

struct AttentionArgs {
  const float* q = nullptr;  // [n_group][head_dim]: the query heads of kv_head
  int32_t n_group = 1;       // query heads per KV head
  int32_t kv_head = 0;
  const int32_t* block_table = nullptr;  // covers positions [0, n_keys)
  int32_t n_keys = 0;                    // attend to positions [0, n_keys); > 0
  float scale = 1.0f;                    // score scale, usually 1/sqrt(head_dim)
  float* scratch = nullptr;              // AttentionScratchFloats(n_group, n_keys) floats
  float* out = nullptr;                  // [n_group][head_dim]
};

// Floats of scratch one call needs.
inline size_t AttentionScratchFloats(int32_t n_group, int32_t n_keys) {
  return static_cast<size_t>(n_group) * (static_cast<size_t>(n_keys) + 1);
}

// out[h] = sum_j softmax_j(scale * q[h] . K[j]) V[j], for h < n_group, j < n_keys.
void PagedAttention(const PagedKvView& kv, const AttentionArgs& args);
void PagedAttentionReference(const PagedKvView& kv, const AttentionArgs& args);
void PagedAttentionWithIsa(IsaLevel isa, const PagedKvView& kv, const AttentionArgs& args);

// Converts n floats into KV element type `type` (kF16: round to nearest even;
// kF32: copy) at dst. The forward pass writes new K/V rows into the pool with it.
void StoreKvRow(GgmlType type, const float* src, void* dst, int64_t n);
// The reverse: n elements of `type` at src to floats.
void LoadKvRow(GgmlType type, const void* src, float* dst, int64_t n);

namespace internal {
void PagedAttentionAvx2(const PagedKvView& kv, const AttentionArgs& args);
void PagedAttentionAvx512(const PagedKvView& kv, const AttentionArgs& args);
void StoreKvRowF16Avx2(const float* src, uint16_t* dst, int64_t n);
void LoadKvRowF16Avx2(const uint16_t* src, float* dst, int64_t n);
}  // namespace internal

}  // namespace cellar
