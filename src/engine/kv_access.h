// Reading and writing one token's K/V in the working pool through a block
// table, and rotating stored (pre-RoPE) keys for new positions — what the
// forward pass does for new tokens, and what a store loader does when it moves
// a cached prefix back into the pool (RotateKeys, then WriteTokenKv).
// Thread-safety: concurrent calls are safe when they touch different slots.
#pragma once

#include <cstdint>
#include <span>

#include "gguf/ggml_type.h"
#include "kernels/rope.h"
#include "kv/kv_storage.h"

namespace cellar {

inline GgmlType KvElementType(KvType t) {
  return t == KvType::kF16 ? GgmlType::kF16 : GgmlType::kF32;
}

// Writes k (after RoPE) and v, each [n_kv_heads * head_dim] floats, for `layer`
// at position `pos`: slot pos % block_size of block block_table[pos / block_size].
// REQUIRES: the block table covers pos; 0 <= layer < n_layers.
void WriteTokenKv(KvStorage& kv, int layer, std::span<const int32_t> block_table, int32_t pos,
                  const float* k, const float* v);

// Reads them back as floats (f16 pool: the rounded values).
void ReadTokenKv(const KvStorage& kv, int layer, std::span<const int32_t> block_table, int32_t pos,
                 float* k, float* v);

// Applies RoPE in place to pre-RoPE keys k: [positions.size()][n_kv_heads * head_dim],
// row i for position positions[i].
void RotateKeys(const RopeParams& rope, int32_t n_kv_heads, float* k,
                std::span<const int32_t> positions);

}  // namespace cellar
