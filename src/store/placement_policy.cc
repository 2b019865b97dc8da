#include "store/placement_policy.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

namespace cellar {

std::string_view PolicyKindName(PolicyKind k) {
  switch (k) {
    case PolicyKind::kScheduler:
      return "scheduler";
    case PolicyKind::kLru:
      return "lru";
    case PolicyKind::kFifo:
      return "fifo";
  }
  return "?";
}

Result<PolicyKind> ParsePolicyKind(std::string_view name) {
  for (PolicyKind k : {PolicyKind::kScheduler, PolicyKind::kLru, PolicyKind::kFifo}) {
    if (name == PolicyKindName(k)) return k;
  }
  return InvalidArgument("unknown store policy '" + std::string(name) + "' (scheduler, lru, fifo)");
}

namespace {

bool HashBefore(const Hash128& a, const Hash128& b) {
  return std::tie(a.hi, a.lo) < std::tie(b.hi, b.lo);
}

// Older last access first; ties by store time, then hash.
bool LruBefore(const PolicyChunk& a, const PolicyChunk& b) {
  if (a.last_access_ns != b.last_access_ns) return a.last_access_ns < b.last_access_ns;
  if (a.stored_ns != b.stored_ns) return a.stored_ns < b.stored_ns;
  return HashBefore(a.hash, b.hash);
}

// Scheduler-aware: chunks no queued session holds go first (least recently used
// first); then queued chunks from the session farthest from the queue head, and
// inside a session from the end of its chain (a load needs the chain's start
// first).
bool SchedulerBefore(const PolicyChunk& a, const PolicyChunk& b) {
  if (a.queued() != b.queued()) return !a.queued();
  if (!a.queued()) return LruBefore(a, b);
  if (a.queue_pos != b.queue_pos) return a.queue_pos > b.queue_pos;
  if (a.chain_index != b.chain_index) return a.chain_index > b.chain_index;
  return HashBefore(a.hash, b.hash);
}

// Demotion, scheduler-aware: DRAM and the working pool are kept exclusive, as
// AttentionStore keeps host memory for what HBM does not hold. A DRAM copy whose
// KV the pool still holds is read only after the pool loses it, so those go
// first — the most recently used first, since the pool (LRU) keeps them longest
// — unless a queued session needs them. Then SchedulerBefore's order (the
// others least recently used first, then queued ones from the back of the
// queue). Disk eviction does not look at the pool: a dropped chunk is gone once
// the pool loses it.
bool SchedulerDemoteBefore(const PolicyChunk& a, const PolicyChunk& b) {
  const bool a_pool = a.in_pool && !a.queued();
  const bool b_pool = b.in_pool && !b.queued();
  if (a_pool != b_pool) return a_pool;
  if (!a_pool) return SchedulerBefore(a, b);
  if (a.last_access_ns != b.last_access_ns) return a.last_access_ns > b.last_access_ns;
  if (a.stored_ns != b.stored_ns) return a.stored_ns > b.stored_ns;
  return HashBefore(a.hash, b.hash);
}

int Window(double room, double avg, int queue_length) {
  if (avg <= 0.0) return queue_length;  // nothing stored per session yet: no limit
  const double w = std::floor(room / avg);
  return static_cast<int>(std::clamp(w, 0.0, static_cast<double>(queue_length)));
}

class SchedulerPolicy final : public PlacementPolicy {
 public:
  PolicyKind kind() const override { return PolicyKind::kScheduler; }
  int PrefetchWindow(const WindowInputs& in) const override {
    const double room = in.dram_capacity > in.dram_watermark
                            ? static_cast<double>(in.dram_capacity - in.dram_watermark)
                            : 0.0;
    return Window(room, in.avg_session_bytes, in.queue_length);
  }
  int EvictionWindow(const WindowInputs& in) const override {
    return Window(static_cast<double>(in.dram_capacity) + static_cast<double>(in.disk_capacity),
                  in.avg_session_bytes, in.queue_length);
  }
  bool DemoteBefore(const PolicyChunk& a, const PolicyChunk& b) const override {
    return SchedulerDemoteBefore(a, b);
  }
  bool EvictBefore(const PolicyChunk& a, const PolicyChunk& b) const override {
    return SchedulerBefore(a, b);
  }
  // A save the pool still holds must not push out a chunk the pool has lost.
  bool RanksSave(const PolicyChunk& newcomer) const override { return newcomer.in_pool; }
  bool PromotesPoolVictims() const override { return true; }
};

class LruPolicy final : public PlacementPolicy {
 public:
  PolicyKind kind() const override { return PolicyKind::kLru; }
  int PrefetchWindow(const WindowInputs&) const override { return 0; }
  int EvictionWindow(const WindowInputs&) const override { return 0; }
  bool DemoteBefore(const PolicyChunk& a, const PolicyChunk& b) const override {
    return LruBefore(a, b);
  }
  bool EvictBefore(const PolicyChunk& a, const PolicyChunk& b) const override {
    return LruBefore(a, b);
  }
};

// First in, first out by the time a chunk entered the store.
class FifoPolicy final : public PlacementPolicy {
 public:
  PolicyKind kind() const override { return PolicyKind::kFifo; }
  int PrefetchWindow(const WindowInputs&) const override { return 0; }
  int EvictionWindow(const WindowInputs&) const override { return 0; }
  bool DemoteBefore(const PolicyChunk& a, const PolicyChunk& b) const override {
    return Before(a, b);
  }
  bool EvictBefore(const PolicyChunk& a, const PolicyChunk& b) const override {
    return Before(a, b);
  }

 private:
  static bool Before(const PolicyChunk& a, const PolicyChunk& b) {
    if (a.stored_ns != b.stored_ns) return a.stored_ns < b.stored_ns;
    return HashBefore(a.hash, b.hash);
  }
};

}  // namespace

std::unique_ptr<PlacementPolicy> MakePlacementPolicy(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kScheduler:
      return std::make_unique<SchedulerPolicy>();
    case PolicyKind::kLru:
      return std::make_unique<LruPolicy>();
    case PolicyKind::kFifo:
      return std::make_unique<FifoPolicy>();
  }
  return std::make_unique<LruPolicy>();
}

}  // namespace cellar
