// Prometheus text exposition format (version 0.0.4) parser, and the Cellar store
// counters a replay reads from GET /metrics before and after a run to report hit
// rates per tier. The metric names are the contract with the server (see
// docs/BENCHMARKS.md, "Metrics the replay reads"):
//   cellar_store_hit_tokens_total{tier="pool"|"dram"|"disk"|...}  counter
//       prompt tokens whose KV was reused from that tier instead of being computed
//   cellar_store_miss_tokens_total                                  counter
//       prompt tokens that had to be computed (prefilled)
// Other labels on these series (model, ...) are summed over.
//
// Plain functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cellar::replay {

inline constexpr char kHitTokensMetric[] = "cellar_store_hit_tokens_total";
inline constexpr char kMissTokensMetric[] = "cellar_store_miss_tokens_total";

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the whole text; comments (# HELP, # TYPE) and blank lines are skipped,
// timestamps ignored. A malformed line is an error naming its line number.
Result<std::vector<MetricSample>> ParsePrometheusText(std::string_view text);

// Store counters of one scrape (or the difference of two).
struct TierCounts {
  std::map<std::string, double> hit_tokens;  // tier label -> tokens
  double miss_tokens = 0;

  double TotalTokens() const;
  // hit_tokens[tier] / TotalTokens(); NaN when there are no tokens.
  double HitRate(const std::string& tier) const;
  // All hits / TotalTokens(); NaN when there are no tokens.
  double TotalHitRate() const;
};

// The Cellar store counters in `samples`; nullopt when neither metric is present
// (the target is not Cellar, or an older one).
std::optional<TierCounts> ExtractTierCounts(const std::vector<MetricSample>& samples);

// after - before, per tier (a tier missing before counts from 0).
TierCounts DiffTierCounts(const TierCounts& after, const TierCounts& before);

}  // namespace cellar::replay
