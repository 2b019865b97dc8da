// BlockPool: the bookkeeping of the working KV pool's blocks (the bytes live in
// KvStorage). It knows, per block, its reference count and, for a full block
// whose KV has been computed, the block hash naming that KV (kv/block_hash.h).
//
// - A block with references belongs to one or more sequences (a shared prefix is
//   one physical block referenced by every sequence that starts with it).
// - A block without references is free. A free block keeps its hash, and stays
//   findable by LookupCached, until Allocate hands it out again and evicts the
//   hash. The free blocks are kept in eviction order by an EvictionPolicy (LRU by
//   default), so the free list doubles as the prefix cache's eviction order.
// - Running out of blocks is a normal outcome: Allocate returns nullopt and
//   changes nothing; the scheduler answers with waiting or preemption.
//
// An observer (the CachedAttention store) can be told when a block becomes
// cached and when a cached block is evicted.
//
// Owned by the KvCacheManager. Thread-safety: NOT thread-safe; only the engine
// thread calls it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/hash.h"
#include "base/status.h"
#include "kv/eviction_policy.h"
#include "kv/kv_types.h"

namespace cellar {

// Told about cache events; called on the engine thread, inside BlockPool calls,
// so it must be quick and must not call back into the pool.
class BlockPoolObserver {
 public:
  virtual ~BlockPoolObserver() = default;
  // Block `id` now holds the computed KV named `hash`.
  virtual void OnBlockCached(BlockId id, const Hash128& hash) = 0;
  // The KV named `hash` in block `id` is being dropped: the block is handed out
  // for new tokens.
  virtual void OnBlockEvicted(BlockId id, const Hash128& hash) = 0;
};

struct BlockPoolOptions {
  int n_blocks = 0;  // > 0
  EvictionPolicyKind eviction = EvictionPolicyKind::kLru;
  // Overrides `eviction` when set (a custom policy for blocks 0 .. n_blocks-1,
  // starting with all of them free).
  std::unique_ptr<EvictionPolicy> eviction_policy;
};

class BlockPool {
 public:
  // InvalidArgument if n_blocks <= 0 or a custom policy does not start with
  // n_blocks free blocks.
  static Result<std::unique_ptr<BlockPool>> Create(BlockPoolOptions options);

  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // Takes `n` free blocks in eviction order, evicting any hash they hold; each
  // gets reference count 1. nullopt (and nothing changes) if fewer than n are free.
  std::optional<std::vector<BlockId>> Allocate(int n);

  // The block holding the KV named `hash`, if any (in use or free).
  std::optional<BlockId> LookupCached(const Hash128& hash) const;

  // Adds one reference to each block (a prefix-cache hit). A free block leaves
  // the free list. REQUIRES: valid ids.
  void Touch(std::span<const BlockId> ids);

  // Drops one reference from each block, in the given order; a block whose count
  // reaches 0 joins the free list (in that order), keeping its hash.
  // REQUIRES: each block has a reference.
  void Release(std::span<const BlockId> ids);

  // Records that block `id` holds the computed KV named `hash`. Returns false, and
  // leaves the block uncached, if another block already holds that hash (two
  // sequences computed the same block; the first one stays the shared copy).
  // REQUIRES: RefCount(id) > 0 and the block holds no hash.
  bool CacheBlock(BlockId id, const Hash128& hash);

  int RefCount(BlockId id) const { return ref_[static_cast<size_t>(id)]; }
  // The hash a block holds, if any.
  std::optional<Hash128> BlockHash(BlockId id) const;

  int n_blocks() const { return static_cast<int>(ref_.size()); }
  // Blocks without references (cached or not): what Allocate can hand out.
  int n_free() const { return eviction_->size(); }
  // Blocks with at least one reference.
  int n_used() const { return n_blocks() - n_free(); }
  // Blocks holding a hash (in use or free).
  int n_cached() const { return static_cast<int>(cached_.size()); }
  // Free blocks holding a hash: the evictable prefix cache.
  int n_free_cached() const { return n_free_cached_; }
  // Cached hashes dropped by Allocate so far.
  uint64_t n_evicted() const { return n_evicted_; }
  // Free blocks in the order Allocate would take them.
  std::vector<BlockId> FreeOrder() const { return eviction_->Order(); }
  std::string_view eviction_policy_name() const { return eviction_->name(); }

  // Not owned; nullptr to stop. The observer must outlive the pool or be reset.
  void SetObserver(BlockPoolObserver* observer) { observer_ = observer; }

 private:
  BlockPool(int n_blocks, std::unique_ptr<EvictionPolicy> eviction);

  std::vector<int32_t> ref_;
  std::vector<bool> has_hash_;
  std::vector<Hash128> hash_;
  std::unordered_map<Hash128, BlockId, Hash128Hasher> cached_;
  std::unique_ptr<EvictionPolicy> eviction_;
  BlockPoolObserver* observer_ = nullptr;
  int n_free_cached_ = 0;
  uint64_t n_evicted_ = 0;
};

}  // namespace cellar
