// KvStorage: the memory of the working KV pool (see kv_layout.h for the layout).
// It only owns bytes; which block belongs to which sequence is the BlockPool's
// business. Created once by the engine, sized by --kv-mem.
//
// Thread-safety: the object is immutable after Create(); concurrent access to
// different tiles is safe, to the same tile must be ordered by the caller (the
// engine thread, or a store loader that owns the block until it hands it over).
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"
#include "kv/kv_layout.h"

namespace cellar {

class KvStorage {
 public:
  // Allocates layout.TotalBytes() (64-byte aligned, zeroed). ResourceExhausted
  // if the memory cannot be had. REQUIRES: every layout field > 0.
  static Result<std::unique_ptr<KvStorage>> Create(const KvLayout& layout);
  ~KvStorage();
  KvStorage(const KvStorage&) = delete;
  KvStorage& operator=(const KvStorage&) = delete;

  const KvLayout& layout() const { return layout_; }

  // The K / V tile of `layer` in `block`: [n_kv_heads][block_size][head_dim] of layout().type.
  // REQUIRES: 0 <= layer < n_layers, 0 <= block < n_blocks.
  void* K(int layer, int32_t block) { return Tile(layer, block, 0); }
  void* V(int layer, int32_t block) { return Tile(layer, block, 1); }
  const void* K(int layer, int32_t block) const { return Tile(layer, block, 0); }
  const void* V(int layer, int32_t block) const { return Tile(layer, block, 1); }

 private:
  KvStorage(const KvLayout& layout, uint8_t* base) : layout_(layout), base_(base) {}
  // Tiles are grouped per layer ([layer][block][K|V]) so one layer's KV is contiguous.
  uint8_t* Tile(int layer, int32_t block, int kv) const {
    const size_t index = (static_cast<size_t>(layer) * static_cast<size_t>(layout_.n_blocks) +
                          static_cast<size_t>(block)) *
                             2 +
                         static_cast<size_t>(kv);
    return base_ + index * layout_.TileBytes();
  }
  KvLayout layout_;
  uint8_t* base_;
};

}  // namespace cellar
