// Block hashes: the identity of the KV held by one FULL block of tokens.
//
// KV depends on every earlier token, so a block is named by a chained hash:
//   hash(block i) = H(hash(block i-1), token ids of block i, model fingerprint, tenant salt)
// with the all-zero hash as the parent of block 0. Two sequences that start with
// the same tokens (a shared system prompt, a conversation's previous turn) get the
// same hashes for their common full blocks, and those blocks' KV can be shared.
//
// The hash is a plain XXH3-128 (seed 0, never seeded per process) over a fixed
// little-endian byte layout, so the same hashes name the same KV in the working
// pool, on disk and on other servers. The CachedAttention store keys its chunks
// by these hashes: CHANGING THE LAYOUT BELOW CHANGES EVERY STORED CHUNK'S NAME;
// bump the version tag when doing so. Layout, version 1 (all integers
// little-endian, 60 + 4*n bytes):
//
//   offset  size  field
//   0       8     ASCII "CLKVBH01" (domain tag + layout version)
//   8       8     parent hash, low 64 bits  (0 for the first block)
//   16      8     parent hash, high 64 bits (0 for the first block)
//   24      8     model fingerprint, low 64 bits
//   32      8     model fingerprint, high 64 bits
//   40      8     tenant salt, low 64 bits
//   48      8     tenant salt, high 64 bits
//   56      4     n = number of tokens in the block (uint32; the block size)
//   60      4*n   token ids (int32 each), in order
//
// The result is XXH3_128bits(bytes) as Hash128{lo = low64, hi = high64}.
//
// Tenants: the salt is derived from the server's authentication (API key or a
// configured tenant name), never from a client field, so one tenant's hashes can
// never match another's: no tier can serve one tenant's KV (or its hit timing) to
// another. MakeTenantSalt() gives the canonical derivation.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "base/hash.h"
#include "kv/kv_types.h"

namespace cellar {

// The parent of the first block of every sequence.
inline constexpr Hash128 kRootBlockHash{};

// What, besides the tokens, the KV of a block depends on.
struct BlockHashContext {
  Hash128 model_fingerprint;  // identifies the model weights (and anything else
                              // that changes the KV, e.g. the RoPE settings)
  Hash128 tenant_salt;        // see MakeTenantSalt
};

// The hash of one block: `tokens` are the block's token ids (any count; the pool
// only hashes full blocks), `parent` the previous block's hash or kRootBlockHash.
Hash128 HashBlock(const Hash128& parent, std::span<const TokenId> tokens,
                  const BlockHashContext& ctx);

// Appends to `hashes` the chained hashes of the full blocks of `tokens` that it
// does not hold yet: on return, hashes->size() == tokens.size() / block_size.
// `hashes` must hold the hashes of the first hashes->size() blocks of `tokens`
// (e.g. from an earlier call on a shorter prefix of the same tokens).
// REQUIRES: block_size > 0.
void ExtendBlockHashes(std::span<const TokenId> tokens, int block_size, const BlockHashContext& ctx,
                       std::vector<Hash128>* hashes);

// The chained hashes of all full blocks of `tokens`.
std::vector<Hash128> HashFullBlocks(std::span<const TokenId> tokens, int block_size,
                                    const BlockHashContext& ctx);

// The tenant salt for a tenant name or API-key identity: XXH3-128 (seed 0) of the
// ASCII tag "CLTENANT01" followed by the bytes of `tenant`. The empty name is the
// single local tenant of an unauthenticated server.
Hash128 MakeTenantSalt(std::string_view tenant);

}  // namespace cellar
