// One measured replay: scrape the target's /metrics, replay the workload, scrape again,
// and summarize; the unit both `cellar replay` and each --compare configuration run.
//
// Thread-safety: a plain function; it blocks the calling thread.
#pragma once

#include <atomic>
#include <string>

#include "replay/replayer.h"
#include "replay/report.h"
#include "replay/workload.h"

namespace cellar::replay {

struct MeasuredRunOptions {
  std::string label = "run";
  bool scrape_metrics = true;  // read <url>/metrics before and after
  double metrics_timeout_s = 10;
};

// Errors only for invalid replay options; failed requests and an unreachable /metrics
// are part of the report.
Result<RunReport> MeasuredRun(const ReplayOptions& replay, const MeasuredRunOptions& o,
                              const Workload& w, const std::atomic<bool>* stop,
                              const Replayer::ProgressFn& on_progress);

}  // namespace cellar::replay
