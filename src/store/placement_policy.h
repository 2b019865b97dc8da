// Placement policies (AttentionStore §3.3): which chunks leave DRAM for disk
// first (demotion), which are dropped from disk first (eviction), how many
// queued sessions are prefetched disk -> DRAM and how many are protected from
// being dropped. Small objects chosen once (--store-policy), so scheduler-aware,
// LRU and FIFO can be compared on the same run.
//
// Policies reason per session: the scheduler hands the store the ordered list
// of queued requests' session ids; a chunk's queue position is the position of
// the first queued session whose chain holds it (shared prefixes take their
// best position). The store computes the window sizes' inputs, builds
// PolicyChunk views, filters out what may not move (pinned, protected) and sorts
// with the policy's order.
//
// Thread-safety: policies are immutable; any thread may call them.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "base/hash.h"
#include "base/status.h"

namespace cellar {

enum class PolicyKind : uint8_t { kScheduler = 0, kLru = 1, kFifo = 2 };
std::string_view PolicyKindName(PolicyKind k);  // "scheduler", "lru", "fifo"
Result<PolicyKind> ParsePolicyKind(std::string_view name);

// A chunk as a policy sees it.
struct PolicyChunk {
  Hash128 hash;
  uint64_t bytes = 0;          // in the tier being considered
  int64_t last_access_ns = 0;  // last lookup or save
  int64_t stored_ns = 0;       // when it entered the store
  int queue_pos = -1;          // -1: no queued session holds it
  int chain_index = 0;         // its index in that session's chain
  // The working pool still holds its KV (the block its hash names is cached
  // there): a returning turn is served by the pool, not by this copy.
  bool in_pool = false;
  bool queued() const { return queue_pos >= 0; }
};

// What the window formulas need.
struct WindowInputs {
  uint64_t dram_capacity = 0;
  uint64_t disk_capacity = 0;
  uint64_t dram_watermark = 0;   // DRAM bytes kept free for saves
  double avg_session_bytes = 0;  // mean stored bytes of a session's chain (0: no sessions)
  int queue_length = 0;
};

class PlacementPolicy {
 public:
  virtual ~PlacementPolicy() = default;
  virtual PolicyKind kind() const = 0;
  // Queued sessions, counted from the head, whose chunks are prefetched to DRAM.
  virtual int PrefetchWindow(const WindowInputs& in) const = 0;
  // Queued sessions, counted from the head, whose chunks are never dropped
  // from the store (only demoted).
  virtual int EvictionWindow(const WindowInputs& in) const = 0;
  // Strict weak orders: true when `a` leaves DRAM before `b` / is dropped from
  // disk before `b`.
  virtual bool DemoteBefore(const PolicyChunk& a, const PolicyChunk& b) const = 0;
  virtual bool EvictBefore(const PolicyChunk& a, const PolicyChunk& b) const = 0;
  // A chunk being saved when DRAM is full: true when it may push out only the
  // chunks DemoteBefore puts ahead of it (else it is written straight to
  // disk); false when it may push out any (a save is the newest use).
  virtual bool RanksSave(const PolicyChunk& /*newcomer*/) const { return false; }
  // Whether chunks the working pool has lost are read back from disk into DRAM
  // (after the queued sessions' prefetch) when they rank above what DRAM holds:
  // DRAM then keeps what the pool does not, a victim cache of the pool.
  // Both default to false: a policy that ignores the pool (lru, fifo).
  virtual bool PromotesPoolVictims() const { return false; }
};

std::unique_ptr<PlacementPolicy> MakePlacementPolicy(PolicyKind kind);

}  // namespace cellar
