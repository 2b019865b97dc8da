#include "replay/plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "replay/process.h"

namespace cellar::replay {
namespace {

// A gnuplot string literal.
std::string Quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

// gnuplot reads "NaN" as a missing point.
std::string Val(double x) { return std::isnan(x) ? "NaN" : fmt::format("{:.6g}", x); }

constexpr char kTerminal[] =
    "set terminal pngcairo size 1000,600 noenhanced font \"sans,11\"\n"
    "set grid ytics lc rgb \"#dddddd\"\n"
    "set key outside right top\n";

}  // namespace

Result<PlotFiles> WritePlots(const std::string& dir, const std::vector<RunReport>& runs,
                             const std::string& gnuplot) {
  namespace fs = std::filesystem;
  const fs::path d = fs::absolute(dir);
  const auto at = [&](const std::string& name) { return (d / name).string(); };
  const auto& buckets = TurnBuckets();
  std::string script = "# Written by `cellar replay`; run `gnuplot plots.gp` to redraw.\n";
  script += kTerminal;
  PlotFiles files;

  // TTFT by turn group.
  std::string data = "# bucket label";
  for (const RunReport& r : runs)
    data += " " + Quote(r.label + " mean") + " " + Quote(r.label + " p90");
  data += "\n";
  for (size_t b = 0; b < buckets.size(); ++b) {
    data += fmt::format("{} {}", b, Quote(buckets[b].label));
    for (const RunReport& r : runs) {
      const Distribution& x = r.summary.ttft_by_turn_s[b];
      data += " " + Val(x.mean * 1e3) + " " + Val(x.p90 * 1e3);
    }
    data += "\n";
  }
  CELLAR_RETURN_IF_ERROR(WriteTextFile(at("ttft_by_turn.dat"), data));
  // Two panels, mean and p90, one line per configuration in each.
  script += fmt::format(
      "set terminal pngcairo size 1300,600 noenhanced font \"sans,11\"\n"
      "set output {}\nset multiplot layout 1,2 title \"Time to first token by turn index\"\n"
      "set xlabel \"turn index\"\nset ylabel \"TTFT (ms)\"\nset yrange [0:*]\n"
      "set xrange [-0.3:{}.3]\nset key inside top right\n",
      Quote(at("ttft_by_turn.png")), buckets.size() - 1);
  for (int panel = 0; panel < 2; ++panel) {
    script += fmt::format("set title \"{}\"\nplot ", panel == 0 ? "mean" : "p90");
    for (size_t i = 0; i < runs.size(); ++i) {
      script += fmt::format("{}{} using 1:{}:xtic(2) with linespoints lw 2 pt 7 lc {} title {}",
                            i == 0 ? "" : ", ", Quote(at("ttft_by_turn.dat")), 3 + 2 * i + panel,
                            i + 1, Quote(runs[i].label));
    }
    script += "\n";
  }
  script += "unset multiplot\n";
  script += kTerminal;
  script += "unset xrange\nunset yrange\nset key outside right top\n";

  // TTFT CDF.
  script += fmt::format(
      "set output {}\nset title \"TTFT distribution\"\nset xlabel \"TTFT (ms, log scale)\"\n"
      "set ylabel \"fraction of requests\"\nset logscale x\nset yrange [0:1]\nplot ",
      Quote(at("ttft_cdf.png")));
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<double> v;
    for (const RequestRecord& rec : runs[i].result.records) {
      if (!rec.warmup && rec.ok() && rec.ttft_s >= 0) v.push_back(rec.ttft_s * 1e3);
    }
    std::sort(v.begin(), v.end());
    std::string cdf = "# ttft_ms fraction\n";
    for (size_t k = 0; k < v.size(); ++k) {
      cdf += Val(std::max(v[k], 1e-3)) + " " + Val(static_cast<double>(k + 1) / v.size()) + "\n";
    }
    if (v.empty()) cdf += "NaN NaN\n";
    const std::string name = fmt::format("ttft_cdf_{}.dat", i);
    CELLAR_RETURN_IF_ERROR(WriteTextFile(at(name), cdf));
    script += fmt::format("{}{} using 1:2 with steps lw 2 lc {} title {}", i == 0 ? "" : ", ",
                          Quote(at(name)), i + 1, Quote(runs[i].label));
  }
  script += "\nunset logscale x\nunset yrange\n";

  // Hit rate by tier.
  const std::vector<std::string> tiers = TiersSeen(runs);
  std::string hits = "# label";
  for (const std::string& t : tiers) hits += " " + t;
  hits += " cached_usage\n";
  for (const RunReport& r : runs) {
    hits += Quote(r.label);
    for (const std::string& t : tiers) hits += " " + Val(r.tiers ? r.tiers->HitRate(t) * 100 : NAN);
    hits += " " + Val(r.summary.cached_share * 100) + "\n";
  }
  CELLAR_RETURN_IF_ERROR(WriteTextFile(at("hit_rate.dat"), hits));
  script += fmt::format(
      "set output {}\nset title {}\nset xlabel \"configuration\"\n"
      "set ylabel \"% of prompt tokens\"\nset yrange [0:105]\n"
      "set style data histograms\nset style histogram rowstacked\n"
      "set style fill solid 0.8 border -1\nset boxwidth 0.6\nset xtics rotate by -20\nplot ",
      Quote(at("hit_rate_by_tier.png")),
      Quote(tiers.empty() ? "Prompt tokens served from cache (usage; no store metrics)"
                          : "Store hit rate by tier (/metrics); points: cached share (usage)"));
  const std::string hfile = Quote(at("hit_rate.dat"));
  for (size_t i = 0; i < tiers.size(); ++i) {
    script += fmt::format("{}{} using {}:xtic(1) title {}", i == 0 ? "" : ", ", hfile, i + 2,
                          Quote("hit " + tiers[i]));
  }
  if (tiers.empty()) {
    script += fmt::format("{} using {}:xtic(1) title \"cached (usage)\"", hfile, 2);
  } else {
    script += fmt::format(
        ", {} using 0:{} with points pt 9 ps 2 lc rgb \"black\" title "
        "\"cached (usage)\"",
        hfile, tiers.size() + 2);
  }
  script += "\n";

  files.script = at("plots.gp");
  CELLAR_RETURN_IF_ERROR(WriteTextFile(files.script, script));
  CELLAR_ASSIGN_OR_RETURN(std::string program, FindProgram(gnuplot));
  CELLAR_ASSIGN_OR_RETURN(int rc, RunToCompletion({program, files.script}, at("plots.log")));
  if (rc != 0) {
    return Internal(fmt::format("gnuplot exited with {}; see {}", rc, at("plots.log")));
  }
  for (const char* png : {"ttft_by_turn.png", "ttft_cdf.png", "hit_rate_by_tier.png"}) {
    std::error_code ec;
    if (fs::file_size(at(png), ec) > 0 && !ec) files.images.push_back(at(png));
  }
  return files;
}

}  // namespace cellar::replay
