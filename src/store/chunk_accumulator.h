// ChunkAccumulator: gathers one sequence's new K (before RoPE) and V as the
// forward pass produces them — layer by layer, a few tokens per step (chunked
// prefill, then one token per decode step) — and cuts them into full chunks in
// the store's raw layout. Tokens may arrive in any order of steps as long as
// every (layer, position) arrives once; a chunk is complete when all its
// positions of all layers are in.
//
// Input rows are float32 [n_tokens][n_kv_heads][head_dim] (the forward pass's
// activation layout); they are converted to the store's KV type and head-major
// layout.
//
// Owned by one request; not thread-safe (the engine thread feeds it).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "store/chunk.h"
#include "store/kv_shape.h"

namespace cellar {

class ChunkAccumulator {
 public:
  // Collects positions from `first_position` on, which must be a multiple of
  // chunk_tokens (the start of the first chunk to save).
  ChunkAccumulator(const KvShape& shape, int chunk_tokens, int first_position);

  // K and V of `layer` for positions [pos, pos + n). Positions before
  // first_position are ignored.
  void Append(int layer, int pos, int n, const float* k, const float* v);

  // Chunks whose every position and layer has arrived, in order, removed from
  // the accumulator. Only data and meta.first_token are filled; the caller sets
  // hash, parent and tokens.
  std::vector<RawChunk> TakeComplete();

  int chunk_tokens() const { return chunk_tokens_; }

 private:
  struct Building {
    RawChunk chunk;
    std::vector<int> filled;  // per layer: positions received
  };
  Building& ChunkAt(int index);

  const KvShape shape_;
  const int chunk_tokens_;
  const int first_position_;
  std::map<int, Building> building_;  // chunk index -> partial chunk
  int next_chunk_ = 0;                // first chunk index not yet taken
};

}  // namespace cellar
