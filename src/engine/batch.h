// Batch: the work of one forward step — several sequences, each with its new
// tokens, in one pass over the weights.
//
// Each entry says which sequence (seq_id, for hooks), its new tokens, the
// position of the first one (the KV of positions [0, start_pos) is already in
// the pool), the block table through which its KV is read and written (it must
// cover [0, start_pos + tokens.size())), and how many of its last tokens need
// logits. Prefill of a long prompt, decode of one token and chunked prefill are
// all just entries; the serving loop mixes them in one Batch.
//
// The spans are views; the caller keeps what they point to alive during Step().
// Plain values; not thread-safe to mutate while a step runs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cellar {

struct BatchEntry {
  int64_t seq_id = 0;                    // the caller's id for the sequence (passed to hooks)
  std::span<const int32_t> tokens;       // new tokens; non-empty
  int32_t start_pos = 0;                 // position of tokens[0]
  std::span<const int32_t> block_table;  // pool block ids, in position order
  int32_t n_logits = 1;  // logits for the last n_logits tokens (0: none, size(): all)
};

struct Batch {
  std::vector<BatchEntry> entries;

  int64_t n_tokens() const {
    int64_t n = 0;
    for (const auto& e : entries) n += static_cast<int64_t>(e.tokens.size());
    return n;
  }
};

}  // namespace cellar
