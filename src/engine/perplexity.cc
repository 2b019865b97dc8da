#include "engine/perplexity.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace cellar {

void NllAccumulator::Add(std::span<const float> logits, int32_t target) {
  double max = logits[0];
  for (float l : logits) max = std::max(max, static_cast<double>(l));
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max);
  const double nll =
      -(static_cast<double>(logits[static_cast<size_t>(target)]) - max - std::log(sum));
  // Welford's running mean and sum of squared deviations (no cancellation).
  ++count_;
  const double delta = nll - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (nll - mean_);
}

double NllAccumulator::perplexity() const { return std::exp(mean_nll()); }

double NllAccumulator::perplexity_error() const {
  if (count_ < 2) return 0.0;
  // llama.cpp: sqrt(population variance / (n - 1)) * PPL.
  const double var = m2_ / static_cast<double>(count_);
  return std::sqrt(var / static_cast<double>(count_ - 1)) * perplexity();
}

Result<PerplexityResult> ComputePerplexity(
    LocalSession& session, std::span<const int32_t> tokens, const PerplexityOptions& options,
    const std::function<void(const PerplexityChunk&)>& on_chunk) {
  const int32_t n_ctx = options.n_ctx;
  if (n_ctx < 4) return InvalidArgument("perplexity needs a context of at least 4 tokens");
  if (session.n_ctx() < n_ctx) {
    return InvalidArgument("session context " + std::to_string(session.n_ctx()) +
                           " is smaller than the perplexity context " + std::to_string(n_ctx));
  }
  if (static_cast<int64_t>(tokens.size()) < 2 * static_cast<int64_t>(n_ctx)) {
    return InvalidArgument("need at least " + std::to_string(2 * n_ctx) +
                           " tokens for a context of " + std::to_string(n_ctx) + ", the text has " +
                           std::to_string(tokens.size()));
  }
  int32_t n_chunks = static_cast<int32_t>(tokens.size() / static_cast<size_t>(n_ctx));
  if (options.max_chunks >= 0) n_chunks = std::min(n_chunks, options.max_chunks);
  const int32_t first = n_ctx / 2;
  const auto n_vocab = static_cast<size_t>(session.forward().n_vocab());
  NllAccumulator acc;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  std::vector<float> logits;
  logits.reserve(static_cast<size_t>(n_ctx - first) * n_vocab);
  for (int32_t c = 0; c < n_chunks; ++c) {
    const auto start = static_cast<size_t>(c) * static_cast<size_t>(n_ctx);
    std::copy(tokens.begin() + static_cast<std::ptrdiff_t>(start),
              tokens.begin() + static_cast<std::ptrdiff_t>(start + chunk.size()), chunk.begin());
    if (options.bos_token >= 0) chunk[0] = options.bos_token;
    session.Truncate(0);
    logits.clear();
    CELLAR_RETURN_IF_ERROR(session.FeedCollect(chunk, first, &logits));
    // Row r is position first + r; it predicts the original token at first + r + 1.
    for (int32_t j = first; j < n_ctx - 1; ++j) {
      const size_t row = static_cast<size_t>(j - first);
      acc.Add(std::span<const float>(logits.data() + row * n_vocab, n_vocab),
              tokens[start + static_cast<size_t>(j) + 1]);
    }
    if (on_chunk) on_chunk(PerplexityChunk{c, n_chunks, acc.perplexity()});
  }
  PerplexityResult r;
  r.ppl = acc.perplexity();
  r.ppl_error = acc.perplexity_error();
  r.mean_nll = acc.mean_nll();
  r.n_scored = acc.count();
  r.n_chunks = n_chunks;
  return r;
}

}  // namespace cellar
