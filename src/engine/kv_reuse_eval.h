// EvaluateKvReuse: the quality cost of reusing stored KV instead of computing
// it, measured with teacher forcing on a token stream T:
//
//   history  T[0, h)       its KV is computed once, captured exactly as the
//                          store saves it (pre-RoPE K and V, in chunks), passed
//                          through a codec (encode + decode) and loaded back —
//                          optionally truncated: T[keep, keep + drop) dropped
//                          and the rest loaded at positions moved down by drop
//                          (decoupled positions, RoPE applied at load);
//   scored   T[h, h + n)   fed after the history; each position's logits score
//                          the next token (T[h+1 .. h+n]).
//
// Three runs are compared:
//   full       the whole history computed, nothing dropped (the reference);
//   recompute  the truncated history computed from scratch (drop > 0 only);
//   reuse      the stored, decoded (and truncated) history loaded.
// Reported: perplexity of each over the scored tokens, top-1 agreement with
// the full run (the share of scored positions whose argmax equals the full
// run's) and the encoded size of the history relative to the raw layout.
//
// Used by `cellar eval-kv` (docs/STORE.md, "Quality") and its test.
// Thread-safety: one thread; the thread pool runs the forward passes.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "base/thread_pool.h"
#include "kv/kv_layout.h"
#include "model/model.h"
#include "store/kv_shape.h"

namespace cellar {

struct KvReuseEvalOptions {
  int n_history = 384;  // h: a multiple of chunk_tokens
  int n_scored = 128;   // n
  int n_keep = 4;       // truncation keeps T[0, keep)
  int n_drop = 0;       // and drops the next n_drop history tokens (0: no truncation)
  Codec codec = Codec::kRaw;
  int chunk_tokens = 64;
  KvType kv_type = KvType::kF16;
};

struct KvReuseEvalRun {
  double ppl = 0;
  double mean_nll = 0;
  double top1_agreement = 1;  // with the full run
};

struct KvReuseEvalResult {
  int n_scored = 0;
  KvReuseEvalRun full;
  KvReuseEvalRun recompute;  // equals `full` when nothing is dropped
  KvReuseEvalRun reuse;
  double encoded_bytes_ratio = 1;  // encoded history / raw history
};

// REQUIRES: tokens.size() >= n_history + n_scored + 1. INVALID_ARGUMENT for
// inconsistent options.
Result<KvReuseEvalResult> EvaluateKvReuse(const Model& model, ThreadPool* pool,
                                          std::span<const int32_t> tokens,
                                          const KvReuseEvalOptions& options);

}  // namespace cellar
