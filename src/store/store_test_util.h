// Test helpers for the store's tests (header-only; not part of the library):
// a tiny KV shape, the pool's chained hashes, deterministic chunk
// contents, and a conversation builder.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "base/hash.h"
#include "kv/block_hash.h"
#include "store/chunk.h"

namespace cellar::testing {

inline KvShape TinyShape(KvType type = KvType::kF32) { return KvShape{2, 1, 4, type}; }

// The pool's chained block hash (kv/block_hash.h) with block_size = chunk size:
// a chunk is named by the hash of its last block; with one block per chunk in
// these tests that is H(parent chunk, tokens, model, tenant).
inline Hash128 ChainHash(const Hash128& parent, const std::vector<int32_t>& tokens) {
  static const BlockHashContext ctx{Hash128{0x1234, 0x5678}, MakeTenantSalt("")};
  return HashBlock(parent, tokens, ctx);
}

// Value of element i of a chunk's raw data: a function of the chunk's hash, so
// data read back can be checked against the chunk it claims to be.
inline float ChunkValue(const Hash128& hash, size_t i) {
  return static_cast<float>(static_cast<int64_t>((hash.lo >> 8) % 1000) - 500) * 0.01f +
         static_cast<float>(i % 97) * 0.125f;
}

inline RawChunk MakeRawChunk(const KvShape& s, const Hash128& parent, uint32_t first_token,
                             const std::vector<int32_t>& tokens) {
  RawChunk c;
  c.meta.parent = parent;
  c.meta.first_token = first_token;
  c.meta.tokens = tokens;
  c.meta.hash = ChainHash(parent, tokens);
  c.data.resize(s.RawBytes(static_cast<int>(tokens.size())));
  const size_t n = c.data.size() / KvTypeBytes(s.type);
  for (size_t i = 0; i < n; ++i) {
    const float x = ChunkValue(c.meta.hash, i);
    if (s.type == KvType::kF32) {
      std::memcpy(c.data.data() + 4 * i, &x, 4);
    } else {
      const uint16_t h = FloatToFp16(x);
      std::memcpy(c.data.data() + 2 * i, &h, 2);
    }
  }
  return c;
}

// A conversation: tokens and its chunks (chunk_tokens each; a partial tail has no chunk).
struct Conversation {
  std::vector<int32_t> tokens;
  std::vector<RawChunk> chunks;
  std::vector<Hash128> hashes;
};

inline Conversation MakeConversation(const KvShape& s, int chunk_tokens, int n_chunks,
                                     int32_t token_base) {
  Conversation c;
  Hash128 parent;
  for (int i = 0; i < n_chunks; ++i) {
    std::vector<int32_t> t;
    for (int j = 0; j < chunk_tokens; ++j) t.push_back(token_base + i * chunk_tokens + j);
    c.tokens.insert(c.tokens.end(), t.begin(), t.end());
    c.chunks.push_back(MakeRawChunk(s, parent, static_cast<uint32_t>(i * chunk_tokens), t));
    parent = c.chunks.back().meta.hash;
    c.hashes.push_back(parent);
  }
  return c;
}

// Extends `c` with more chunks (a later turn of the same conversation).
inline void ExtendConversation(const KvShape& s, int chunk_tokens, int more, int32_t token_base,
                               Conversation* c) {
  for (int i = 0; i < more; ++i) {
    std::vector<int32_t> t;
    for (int j = 0; j < chunk_tokens; ++j) t.push_back(token_base + i * chunk_tokens + j);
    const Hash128 parent = c->hashes.empty() ? Hash128{} : c->hashes.back();
    c->tokens.insert(c->tokens.end(), t.begin(), t.end());
    c->chunks.push_back(MakeRawChunk(
        s, parent, static_cast<uint32_t>(c->hashes.size()) * static_cast<uint32_t>(chunk_tokens),
        t));
    c->hashes.push_back(c->chunks.back().meta.hash);
  }
}

}  // namespace cellar::testing
