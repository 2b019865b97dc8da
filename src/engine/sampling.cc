#include "engine/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace cellar {
namespace {

// Descending logit, ties -> lower id (a strict weak order, deterministic).
template <typename C>
bool Before(const C& a, const C& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Uniform double in [0, 1) from 53 random bits (same on every platform).
double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace

Status ValidateSamplingParams(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) {
    return InvalidArgument("temperature must be a finite number >= 0, got " +
                           std::to_string(p.temperature));
  }
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    return InvalidArgument("top_p must be in (0, 1], got " + std::to_string(p.top_p));
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    return InvalidArgument("min_p must be in [0, 1], got " + std::to_string(p.min_p));
  }
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty)) {
    return InvalidArgument("repeat_penalty must be > 0, got " + std::to_string(p.repeat_penalty));
  }
  if (!std::isfinite(p.presence_penalty) || !std::isfinite(p.frequency_penalty)) {
    return InvalidArgument("presence/frequency penalties must be finite");
  }
  if (p.penalty_last_n < 0) {
    return InvalidArgument("penalty_last_n must be >= 0, got " + std::to_string(p.penalty_last_n));
  }
  return OkStatus();
}

Result<std::unique_ptr<Sampler>> Sampler::Create(const SamplingParams& params, int32_t n_vocab) {
  CELLAR_RETURN_IF_ERROR(ValidateSamplingParams(params));
  if (n_vocab <= 0) return InvalidArgument("sampler needs n_vocab > 0");
  return std::unique_ptr<Sampler>(new Sampler(params, n_vocab));
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab)
    : params_(params),
      n_vocab_(n_vocab),
      rng_(params.seed),
      candidates_(static_cast<size_t>(n_vocab)),
      window_(static_cast<size_t>(params.penalty_last_n)),
      counts_(static_cast<size_t>(n_vocab), 0) {}

void Sampler::Reset() {
  rng_.seed(params_.seed);
  for (size_t i = 0; i < window_size_; ++i) {
    const size_t slot = (window_head_ + window_.size() - window_size_ + i) % window_.size();
    counts_[static_cast<size_t>(window_[slot])] = 0;
  }
  window_head_ = 0;
  window_size_ = 0;
}

void Sampler::Accept(int32_t token) {
  if (window_.empty() || token < 0 || token >= n_vocab_) return;
  if (window_size_ == window_.size()) {
    // The oldest token (at window_head_, about to be overwritten) leaves the window.
    --counts_[static_cast<size_t>(window_[window_head_])];
  } else {
    ++window_size_;
  }
  window_[window_head_] = token;
  ++counts_[static_cast<size_t>(token)];
  window_head_ = (window_head_ + 1) % window_.size();
}

void Sampler::ApplyPenalties() {
  const bool any = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                   params_.frequency_penalty != 0.0f;
  if (!any || window_size_ == 0) return;
  // candidates_ is still in id order here, so candidates_[id].id == id. Each distinct
  // token of the window is penalized once: mark it by negating its count while visiting.
  for (size_t i = 0; i < window_size_; ++i) {
    const size_t slot = (window_head_ + window_.size() - window_size_ + i) % window_.size();
    const auto id = static_cast<size_t>(window_[slot]);
    const int count = counts_[id];
    if (count <= 0) continue;  // already penalized
    float& logit = candidates_[id].logit;
    if (logit <= 0.0f) {
      logit *= params_.repeat_penalty;
    } else {
      logit /= params_.repeat_penalty;
    }
    logit -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
    counts_[id] = -count;
  }
  for (size_t i = 0; i < window_size_; ++i) {
    const size_t slot = (window_head_ + window_.size() - window_size_ + i) % window_.size();
    const auto id = static_cast<size_t>(window_[slot]);
    if (counts_[id] < 0) counts_[id] = -counts_[id];
  }
}

