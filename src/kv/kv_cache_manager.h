// KvCacheManager: the per-request view of the working KV pool. It keeps each
// request's block table (the pool blocks holding its tokens' KV, in order) and
// the chained hashes of its full blocks, and it answers the scheduler's three
// questions:
//
//   GetComputedBlocks  which prefix of this request's tokens is already in the pool
//                      (longest run of cached full blocks, same tenant salt)?
//   AllocateSlots      can the request get slots for n more tokens? (false: no
//                      room; nothing changed; the scheduler waits or preempts)
//   Free               the request is done or preempted; its blocks go back.
//
// and, after each forward step, CacheFullBlocks names the blocks that just
// became full so later requests can share them.
//
// Only full blocks are shared. Blocks freed by Free() stay cached (evictable, see
// BlockPool) and go to the free list in reverse order, so a sequence's tail
// blocks are evicted before its head (a shared head is worth more).
//
// A request whose every token is cached still computes its last token (the
// forward pass needs it to produce logits): GetComputedBlocks never returns a
// prefix covering all tokens, so when the prompt is a whole number of blocks the
// last block is recomputed into a fresh block (the cached copy is left alone).
//
// Owned by the engine (through the scheduler). Thread-safety: NOT thread-safe;
// only the engine thread calls it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "kv/block_hash.h"
#include "kv/block_pool.h"
#include "kv/kv_types.h"

namespace cellar {

struct KvCacheManagerOptions {
  int n_blocks = 0;           // KvLayout::BlocksForBytes(--kv-mem); > 0
  int block_size = 16;        // tokens per block; > 0
  Hash128 model_fingerprint;  // enters every block hash
  bool enable_prefix_caching = true;
  EvictionPolicyKind eviction = EvictionPolicyKind::kLru;
};

// What the manager needs to know about one request: a view of data the
// scheduler owns, valid for the duration of one call.
struct KvRequest {
  RequestId id = 0;
  Hash128 tenant_salt;              // the same on every call for one id
  std::span<const TokenId> tokens;  // every token known so far (prompt + output)
  int n_computed_tokens = 0;        // leading tokens whose KV is in the pool
};

// A cached prefix found by GetComputedBlocks.
struct CachedPrefix {
  std::vector<BlockId> blocks;  // pool blocks, in order
  std::vector<Hash128> hashes;  // their hashes (the chain), same length
  int n_tokens = 0;             // blocks.size() * block_size
};

struct KvCacheStats {
  int n_blocks = 0;
  int n_used_blocks = 0;          // referenced by a live request
  int n_free_blocks = 0;          // unreferenced (includes n_free_cached_blocks)
  int n_cached_blocks = 0;        // holding a hash, in use or free
  int n_free_cached_blocks = 0;   // unreferenced but still reusable
  int n_sequences = 0;            // requests holding blocks
  uint64_t n_query_tokens = 0;    // prompt tokens of admitted requests
  uint64_t n_hit_tokens = 0;      // of those, served by the prefix cache
  uint64_t n_evicted_blocks = 0;  // cached blocks handed out for new KV
  uint64_t n_miss_tokens() const { return n_query_tokens - n_hit_tokens; }
};

class KvCacheManager {
 public:
  // InvalidArgument on a non-positive block count or block size.
  static Result<std::unique_ptr<KvCacheManager>> Create(const KvCacheManagerOptions& options);

  KvCacheManager(const KvCacheManager&) = delete;
  KvCacheManager& operator=(const KvCacheManager&) = delete;

  int block_size() const { return block_size_; }
  int n_blocks() const { return pool_->n_blocks(); }
  // The most tokens one sequence can ever hold.
  int64_t token_capacity() const {
    return static_cast<int64_t>(n_blocks()) * static_cast<int64_t>(block_size_);
  }
  const Hash128& model_fingerprint() const { return model_fingerprint_; }
  bool prefix_caching_enabled() const { return enable_prefix_caching_; }

  // The longest prefix of r.tokens held by cached full blocks under
  // r.tenant_salt, never covering the last token (at most tokens.size()-1
  // tokens, rounded down to whole blocks). Takes no references: pass the result
  // to AllocateSlots right away. Empty when prefix caching is off.
  // REQUIRES: r.id holds no blocks (a new or preempted request).
  CachedPrefix GetComputedBlocks(const KvRequest& r) const;

  // Makes r.id's block table cover r.n_computed_tokens + new_computed.n_tokens +
  // n_new_tokens tokens, first adopting `new_computed` (from GetComputedBlocks;
  // its tokens count as computed) and then taking fresh blocks as needed.
  // Returns false, changing nothing, when the pool has too few free blocks (a
  // free cached block adopted as a prefix counts against the free blocks).
  // REQUIRES: new_computed is empty unless r.id holds no blocks and
  // r.n_computed_tokens == 0.
  [[nodiscard]] bool AllocateSlots(const KvRequest& r, int n_new_tokens,
                                   const CachedPrefix& new_computed = {});

  // Names (caches) every full block among r's first r.n_computed_tokens tokens
  // that is not cached yet. Call after the forward step that computed them.
  void CacheFullBlocks(const KvRequest& r);

  // Releases r.id's blocks (last block first) and forgets the request. No-op for
  // an unknown id.
  void Free(RequestId id);

  // r.id's block table (empty for an unknown id). Valid until the next
  // AllocateSlots or Free for that id.
  std::span<const BlockId> BlockTable(RequestId id) const;
  // The hashes of r.id's cached (committed) full blocks, in order.
  std::span<const Hash128> BlockHashes(RequestId id) const;
  bool HasBlocks(RequestId id) const { return seqs_.count(id) != 0; }

  KvCacheStats stats() const;
  BlockPool& pool() { return *pool_; }
  const BlockPool& pool() const { return *pool_; }

 private:
  struct Sequence {
    Hash128 tenant_salt;
    std::vector<BlockId> blocks;
    std::vector<Hash128> hashes;  // chained hashes of the first n_committed blocks
    int n_committed = 0;          // leading blocks whose hashes were cached
  };

  KvCacheManager(const KvCacheManagerOptions& options, std::unique_ptr<BlockPool> pool);
  int BlocksFor(int64_t n_tokens) const {
    return static_cast<int>((n_tokens + block_size_ - 1) / block_size_);
  }

  std::unique_ptr<BlockPool> pool_;
  int block_size_;
  Hash128 model_fingerprint_;
  bool enable_prefix_caching_;
  std::unordered_map<RequestId, Sequence> seqs_;
  uint64_t n_query_tokens_ = 0;
  uint64_t n_hit_tokens_ = 0;
};

}  // namespace cellar
