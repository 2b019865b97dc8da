// CostModel: decides per request whether loading a stored prefix beats
// recomputing it, from measured tier bandwidths (bytes/s of encoded chunk data,
// an EWMA over real transfers) and the measured prefill speed (tokens/s,
// reported by the engine).
//
// Rule (docs/STORE.md): the stored prefix is chunks 0..N-1 in order. Loading is
// overlapped with computing layer by layer, so a plan that loads the first k
// chunks and recomputes the rest (plus the new tokens) takes
//   T(k) = max(L_k, C_k) + min(L_k, C_k) / n_layers
//   L_k  = sum_{i<k} bytes_i / bandwidth(tier_i)
//   C_k  = (tokens of chunks k..N-1 + new tokens) / prefill_tokens_per_s
// (the second term is the part of the shorter stream that cannot hide behind
// the longer one: one layer's worth). The model picks the k in [0, N] with the
// smallest T(k), the largest k on ties. Only "load a head, recompute the tail"
// splits exist: the forward pass computes a contiguous run of positions after
// the cached ones, so a recomputed head followed by a loaded tail would need a
// non-contiguous prefill.
//
// Thread-safety: all methods are thread-safe (the loader reports bandwidths
// from its thread while the engine thread decides).
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

#include "store/store_metrics.h"
#include "store/tiered_store.h"

namespace cellar {

class CostModel {
 public:
  struct Options {
    double dram_bytes_per_s = 4e9;  // starting guesses, replaced by measurements
    double disk_bytes_per_s = 1e9;
    double prefill_tokens_per_s = 200;
    double ewma_alpha = 0.25;  // weight of a new measurement
  };
  struct Decision {
    enum class Kind { kLoadAll, kRecomputeAll, kSplit };
    Kind kind = Kind::kRecomputeAll;
    int load_chunks = 0;  // load chunks [0, load_chunks)
    int load_tokens = 0;
    int recompute_tokens = 0;  // stored tokens recomputed instead
    double est_seconds = 0;    // T(k) of the choice
    double est_load_all_seconds = 0;
    double est_recompute_all_seconds = 0;
  };

  explicit CostModel(const Options& options) : options_(options) {
    bw_[0] = options.dram_bytes_per_s;
    bw_[1] = options.disk_bytes_per_s;
    prefill_ = options.prefill_tokens_per_s;
  }

  // A finished transfer of `bytes` encoded bytes from `tier` that took `seconds`.
  void ObserveTransfer(Tier tier, uint64_t bytes, double seconds);
  // A prefill of n_tokens that took `seconds` (from the engine).
  void ObservePrefill(int n_tokens, double seconds);

  double bandwidth(Tier tier) const;
  double prefill_tokens_per_s() const;

  Decision Decide(std::span<const TieredStore::MatchedChunk> prefix, int n_new_tokens,
                  int n_layers) const;
  // Counts a decision in the metrics.
  static void Count(const Decision& d, StoreMetrics* metrics);

 private:
  const Options options_;
  mutable std::mutex mu_;
  double bw_[2];    // GUARDED_BY(mu_)
  double prefill_;  // GUARDED_BY(mu_)
};

}  // namespace cellar
