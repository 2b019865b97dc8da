// --compare: the same workload replayed against Cellar in several configurations, one
// after another, each on a fresh server (free loopback port, fresh temporary
// --store-dir), and tabulated side by side.
//
// The standard configurations (docs/BENCHMARKS.md):
//   recompute  --no-prefix-cache --no-store   every turn prefills its whole prompt
//   pool       --no-store                     prefix cache in the working pool only
//   dram       --store-disk 0                 store with a DRAM tier only
//   lru        --store-policy lru             DRAM + disk, LRU eviction
//   fifo       --store-policy fifo            DRAM + disk, FIFO eviction
//   scheduler  --store-policy scheduler       DRAM + disk, scheduler-aware placement
// A server is started as <server_cmd...> serve <serve_args...> --host 127.0.0.1
// --port P --store-dir D <configuration flags>. Options of serve_args that the
// comparison controls (--host, --port, --store-dir, --no-prefix-cache, --no-store and
// whatever a configuration sets) are dropped from serve_args for that run.
//
// Thread-safety: RunCompare blocks the calling thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "replay/replayer.h"
#include "replay/report.h"
#include "replay/workload.h"

namespace cellar::replay {

struct ServerConfig {
  std::string name;
  std::vector<std::string> flags;
  std::string description;
};

const std::vector<ServerConfig>& StandardConfigs();

// "recompute,lru" -> those configurations, in the given order; "all" or "" -> every one.
Result<std::vector<ServerConfig>> SelectConfigs(const std::string& csv);

// Splits a command line on whitespace, honouring '...' and "..." quotes and '\'.
Result<std::vector<std::string>> SplitCommandLine(const std::string& s);

// serve_args without the options the comparison controls for `config` (see above).
// `dropped` (may be null) receives what was removed.
std::vector<std::string> FilterServeArgs(const std::vector<std::string>& serve_args,
                                         const ServerConfig& config,
                                         std::vector<std::string>* dropped);

// The whole server command line of one configuration.
std::vector<std::string> ServeCommand(const std::vector<std::string>& server_cmd,
                                      const std::vector<std::string>& serve_args,
                                      const ServerConfig& config, int port,
                                      const std::string& store_dir);

struct CompareOptions {
  std::vector<std::string> server_cmd;  // e.g. {"/path/to/cellar"}; "serve" is appended
  std::vector<std::string> serve_args;  // pass-through server options
  std::vector<ServerConfig> configs;
  std::string out_dir;  // <out_dir>/<config>/{server.log,requests.json,summary.md}
  std::string tmp_dir;  // parent of the fresh store dirs ("" = the system temp dir)
  bool keep_store = false;
  double start_timeout_s = 300;
  double stop_grace_s = 30;
  bool scrape_metrics = true;
};

using CompareProgressFn = std::function<void(const std::string& label, const ReplayProgress&)>;
// Called after each configuration (to write its files at once).
using ConfigDoneFn = std::function<void(const RunReport&)>;

struct CompareOutcome {
  std::vector<RunReport> runs;  // the configurations that ran, in order
  Status error;                 // why the comparison ended early (OK when it did not)
  bool interrupted = false;     // a stop request ended it
};

// Runs the configurations in order. A configuration whose server does not start ends
// the comparison with `error` set (the runs before it are kept); a stop request ends
// it after the current configuration's partial results.
CompareOutcome RunCompare(const CompareOptions& o, const ReplayOptions& replay, const Workload& w,
                          const std::atomic<bool>* stop, const CompareProgressFn& on_progress,
                          const ConfigDoneFn& on_config_done);

}  // namespace cellar::replay
