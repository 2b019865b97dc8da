#include "replay/stats.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace cellar::replay {

double Percentile(const std::vector<double>& sorted, double p) {
  const double h = static_cast<double>(sorted.size() - 1) * std::clamp(p, 0.0, 1.0);
  const auto lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

Distribution Describe(std::vector<double> values) {
  Distribution d;
  d.n = static_cast<int64_t>(values.size());
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  d.mean = sum / static_cast<double>(values.size());
  d.p50 = Percentile(values, 0.50);
  d.p90 = Percentile(values, 0.90);
  d.p99 = Percentile(values, 0.99);
  d.min = values.front();
  d.max = values.back();
  return d;
}

const std::vector<TurnBucket>& TurnBuckets() {
  static const std::vector<TurnBucket> buckets = {
      {"1", 1, 1}, {"2", 2, 2}, {"3", 3, 3}, {"4-7", 4, 7}, {"8+", 8, INT_MAX}};
  return buckets;
}

RunSummary Summarize(const std::vector<RequestRecord>& records) {
  RunSummary s;
  s.n_records = static_cast<int64_t>(records.size());
  const auto& buckets = TurnBuckets();
  std::vector<double> ttft, e2e, tpot;
  std::vector<std::vector<double>> by_turn(buckets.size());
  double first_send = INFINITY, last_end = -INFINITY;
  double ttft_sum_with_usage = 0;
  int64_t prompt_with_ttft = 0;
  int64_t prompt_with_cached = 0;

  for (const RequestRecord& r : records) {
    if (r.warmup) {
      ++s.n_warmup;
      continue;
    }
    if (r.cancelled) {
      ++s.n_cancelled;
      continue;
    }
    if (!r.ok()) {
      ++s.n_errors;
      ++s.errors[r.error];
      continue;
    }
    ++s.n_measured;
    first_send = std::min(first_send, r.t_send);
    last_end = std::max(last_end, r.t_send + r.e2e_s);
    e2e.push_back(r.e2e_s);
    if (r.tpot_s >= 0) tpot.push_back(r.tpot_s);
    if (r.completion_tokens >= 0) s.completion_tokens += r.completion_tokens;
    if (r.ttft_s < 0) {
      ++s.n_no_token;
    } else {
      ttft.push_back(r.ttft_s);
      for (size_t b = 0; b < buckets.size(); ++b) {
        if (r.turn >= buckets[b].first && r.turn <= buckets[b].last) {
          by_turn[b].push_back(r.ttft_s);
        }
      }
    }
    if (r.prompt_tokens >= 0) {
      ++s.n_with_usage;
      s.prompt_tokens += r.prompt_tokens;
      if (r.ttft_s >= 0) {
        ttft_sum_with_usage += r.ttft_s;
        prompt_with_ttft += r.prompt_tokens;
      }
      if (r.cached_tokens >= 0) {
        ++s.n_with_cached;
        s.cached_tokens += r.cached_tokens;
        prompt_with_cached += r.prompt_tokens;
      }
    }
  }
  s.ttft_s = Describe(std::move(ttft));
  s.e2e_s = Describe(std::move(e2e));
  s.tpot_s = Describe(std::move(tpot));
  for (auto& v : by_turn) s.ttft_by_turn_s.push_back(Describe(std::move(v)));
  if (ttft_sum_with_usage > 0) {
    s.prefill_tokens_per_s = static_cast<double>(prompt_with_ttft) / ttft_sum_with_usage;
  }
  if (prompt_with_cached > 0) {
    s.cached_share = static_cast<double>(s.cached_tokens) / static_cast<double>(prompt_with_cached);
  }
  if (s.n_measured > 0) {
    s.window_s = last_end - first_send;
    if (s.window_s > 0) {
      s.requests_per_s = static_cast<double>(s.n_measured) / s.window_s;
      s.output_tokens_per_s = static_cast<double>(s.completion_tokens) / s.window_s;
    }
  }
  return s;
}

}  // namespace cellar::replay
