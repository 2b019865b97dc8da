// EvictionPolicy: the order in which the pool's free blocks are handed out again.
//
// A block whose reference count drops to zero is "free" but keeps its cached hash
// (if it has one) until it is handed out again, so it can still be reused by a
// later request with the same prefix. The policy keeps the free blocks in
// eviction order: Allocate takes the next victim, and a cache hit on a free block
// takes that block out of the free set. So the free list doubles as the eviction
// order (the vLLM v1 scheme), and choosing a policy chooses which cached prefixes
// survive longest.
//
//   kLru           one list: freed blocks go to the tail, victims come from the
//                  head. The default.
//   kUncachedFirst two LRU lists: blocks without a hash (never filled, or a
//                  partial tail block) are handed out before any cached block,
//                  so allocation never evicts cached KV while empty blocks exist.
//
// Thread-safety: none; owned by the BlockPool (engine thread).
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "kv/kv_types.h"

namespace cellar {

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual std::string_view name() const = 0;

  // Block `id` became free (reference count 0). `cached`: it holds a hash.
  // REQUIRES: id not free already.
  virtual void OnFree(BlockId id, bool cached) = 0;
  // Free block `id` was taken back by a cache hit. REQUIRES: id is free.
  virtual void OnReuse(BlockId id) = 0;
  // Removes and returns the next block to hand out; nullopt when none is free.
  virtual std::optional<BlockId> PopVictim() = 0;
  // Number of free blocks.
  virtual int size() const = 0;
  // Free blocks in the order PopVictim would return them (tests, stats).
  virtual std::vector<BlockId> Order() const = 0;
};

enum class EvictionPolicyKind { kLru, kUncachedFirst };

// A policy for blocks 0 .. n_blocks-1, starting with every block free and
// uncached, in id order (so the first allocation gets block 0, then 1, ...).
std::unique_ptr<EvictionPolicy> MakeEvictionPolicy(EvictionPolicyKind kind, int n_blocks);

}  // namespace cellar
