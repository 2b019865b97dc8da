// RunReport: one replay run (one configuration) with everything needed to publish it,
// and its forms: the JSON file with every request, the markdown summary, and the
// side-by-side markdown of a --compare.
//
// Plain values and functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "replay/prometheus.h"
#include "replay/replayer.h"
#include "replay/stats.h"
#include "replay/workload.h"

namespace cellar::replay {

struct RunReport {
  std::string label = "run";  // configuration name
  ReplayOptions options;      // what was run (the API key is never written out)
  std::string workload_source;
  int64_t n_conversations = 0;
  int64_t n_turns = 0;
  std::map<std::string, int64_t> skipped;
  std::map<std::string, int64_t> adjusted;
  std::string started_at;      // UTC, ISO 8601
  std::string server_command;  // --compare: how the server was started
  int server_exit_status = 0;  // --compare: the server's exit status after SIGTERM
  bool server_killed = false;  // --compare: it needed SIGKILL
  ReplayResult result;
  RunSummary summary;
  // Store counters from the target's /metrics, after minus before the run; nullopt
  // when not available (metrics_note says why).
  std::optional<TierCounts> tiers;
  std::string metrics_note;
};

// The store tiers that appear in any run's counters: pool, dram, disk first (the order
// data moves in), then any other tier names in alphabetical order.
std::vector<std::string> TiersSeen(const std::vector<RunReport>& runs);

// Fills the workload fields of `r` from `w`.
void DescribeWorkload(const Workload& w, RunReport* r);

// The current UTC time as "2025-01-31T12:00:00Z".
std::string UtcNowIso8601();

// The whole report, version 1 of the replay JSON format (docs/BENCHMARKS.md).
nlohmann::json ReportToJson(const RunReport& r);

// A markdown summary of one run.
std::string SummaryMarkdown(const RunReport& r);

// A markdown table of several runs side by side. TTFT reductions are against the
// run labelled `baseline` when present ("" = none).
std::string CompareMarkdown(const std::vector<RunReport>& runs, const std::string& baseline);

// The compare table as JSON: one object per run with the summary numbers.
nlohmann::json CompareToJson(const std::vector<RunReport>& runs, const std::string& baseline);

// Writes `text` to `path` (replacing it).
Status WriteTextFile(const std::string& path, const std::string& text);

}  // namespace cellar::replay
