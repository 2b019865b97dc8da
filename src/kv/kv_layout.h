// KvLayout: the shape of the working KV pool's memory, shared by the pool
// (which hands out block ids), the forward pass (which reads and writes K/V
// through block tables) and the store (which fills and drains blocks).
//
// Memory model: the pool is `n_blocks` blocks of `block_size` token slots; every
// block has, for every layer, a K tile and a V tile, each laid out as
//   [n_kv_heads][block_size][head_dim]   (head-major inside the block)
// in the element type `type`. Keys in the pool are stored AFTER RoPE (compute
// layout); the store keeps keys before RoPE.
//
// A sequence's KV is described by a block table (ids of its blocks, in order):
// the token at position p lives in block table[p / block_size], slot p % block_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cellar {

enum class KvType : uint8_t { kF16 = 0, kF32 = 1 };

inline size_t KvTypeBytes(KvType t) { return t == KvType::kF16 ? 2 : 4; }
inline std::string_view KvTypeName(KvType t) { return t == KvType::kF16 ? "f16" : "f32"; }

struct KvLayout {
  int n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int block_size = 16;  // tokens per block
  int n_blocks = 0;
  KvType type = KvType::kF16;

  // Elements of one K (or V) tile: one layer of one block.
  size_t TileElems() const {
    return static_cast<size_t>(n_kv_heads) * static_cast<size_t>(block_size) *
           static_cast<size_t>(head_dim);
  }
  size_t TileBytes() const { return TileElems() * KvTypeBytes(type); }
  // K and V of every layer for one block.
  size_t BlockBytes() const { return 2 * TileBytes() * static_cast<size_t>(n_layers); }
  // K and V of every layer for one token.
  size_t BytesPerToken() const {
    return 2 * static_cast<size_t>(n_layers) * static_cast<size_t>(n_kv_heads) *
           static_cast<size_t>(head_dim) * KvTypeBytes(type);
  }
  size_t TotalBytes() const { return BlockBytes() * static_cast<size_t>(n_blocks); }
  // How many blocks fit in `bytes` (the --kv-mem budget).
  int BlocksForBytes(size_t bytes) const {
    const size_t b = BlockBytes();
    return b == 0 ? 0 : static_cast<int>(bytes / b);
  }
  // Offset of (head, slot) inside a tile, in elements.
  size_t TileOffset(int kv_head, int slot) const {
    return (static_cast<size_t>(kv_head) * static_cast<size_t>(block_size) +
            static_cast<size_t>(slot)) *
           static_cast<size_t>(head_dim);
  }
};

}  // namespace cellar
