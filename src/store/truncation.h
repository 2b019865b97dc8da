// Truncation planning with decoupled positions. When a conversation's prompt
// (history + new input) plus max_tokens exceeds the context window, the first
// n_keep tokens (the system prompt) and the most recent tokens are kept and a
// middle run is dropped. Stored keys carry no position (they are kept before
// RoPE), so the kept history is reused at NEW positions — RoPE is applied for
// the position each token takes now, at load — and nothing kept is recomputed.
// (The kept tokens' KV was computed while the dropped ones were in context, so
// truncated reuse approximates a fresh prefill of the truncated prompt; its
// quality cost is measured, see docs/STORE.md.)
//
// PlanTruncation is a pure function: which prompt tokens are dropped, which
// kept ranges come from the store and at which positions, which are computed.
#pragma once

#include <vector>

#include "base/status.h"

namespace cellar {

struct TruncationInput {
  int n_prompt = 0;    // tokens of the whole prompt (history + new input)
  int n_cached = 0;    // leading prompt tokens whose KV the store holds (<= n_prompt)
  int max_tokens = 0;  // tokens to be generated
  int n_ctx = 0;       // the context window
  int n_keep = 0;      // leading tokens always kept (the system prompt)
  // The dropped count is rounded up to a multiple of this (e.g. the chunk size,
  // or a larger step), so that a long conversation truncates once per drop_align
  // tokens of growth, not every turn.
  int drop_align = 1;
};

// Prompt tokens [src_begin, src_end) placed at positions [dst_begin, dst_begin + size).
struct KeptRange {
  int src_begin = 0;
  int src_end = 0;
  int dst_begin = 0;
  int size() const { return src_end - src_begin; }
  friend bool operator==(const KeptRange&, const KeptRange&) = default;
};

struct TruncationPlan {
  bool truncated = false;
  int drop_begin = 0;  // dropped prompt tokens [drop_begin, drop_end)
  int drop_end = 0;
  int n_dropped() const { return drop_end - drop_begin; }
  // Stored KV to load, in order; they fill positions [0, n_loaded).
  std::vector<KeptRange> load;
  int n_loaded = 0;
  // Prompt tokens to compute, in order; they fill positions [n_loaded, n_positions).
  std::vector<KeptRange> compute;
  int n_positions = 0;  // positions the prompt occupies; generation starts here
};

// kInvalidArgument for inconsistent input; kOutOfRange when the prompt cannot
// fit even with everything but n_keep and the last prompt token dropped.
Result<TruncationPlan> PlanTruncation(const TruncationInput& in);

}  // namespace cellar
