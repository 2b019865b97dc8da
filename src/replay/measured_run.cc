#include "replay/measured_run.h"

#include "replay/http_client.h"
#include "replay/prometheus.h"

namespace cellar::replay {
namespace {

// The Cellar store counters of the target now, or why there are none.
Result<TierCounts> ScrapeTierCounts(const std::string& url, double timeout_s) {
  CELLAR_ASSIGN_OR_RETURN(std::string text, HttpGet(url, "/metrics", timeout_s));
  CELLAR_ASSIGN_OR_RETURN(auto samples, ParsePrometheusText(text));
  std::optional<TierCounts> c = ExtractTierCounts(samples);
  if (!c) return NotFound("no cellar_store_* counters on /metrics");
  return *c;
}

}  // namespace

Result<RunReport> MeasuredRun(const ReplayOptions& replay, const MeasuredRunOptions& o,
                              const Workload& w, const std::atomic<bool>* stop,
                              const Replayer::ProgressFn& on_progress) {
  CELLAR_ASSIGN_OR_RETURN(auto replayer, Replayer::Create(replay));
  RunReport r;
  r.label = o.label;
  r.options = replay;
  r.options.api_key.clear();
  DescribeWorkload(w, &r);
  Result<TierCounts> before = NotFound("metrics not scraped (--no-metrics)");
  if (o.scrape_metrics) before = ScrapeTierCounts(replay.url, o.metrics_timeout_s);
  r.started_at = UtcNowIso8601();
  r.result = replayer->Run(w, stop, on_progress);
  r.summary = Summarize(r.result.records);
  if (!before.ok()) {
    r.metrics_note = before.status().message();
    return r;
  }
  Result<TierCounts> after = ScrapeTierCounts(replay.url, o.metrics_timeout_s);
  if (!after.ok()) {
    r.metrics_note = "after the run: " + after.status().message();
    return r;
  }
  r.tiers = DiffTierCounts(*after, *before);
  return r;
}

}  // namespace cellar::replay
