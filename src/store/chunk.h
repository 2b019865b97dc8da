// Chunks: the unit the store keeps. A chunk is `chunk_tokens` consecutive tokens
// of a conversation (a multiple of the pool's block size), named by the pool's
// chained content hash of its last block — so the name covers every earlier
// token, the model fingerprint and the tenant salt.
//
// Stored KV is in the storage layout: keys BEFORE RoPE, layer-major (all of layer
// 0's K and V, then layer 1's, ...), and inside a layer K then V, each
// [n_kv_heads][n_tokens][head_dim] (the pool's tile order, so a block's slice of
// one head is contiguous).
//
// Plain values; thread-compatible. An EncodedChunk is immutable once built and
// shared between tiers, loaders and the saver through shared_ptr<const>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/hash.h"
#include "store/kv_shape.h"

namespace cellar {

struct ChunkMeta {
  Hash128 hash;                 // the pool's chained hash of the chunk's last block
  Hash128 parent;               // the previous chunk's hash; zero for a chain's first chunk
  uint32_t first_token = 0;     // tokens before this chunk in its chain
  std::vector<int32_t> tokens;  // the chunk's token ids
  int n_tokens() const { return static_cast<int>(tokens.size()); }
};

// The uncompressed KV of one chunk, raw layout (see above), in shape.type.
struct RawChunk {
  ChunkMeta meta;
  std::vector<uint8_t> data;  // shape.RawBytes(meta.n_tokens())

  uint8_t* K(const KvShape& s, int layer) {
    return data.data() + static_cast<size_t>(layer) * s.RawLayerBytes(meta.n_tokens());
  }
  uint8_t* V(const KvShape& s, int layer) {
    return K(s, layer) + s.HalfLayerBytes(meta.n_tokens());
  }
  const uint8_t* K(const KvShape& s, int layer) const {
    return data.data() + static_cast<size_t>(layer) * s.RawLayerBytes(meta.n_tokens());
  }
  const uint8_t* V(const KvShape& s, int layer) const {
    return K(s, layer) + s.HalfLayerBytes(meta.n_tokens());
  }
};

// A chunk in one codec: one independently decodable segment per layer.
struct EncodedChunk {
  ChunkMeta meta;
  Codec codec = Codec::kRaw;
  std::vector<std::vector<uint8_t>> layers;

  // Bytes the chunk occupies in a memory tier (segments + token ids).
  size_t Bytes() const {
    size_t b = meta.tokens.size() * sizeof(int32_t);
    for (const auto& l : layers) b += l.size();
    return b;
  }
};

using EncodedChunkPtr = std::shared_ptr<const EncodedChunk>;

}  // namespace cellar