int32_t Sampler::Sample(std::span<const float> logits) {
  for (int32_t i = 0; i < n_vocab_; ++i) {
    candidates_[static_cast<size_t>(i)] = {i, logits[static_cast<size_t>(i)]};
  }
  n_candidates_ = static_cast<size_t>(n_vocab_);
  ApplyPenalties();

  if (params_.temperature <= 0.0f) {
    size_t best = 0;
    for (size_t i = 1; i < n_candidates_; ++i) {
      if (candidates_[i].logit > candidates_[best].logit) best = i;  // first max = lowest id
    }
    return candidates_[best].id;
  }

  auto begin = candidates_.begin();
  bool sorted = false;
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n_candidates_) {
    const auto k = static_cast<size_t>(params_.top_k);
    std::partial_sort(begin, begin + static_cast<std::ptrdiff_t>(k),
                      begin + static_cast<std::ptrdiff_t>(n_candidates_), Before<Candidate>);
    n_candidates_ = k;
    sorted = true;
  }
  if (params_.top_p < 1.0f || params_.min_p > 0.0f) {
    if (!sorted) {
      std::sort(begin, begin + static_cast<std::ptrdiff_t>(n_candidates_), Before<Candidate>);
      sorted = true;
    }
    // Probabilities of the sorted candidates (before temperature, as llama.cpp does).
    const double max_logit = candidates_[0].logit;
    double sum = 0.0;
    for (size_t i = 0; i < n_candidates_; ++i) {
      sum += std::exp(static_cast<double>(candidates_[i].logit) - max_logit);
    }
    if (params_.top_p < 1.0f) {
      double cumulative = 0.0;
      size_t keep = n_candidates_;
      for (size_t i = 0; i < n_candidates_; ++i) {
        cumulative += std::exp(static_cast<double>(candidates_[i].logit) - max_logit) / sum;
        if (cumulative >= static_cast<double>(params_.top_p)) {
          keep = i + 1;
          break;
        }
      }
      n_candidates_ = keep;
    }
    if (params_.min_p > 0.0f) {
      // p_i >= min_p * p_max  <=>  logit_i >= max_logit + log(min_p).
      const double threshold = max_logit + std::log(static_cast<double>(params_.min_p));
      size_t keep = 1;
      while (keep < n_candidates_ && candidates_[keep].logit >= threshold) ++keep;
      n_candidates_ = keep;
    }
  }
  return Draw();
}

int32_t Sampler::Draw() {
  const double inv_temp = 1.0 / static_cast<double>(params_.temperature);
  double max_scaled = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n_candidates_; ++i) {
    max_scaled = std::max(max_scaled, candidates_[i].logit * inv_temp);
  }
  if (!std::isfinite(max_scaled)) return candidates_[0].id;
  double sum = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) {
    sum += std::exp(candidates_[i].logit * inv_temp - max_scaled);
  }
  const double r = Uniform(rng_) * sum;
  double cumulative = 0.0;
  for (size_t i = 0; i < n_candidates_; ++i) {
    cumulative += std::exp(candidates_[i].logit * inv_temp - max_scaled);
    if (r < cumulative) return candidates_[i].id;
  }
  return candidates_[n_candidates_ - 1].id;
}

int32_t ArgMax(std::span<const float> logits) {
  size_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<int32_t>(best);
}

void ComputeLogprobs(std::span<const float> logits, int32_t chosen, int n_top,
                     TokenLogprob* chosen_out, std::vector<TokenLogprob>* top) {
  double max_logit = -std::numeric_limits<double>::infinity();
  for (float l : logits) max_logit = std::max(max_logit, static_cast<double>(l));
  double sum = 0.0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max_logit);
  const double log_z = max_logit + std::log(sum);
  if (chosen_out != nullptr) {
    chosen_out->token = chosen;
    chosen_out->logprob =
        chosen >= 0 && static_cast<size_t>(chosen) < logits.size()
            ? static_cast<float>(static_cast<double>(logits[static_cast<size_t>(chosen)]) - log_z)
            : -std::numeric_limits<float>::infinity();
  }
  if (top == nullptr) return;
  const size_t k = std::min(static_cast<size_t>(std::max(n_top, 0)), logits.size());
  top->clear();
  if (k == 0) return;
  // Keep the k best (by logit, ties -> lower id) with a small insertion-sorted list.
  struct C {
    int32_t id;
    float logit;
  };
  std::vector<C> best;
  best.reserve(k + 1);
  for (size_t i = 0; i < logits.size(); ++i) {
    const C c{static_cast<int32_t>(i), logits[i]};
    if (best.size() == k && !Before(c, best.back())) continue;
    auto pos = std::upper_bound(best.begin(), best.end(), c, Before<C>);
    best.insert(pos, c);
    if (best.size() > k) best.pop_back();
  }
  for (const C& c : best) {
    top->push_back({c.id, static_cast<float>(static_cast<double>(c.logit) - log_z)});
  }
}

}  // namespace cellar
