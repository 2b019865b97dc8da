// Sampler: turns one position's logits into the next token id.
//
// The chain, in order (the order llama.cpp's default sampler uses):
//   1. penalties over the window of the last `penalty_last_n` accepted tokens:
//      repetition (logit > 0 ? logit / p : logit * p), then
//      logit -= count * frequency_penalty + (count > 0) * presence_penalty;
//   2. temperature <= 0: greedy, the argmax (ties -> lowest id). Otherwise:
//   3. top-k (k largest; ties -> lower id first), 4. top-p (smallest prefix of the
//      sorted candidates whose probability reaches p), 5. min-p (drop tokens whose
//      probability is below min_p * the top probability), 6. temperature, then a
//      draw from the softmax with the sampler's own RNG (mt19937_64 seeded by
//      `seed`, so a run is reproducible on any platform).
// Every filter keeps at least one token.
//
// Ownership: one Sampler per sequence being generated; it keeps its RNG state
// and the penalty window. Thread-safety: not thread-safe; one thread uses it.
// Sample() allocates nothing after Create().
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "base/status.h"

namespace cellar {

struct SamplingParams {
  float temperature = 0.0f;     // <= 0: greedy
  int32_t top_k = 0;            // <= 0: off
  float top_p = 1.0f;           // >= 1: off; must be in (0, 1]
  float min_p = 0.0f;           // <= 0: off; must be in [0, 1]
  float repeat_penalty = 1.0f;  // 1: off; must be > 0
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  int32_t penalty_last_n = 64;  // window of recent tokens the penalties count; 0: off
  uint64_t seed = 0;
};

// OK, or INVALID_ARGUMENT naming the first bad field.
Status ValidateSamplingParams(const SamplingParams& params);

class Sampler {
 public:
  static Result<std::unique_ptr<Sampler>> Create(const SamplingParams& params, int32_t n_vocab);

  const SamplingParams& params() const { return params_; }

  // Picks a token from `logits` (n_vocab values). Does not record it: call
  // Accept() with the token that is actually emitted.
  // REQUIRES: logits.size() == n_vocab.
  int32_t Sample(std::span<const float> logits);

  // Adds `token` to the penalty window (prompt tokens may be accepted too).
  void Accept(int32_t token);

  // Clears the penalty window and reseeds the RNG with params().seed.
  void Reset();

 private:
  struct Candidate {
    int32_t id;
    float logit;
  };
  Sampler(const SamplingParams& params, int32_t n_vocab);
  void ApplyPenalties();
  int32_t Draw();

  SamplingParams params_;
  int32_t n_vocab_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;  // scratch, n_vocab entries
  size_t n_candidates_ = 0;
  // Penalty window: ring of the last penalty_last_n tokens and their counts.
  std::vector<int32_t> window_;
  size_t window_head_ = 0;
  size_t window_size_ = 0;
  std::vector<int32_t> counts_;  // per token id, occurrences in the window
};

// Index of the largest logit (ties -> lowest id). REQUIRES: !logits.empty().
int32_t ArgMax(std::span<const float> logits);

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0.0f;
};

// The log-softmax of the raw logits for `chosen` and for the `n_top` most likely
// tokens (sorted by logprob, ties -> lower id), as OpenAI's `logprobs` /
// `top_logprobs` report them. `top` is resized to min(n_top, n_vocab).
void ComputeLogprobs(std::span<const float> logits, int32_t chosen, int n_top,
                     TokenLogprob* chosen_out, std::vector<TokenLogprob>* top);

}  // namespace cellar
