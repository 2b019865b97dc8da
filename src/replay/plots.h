// Plots of one or several replay runs, drawn by gnuplot (Debian's gnuplot-nox,
// pngcairo terminal) from data files and a script written next to them, so a person
// can edit and re-run the script:
//   ttft_by_turn.png      mean and p90 TTFT per turn group (two panels), one line per
//                         configuration
//   ttft_cdf.png          cumulative distribution of TTFT, one curve per configuration
//   hit_rate_by_tier.png  share of prompt tokens served by each store tier (stacked;
//                         from /metrics), with the usage-reported cached share as points
//
// Thread-safety: plain functions.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "replay/report.h"

namespace cellar::replay {

struct PlotFiles {
  std::string script;               // plots.gp
  std::vector<std::string> images;  // the PNGs gnuplot wrote
};

// Writes the data files and plots.gp into `dir` and runs `gnuplot` (a name in PATH or
// a path) on it; gnuplot's output goes to <dir>/plots.log. When gnuplot is missing or
// fails, the error says so and the script stays for later.
Result<PlotFiles> WritePlots(const std::string& dir, const std::vector<RunReport>& runs,
                             const std::string& gnuplot = "gnuplot");

}  // namespace cellar::replay
