// StoreMetrics: the store's counters and gauges, as relaxed atomics that any
// thread bumps, and a plain snapshot the server exports. The list is an
// X-macro so that the atomics, the snapshot and the exporter's iteration
// (ForEach) never disagree.
//
// Tiers: "dram" and "disk". Token counts are tokens of whole chunks.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace cellar {

// X(name, kind, help): kind is counter (only grows) or gauge.
#define CELLAR_STORE_METRICS(X)                                                                \
  X(lookup_hit_tokens_dram, counter, "tokens of looked-up prefixes found in DRAM")             \
  X(lookup_hit_tokens_disk, counter, "tokens of looked-up prefixes found on disk")             \
  X(lookup_miss_tokens, counter, "tokens of looked-up full chunks not in the store")           \
  X(bytes_read_dram, counter, "bytes of encoded chunks loaded from DRAM")                      \
  X(bytes_read_disk, counter, "bytes read from chunk files")                                   \
  X(bytes_written_dram, counter, "bytes of encoded chunks placed in DRAM")                     \
  X(bytes_written_disk, counter, "bytes of chunk files written")                               \
  X(chunks_saved, counter, "chunks that entered the store")                                    \
  X(chunks_deduplicated, counter, "saves of a chunk the store already held")                   \
  X(demotions_dram, counter, "chunks moved DRAM -> disk")                                      \
  X(evictions_dram, counter, "chunks dropped from DRAM with no disk copy")                     \
  X(evictions_disk, counter, "chunk files dropped from disk to make room")                     \
  X(expired_chunks, counter, "chunks removed by the TTL")                                      \
  X(expired_sessions, counter, "sessions removed by the TTL")                                  \
  X(prefetch_issued, counter, "chunks promoted disk -> DRAM ahead of their request")           \
  X(prefetch_useful, counter, "prefetched chunks later hit in DRAM")                           \
  X(save_backlog_bytes, gauge, "raw bytes waiting in the write buffer")                        \
  X(save_backlog_chunks, gauge, "chunks waiting in the write buffer")                          \
  X(saves_dropped, counter, "pending saves dropped because the write buffer was full")         \
  X(saves_rejected, counter, "saves with no room in any tier (everything protected)")          \
  X(corrupt_chunks_removed, counter, "chunk files failing a check (CRC, size, header, model)") \
  X(missing_chunks_removed, counter, "indexed chunk files that had vanished")                  \
  X(disk_io_errors, counter, "failed disk operations (EIO and the like)")                      \
  X(disk_full_events, counter, "ENOSPC (or too little free space) while writing")              \
  X(disk_tier_disabled, gauge, "1 when the disk tier was turned off after errors")             \
  X(dram_used_bytes, gauge, "bytes held by the DRAM tier")                                     \
  X(disk_used_bytes, gauge, "bytes held by the disk tier")                                     \
  X(dram_capacity_bytes, gauge, "capacity of the DRAM tier")                                   \
  X(disk_capacity_bytes, gauge, "current capacity of the disk tier (shrinks on ENOSPC)")       \
  X(chunks_dram, gauge, "chunks in DRAM")                                                      \
  X(chunks_disk, gauge, "chunks on disk")                                                      \
  X(sessions, gauge, "sessions known to the store")                                            \
  X(loads_started, counter, "layer-wise loads started")                                        \
  X(loads_failed, counter, "loads that hit a bad or missing chunk (recomputed)")               \
  X(loads_recomputed, counter, "failed loads whose positions were recomputed during the step") \
  X(hit_tokens_dram, counter, "prompt tokens loaded from DRAM at admission")                   \
  X(hit_tokens_disk, counter, "prompt tokens loaded from disk at admission")                   \
  X(truncations, counter, "requests whose prompt was truncated to fit the context")            \
  X(dropped_tokens, counter, "prompt tokens dropped by truncation")                            \
  X(load_wait_ns, counter, "time compute spent waiting on layer loads")                        \
  X(decisions_load, counter, "requests whose stored prefix was loaded whole")                  \
  X(decisions_recompute, counter, "requests whose stored prefix was recomputed whole")         \
  X(decisions_split, counter, "requests that loaded a prefix part and recomputed the rest")    \
  X(decision_tokens_loaded, counter, "stored tokens the cost model chose to load")             \
  X(decision_tokens_recomputed, counter, "stored tokens the cost model chose to recompute")

struct StoreMetricsSnapshot {
#define CELLAR_STORE_METRIC_FIELD(name, kind, help) int64_t name = 0;
  CELLAR_STORE_METRICS(CELLAR_STORE_METRIC_FIELD)
#undef CELLAR_STORE_METRIC_FIELD

  // Calls fn(name, is_counter, help, value) for every metric.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
#define CELLAR_STORE_METRIC_VISIT(name, kind, help) \
  fn(std::string_view(#name), std::string_view(#kind) == "counter", std::string_view(help), name);
    CELLAR_STORE_METRICS(CELLAR_STORE_METRIC_VISIT)
#undef CELLAR_STORE_METRIC_VISIT
  }
};

// Thread-safe: every field is an atomic.
struct StoreMetrics {
#define CELLAR_STORE_METRIC_ATOMIC(name, kind, help) std::atomic<int64_t> name{0};
  CELLAR_STORE_METRICS(CELLAR_STORE_METRIC_ATOMIC)
#undef CELLAR_STORE_METRIC_ATOMIC

  StoreMetricsSnapshot Snapshot() const {
    StoreMetricsSnapshot s;
#define CELLAR_STORE_METRIC_LOAD(name, kind, help) s.name = name.load(std::memory_order_relaxed);
    CELLAR_STORE_METRICS(CELLAR_STORE_METRIC_LOAD)
#undef CELLAR_STORE_METRIC_LOAD
    return s;
  }
};

inline void Bump(std::atomic<int64_t>& c, int64_t d = 1) {
  c.fetch_add(d, std::memory_order_relaxed);
}
inline void SetGauge(std::atomic<int64_t>& g, int64_t v) { g.store(v, std::memory_order_relaxed); }

}  // namespace cellar
