// The `cellar replay` command: everything between the parsed command line and the
// files it writes (workload loading and filtering, the single run or the --compare
// series, metrics, reports, plots, the KV sizing helper). src/cli/cmd_replay.cc only
// binds the options and the Ctrl-C handler.
//
// Thread-safety: RunReplayCommand blocks its caller; `stop` may be set from a signal
// handler.
#pragma once

#include <atomic>
#include <string>

#include "replay/replayer.h"
#include "replay/synthetic.h"
#include "replay/workload.h"

namespace cellar::replay {

struct ReplayCommandOptions {
  ReplayOptions replay;

  // Workload.
  std::string sharegpt_path;  // empty: synthetic
  SyntheticOptions synthetic;
  WorkloadFilter filter;

  // Output.
  std::string out_dir = "replay-out";
  std::string label = "run";
  bool plots = true;
  std::string gnuplot = "gnuplot";
  std::string progress = "auto";  // auto | always | never
  bool scrape_metrics = true;

  // Sizing.
  bool estimate_kv = false;  // print the estimate and suggested tiers, then exit
  std::string kv_shape;      // "L,H,D[,B]"
  int64_t kv_bytes_per_token = 0;
  double dram_fraction = 0.25;
  int pool_requests = 2;  // running requests the suggested working pool holds
  bool auto_size = false;  // --compare: add the suggested tier sizes to the serve args

  // --compare.
  bool compare = false;
  std::string configs = "all";
  std::string serve_args;
  std::string server_cmd;  // empty: this binary (/proc/self/exe)
  std::string store_tmp;
  bool keep_store = false;
  double server_start_timeout_s = 300;
  double server_stop_timeout_s = 30;
};

// Exit codes of `cellar replay`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitSetupError = 1;     // bad options, workload or server start
inline constexpr int kExitAllFailed = 3;      // no request succeeded
inline constexpr int kExitInterrupted = 130;  // stopped by Ctrl-C (results written)

int RunReplayCommand(const ReplayCommandOptions& o, const std::atomic<bool>* stop);

}  // namespace cellar::replay
