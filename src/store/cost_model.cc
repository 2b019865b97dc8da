#include "store/cost_model.h"

#include <algorithm>
#include <vector>

namespace cellar {

void CostModel::ObserveTransfer(Tier tier, uint64_t bytes, double seconds) {
  if (bytes == 0 || !(seconds > 0)) return;
  const double bw = static_cast<double>(bytes) / seconds;
  std::lock_guard<std::mutex> lock(mu_);
  double& cur = bw_[static_cast<int>(tier)];
  cur = (1 - options_.ewma_alpha) * cur + options_.ewma_alpha * bw;
}

void CostModel::ObservePrefill(int n_tokens, double seconds) {
  if (n_tokens <= 0 || !(seconds > 0)) return;
  const double tps = n_tokens / seconds;
  std::lock_guard<std::mutex> lock(mu_);
  prefill_ = (1 - options_.ewma_alpha) * prefill_ + options_.ewma_alpha * tps;
}

double CostModel::bandwidth(Tier tier) const {
  std::lock_guard<std::mutex> lock(mu_);
  return bw_[static_cast<int>(tier)];
}

double CostModel::prefill_tokens_per_s() const {
  std::lock_guard<std::mutex> lock(mu_);
  return prefill_;
}

CostModel::Decision CostModel::Decide(std::span<const TieredStore::MatchedChunk> prefix,
                                      int n_new_tokens, int n_layers) const {
  double bw[2], tps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bw[0] = bw_[0];
    bw[1] = bw_[1];
    tps = prefill_;
  }
  const size_t n = prefix.size();
  int stored_tokens = 0;
  for (const auto& c : prefix) stored_tokens += c.n_tokens;
  const double layers = std::max(1, n_layers);
  auto total = [&](double load, double compute) {
    return std::max(load, compute) + std::min(load, compute) / layers;
  };
  Decision best;
  double load_s = 0;
  int loaded_tokens = 0;
  for (size_t k = 0; k <= n; ++k) {
    if (k > 0) {
      const auto& c = prefix[k - 1];
      load_s += static_cast<double>(c.bytes) / bw[static_cast<int>(c.tier)];
      loaded_tokens += c.n_tokens;
    }
    const double compute_s = (stored_tokens - loaded_tokens + n_new_tokens) / tps;
    const double t = total(load_s, compute_s);
    if (k == 0) best.est_recompute_all_seconds = t;
    if (k == n) best.est_load_all_seconds = t;
    if (k == 0 || t <= best.est_seconds) {
      best.est_seconds = t;
      best.load_chunks = static_cast<int>(k);
      best.load_tokens = loaded_tokens;
      best.recompute_tokens = stored_tokens - loaded_tokens;
    }
  }
  if (best.load_chunks == 0) {
    best.kind = Decision::Kind::kRecomputeAll;
  } else if (best.load_chunks == static_cast<int>(n)) {
    best.kind = Decision::Kind::kLoadAll;
  } else {
    best.kind = Decision::Kind::kSplit;
  }
  return best;
}

void CostModel::Count(const Decision& d, StoreMetrics* metrics) {
  switch (d.kind) {
    case Decision::Kind::kLoadAll:
      Bump(metrics->decisions_load);
      break;
    case Decision::Kind::kRecomputeAll:
      Bump(metrics->decisions_recompute);
      break;
    case Decision::Kind::kSplit:
      Bump(metrics->decisions_split);
      break;
  }
  Bump(metrics->decision_tokens_loaded, d.load_tokens);
  Bump(metrics->decision_tokens_recomputed, d.recompute_tokens);
}

}  // namespace cellar
