// ServerMetrics: the counters and histograms behind GET /metrics, rendered in
// the Prometheus text exposition format (version 0.0.4) together with a
// snapshot of the engine (queue, pool, cache hits). Every name starts with
// "cellar_"; the list is in docs/SERVER.md ("Metrics").
//
// Owned by the ApiServer. Thread-safety: every method is thread-safe (one
// mutex; updates are a few additions per request or token).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine_service.h"
#include "engine/request_output.h"

namespace cellar {

// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Appends the _bucket/_sum/_count lines of `name`.
  void Render(std::string_view name, std::string* out) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();

  // An HTTP response was sent. `path` outside the API is counted as "other".
  void OnResponse(std::string_view path, int status);
  // A generation ended (any endpoint).
  void OnRequestFinished(const RequestSummary& summary);
  // The gap between two consecutive tokens of one request.
  void OnInterTokenLatency(double seconds);

  std::string Render(const EngineStats& engine) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> responses_;  // (endpoint, status)
  std::map<std::string, uint64_t> finished_;                   // by finish reason
  uint64_t prompt_tokens_ = 0;
  uint64_t cached_tokens_ = 0;
  uint64_t generated_tokens_ = 0;
  Histogram ttft_;
  Histogram itl_;
  Histogram duration_;
};

}  // namespace cellar
