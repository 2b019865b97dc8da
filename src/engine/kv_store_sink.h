// Moving KV between the store's layout (keys before RoPE, chunk-major
// [n_kv_heads][n_tokens][head_dim]) and the working pool (keys after RoPE, in
// blocks addressed through a block table):
//
//  - PoolLoadSink: the LayerSink of a store load. It rotates each stored key
//    for the position its token takes NOW (decoupled positions: a truncated
//    history lands at new positions) and writes K and V into the request's pool
//    blocks. A PositionMap says where each stored position goes.
//  - ReadPreRopeKv: the reverse, for saving KV that is only in the pool (the
//    head of a chunk whose first tokens came from the pool's prefix cache): it
//    reads K and V back and undoes the rotation.
//
// Thread-safety: a PoolLoadSink is called by the loader thread only; it writes
// pool slots that nothing else touches while the load runs (the request's
// loaded blocks, one layer ahead of the forward pass). ReadPreRopeKv is a pure
// read of the pool (engine thread).
#pragma once

#include <climits>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/rope.h"
#include "kv/kv_storage.h"
#include "store/loader.h"

namespace cellar {

// Where a stored chain's positions go in the request: position q of the chain
// lands at q when q < keep, nowhere when keep <= q < keep + shift (dropped by
// a truncation), and at q - shift after that. The identity by default.
struct PositionMap {
  int keep = INT_MAX;
  int shift = 0;
  int operator()(int q) const { return q < keep ? q : (q < keep + shift ? -1 : q - shift); }
  // The chain position that lands at p (the inverse, for p in the image).
  int Source(int p) const { return p < keep ? p : p + shift; }
};

class PoolLoadSink final : public LayerSink {
 public:
  struct Options {
    KvStorage* kv = nullptr;
    RopeParams rope;
    std::vector<int32_t> block_table;  // the request's blocks
    // Chain position of each loaded chunk's first token, in the load's chunk order.
    std::vector<int> chunk_first;
    int chunk_tokens = 0;
    PositionMap map;
    // Request positions to fill; stored tokens mapped outside are skipped.
    int begin = 0;
    int end = 0;
  };
  explicit PoolLoadSink(Options options);

  void OnLayer(int chunk_index, int layer, const uint8_t* k, const uint8_t* v) override;

 private:
  const Options o_;
  std::vector<float> cos_sin_;  // [end - begin][n_rot], filled at the first call
  std::vector<float> row_;      // [n_kv_heads * head_dim]
};

// K (rotation undone: the pre-RoPE key) and V of `layer` at positions
// [begin, end) as float rows [end - begin][n_kv_heads * head_dim].
void ReadPreRopeKv(const KvStorage& kv, const RopeParams& rope, int layer,
                   std::span<const int32_t> block_table, int begin, int end, float* k, float* v);

}  // namespace cellar
