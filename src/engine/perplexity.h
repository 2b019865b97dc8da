// Perplexity of a model over a token stream, computed as llama.cpp's
// `llama-perplexity` does: the tokens are cut into chunks of n_ctx; each chunk
// is evaluated from an empty cache (its first token replaced by BOS when the
// model adds one), and the second half of each chunk is scored — position j
// predicts token j + 1 for j in [n_ctx/2, n_ctx - 1). PPL = exp(mean NLL); its
// error is the standard error of the mean NLL times PPL.
//
// NllAccumulator is the reusable core (later work scores reused or truncated
// caches with it); ComputePerplexity is the chunked evaluation on a LocalSession.
// Thread-safety: single-threaded objects/functions (the session runs the pool).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/status.h"
#include "engine/local_session.h"

namespace cellar {

class NllAccumulator {
 public:
  // Adds -log softmax(logits)[target] (log-sum-exp in double).
  void Add(std::span<const float> logits, int32_t target);

  int64_t count() const { return count_; }
  double mean_nll() const { return mean_; }
  double perplexity() const;
  // Standard error of the perplexity estimate (0 with fewer than 2 samples).
  double perplexity_error() const;

 private:
  double mean_ = 0.0;
  double m2_ = 0.0;  // sum of squared deviations from the mean
  int64_t count_ = 0;
};

struct PerplexityOptions {
  int32_t n_ctx = 512;      // tokens per chunk; the session's n_ctx must be >= this
  int32_t max_chunks = -1;  // < 0: every whole chunk
  int32_t bos_token = -1;   // >= 0: replaces the first token of each chunk
};

struct PerplexityChunk {
  int32_t index = 0;  // 0-based
  int32_t n_chunks = 0;
  double running_ppl = 0.0;  // over all chunks so far
};

struct PerplexityResult {
  double ppl = 0.0;
  double ppl_error = 0.0;
  double mean_nll = 0.0;
  int64_t n_scored = 0;
  int32_t n_chunks = 0;
};

// INVALID_ARGUMENT when `tokens` has fewer than 2 * n_ctx tokens (as llama.cpp
// requires) or the session's context is smaller than n_ctx.
Result<PerplexityResult> ComputePerplexity(
    LocalSession& session, std::span<const int32_t> tokens, const PerplexityOptions& options,
    const std::function<void(const PerplexityChunk&)>& on_chunk = {});

}  // namespace cellar
