// Statistics of a replay: distributions of TTFT, latency and time per output token,
// overall and by turn index, and the throughput and cache numbers of docs/BENCHMARKS.md.
//
// Percentile definition (exact, stated once for every number Cellar reports): the
// values are sorted ascending, x[0..n-1]; the p-th percentile (0 <= p <= 1) is the
// linear interpolation between the closest ranks, h = (n - 1) * p,
//   P(p) = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])
// (Hyndman & Fan type 7; numpy's default). So p50 of {1, 2, 3, 4} is 2.5.
//
// Plain functions and values; thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "replay/request_record.h"

namespace cellar::replay {

// REQUIRES: `sorted` ascending and non-empty; 0 <= p <= 1.
double Percentile(const std::vector<double>& sorted, double p);

struct Distribution {
  int64_t n = 0;
  // NaN when n == 0.
  double mean = std::numeric_limits<double>::quiet_NaN();
  double p50 = std::numeric_limits<double>::quiet_NaN();
  double p90 = std::numeric_limits<double>::quiet_NaN();
  double p99 = std::numeric_limits<double>::quiet_NaN();
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

Distribution Describe(std::vector<double> values);

// Turn-index groups of the per-turn tables: 1, 2, 3, 4-7, 8+.
struct TurnBucket {
  const char* label;
  int first;
  int last;  // inclusive; INT_MAX for the open bucket
};
const std::vector<TurnBucket>& TurnBuckets();

struct RunSummary {
  int64_t n_records = 0;                  // every request sent (or started)
  int64_t n_warmup = 0;                   // excluded: warm-up
  int64_t n_cancelled = 0;                // excluded: stopped by the replay (Ctrl-C, --duration)
  int64_t n_errors = 0;                   // non-warm-up requests that failed
  int64_t n_measured = 0;                 // non-warm-up requests that succeeded: everything below
  int64_t n_no_token = 0;                 // measured requests that produced no content (no TTFT)
  std::map<std::string, int64_t> errors;  // error message -> count (non-warm-up)

  Distribution ttft_s;
  Distribution e2e_s;
  Distribution tpot_s;
  std::vector<Distribution> ttft_by_turn_s;  // one per TurnBuckets() entry

  int64_t n_with_usage = 0;       // measured requests whose usage gave prompt_tokens
  int64_t prompt_tokens = 0;      // sum over those
  int64_t cached_tokens = 0;      // sum of cached_tokens over those (0 when unreported)
  int64_t n_with_cached = 0;      // ... of which reported cached_tokens
  int64_t completion_tokens = 0;  // sum over measured requests that reported it
  // prompt tokens / sum of TTFT (the time each request spent waiting for its first
  // token, i.e. prefill seen from the client) over measured requests with both.
  double prefill_tokens_per_s = std::numeric_limits<double>::quiet_NaN();
  // cached tokens / prompt tokens over measured requests that reported cached_tokens.
  double cached_share = std::numeric_limits<double>::quiet_NaN();
  // Measurement window: first measured send to last measured end.
  double window_s = 0;
  double requests_per_s = std::numeric_limits<double>::quiet_NaN();
  double output_tokens_per_s = std::numeric_limits<double>::quiet_NaN();
};

RunSummary Summarize(const std::vector<RequestRecord>& records);

}  // namespace cellar::replay
