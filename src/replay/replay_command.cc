#include "replay/replay_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/log.h"
#include "replay/compare.h"
#include "replay/kv_sizing.h"
#include "replay/measured_run.h"
#include "replay/plots.h"
#include "replay/progress_bar.h"
#include "replay/report.h"
#include "replay/sharegpt.h"

namespace cellar::replay {
namespace {

namespace fs = std::filesystem;

Result<Workload> LoadWorkload(const ReplayCommandOptions& o) {
  Workload w;
  if (!o.sharegpt_path.empty()) {
    CELLAR_ASSIGN_OR_RETURN(w, LoadShareGpt(o.sharegpt_path));
  } else {
    w = GenerateSynthetic(o.synthetic);
  }
  return ApplyFilter(std::move(w), o.filter);
}

// Bytes of KV per token from --kv-bytes-per-token or --kv-shape; 0 when neither.
Result<int64_t> BytesPerToken(const ReplayCommandOptions& o) {
  if (o.kv_bytes_per_token > 0) return o.kv_bytes_per_token;
  if (o.kv_shape.empty()) return int64_t{0};
  CELLAR_ASSIGN_OR_RETURN(KvShape shape, ParseKvShape(o.kv_shape));
  return shape.BytesPerToken();
}

Status WriteRunFiles(const std::string& dir, const RunReport& r) {
  CELLAR_RETURN_IF_ERROR(
      WriteTextFile((fs::path(dir) / "requests.json").string(), ReportToJson(r).dump(1) + "\n"));
  return WriteTextFile((fs::path(dir) / "summary.md").string(), SummaryMarkdown(r));
}

void DrawPlots(const ReplayCommandOptions& o, const std::vector<RunReport>& runs) {
  if (!o.plots || runs.empty()) return;
  auto plots = WritePlots(o.out_dir, runs, o.gnuplot);
  if (!plots.ok()) {
    CELLAR_LOG_WARN("plots not drawn: {}", plots.status().ToString());
    return;
  }
  for (const std::string& png : plots->images) CELLAR_LOG_INFO("plot: {}", png);
}

int ExitCode(const std::vector<RunReport>& runs, bool interrupted) {
  if (interrupted) return kExitInterrupted;
  for (const RunReport& r : runs) {
    if (r.summary.n_measured == 0 && r.summary.n_errors > 0) return kExitAllFailed;
  }
  return kExitOk;
}

bool ShowProgress(const std::string& mode) {
  return mode == "always" || (mode == "auto" && IsTerminal(STDERR_FILENO));
}

// The tier sizing lines, and the serve flags they suggest (empty without a KV size).
std::vector<std::string> SizingAdvice(const ReplayCommandOptions& o, const Workload& w,
                                      int64_t bytes_per_token, std::string* text) {
  if (bytes_per_token <= 0) return {};
  const WorkloadKv kv =
      EstimateWorkloadKv(w, bytes_per_token, o.filter.chars_per_token, o.replay.max_tokens);
  const TierSizes t = SuggestTierSizes(kv, o.pool_requests, o.dram_fraction);
  *text = DescribeSizing(kv, t);
  return {"--kv-mem",     FormatSize(t.kv_mem),    "--store-dram", FormatSize(t.store_dram),
          "--store-disk", FormatSize(t.store_disk)};
}

int RunCompareCommand(const ReplayCommandOptions& o, const Workload& w, int64_t bytes_per_token,
                      const std::atomic<bool>* stop) {
  CompareOptions co;
  auto configs = SelectConfigs(o.configs);
  auto serve_args = SplitCommandLine(o.serve_args);
  if (!configs.ok() || !serve_args.ok()) {
    CELLAR_LOG_ERROR("{}", (!configs.ok() ? configs.status() : serve_args.status()).ToString());
    return kExitSetupError;
  }
  co.configs = *configs;
  co.serve_args = *serve_args;
  if (o.server_cmd.empty()) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
      CELLAR_LOG_ERROR("cannot find this binary's path: {}", ec.message());
      return kExitSetupError;
    }
    co.server_cmd = {self.string()};
  } else {
    auto cmd = SplitCommandLine(o.server_cmd);
    if (!cmd.ok() || cmd->empty()) {
      CELLAR_LOG_ERROR("bad --server-cmd: {}", o.server_cmd);
      return kExitSetupError;
    }
    co.server_cmd = *cmd;
  }
  std::string sizing;
  const std::vector<std::string> suggested = SizingAdvice(o, w, bytes_per_token, &sizing);
  if (!sizing.empty()) std::fprintf(stderr, "%s", sizing.c_str());
  if (o.auto_size) {
    if (suggested.empty()) {
      CELLAR_LOG_ERROR("--auto-size needs --kv-shape or --kv-bytes-per-token");
      return kExitSetupError;
    }
    for (size_t i = 0; i < suggested.size(); i += 2) {
      bool given = false;
      for (const std::string& a : co.serve_args)
        given |= a == suggested[i] || a.rfind(suggested[i] + "=", 0) == 0;
      if (given) {
        CELLAR_LOG_INFO("--auto-size: keeping the {} given in --serve-args", suggested[i]);
        continue;
      }
      co.serve_args.push_back(suggested[i]);
      co.serve_args.push_back(suggested[i + 1]);
    }
  }
  co.out_dir = o.out_dir;
  co.tmp_dir = o.store_tmp;
  co.keep_store = o.keep_store;
  co.start_timeout_s = o.server_start_timeout_s;
  co.stop_grace_s = o.server_stop_timeout_s;
  co.scrape_metrics = o.scrape_metrics;

  const bool progress = ShowProgress(o.progress);
  std::unique_ptr<ProgressBar> bar;
  std::string bar_label;
  CompareOutcome out = RunCompare(
      co, o.replay, w, stop,
      [&](const std::string& label, const ReplayProgress& p) {
        if (label != bar_label) {
          bar = std::make_unique<ProgressBar>(progress, label);
          bar_label = label;
        }
        bar->Update(p);
      },
      [&](const RunReport& r) {
        if (bar) bar->Finish();
        Status s = WriteRunFiles((fs::path(o.out_dir) / r.label).string(), r);
        if (!s.ok()) CELLAR_LOG_ERROR("{}", s.ToString());
      });
  bar.reset();
  const std::string baseline = "recompute";
  std::string md = "# Cellar --compare\n\n" + CompareMarkdown(out.runs, baseline);
  if (out.interrupted) md += "\n**Interrupted**: partial results.\n";
  if (!out.error.ok()) md += "\n**Stopped early**: " + out.error.ToString() + "\n";
  Status s1 = WriteTextFile((fs::path(o.out_dir) / "compare.md").string(), md);
  Status s2 = WriteTextFile((fs::path(o.out_dir) / "compare.json").string(),
                            CompareToJson(out.runs, baseline).dump(1) + "\n");
  if (!s1.ok() || !s2.ok()) CELLAR_LOG_ERROR("{}", (!s1.ok() ? s1 : s2).ToString());
  DrawPlots(o, out.runs);
  std::printf("%s", md.c_str());
  if (!out.error.ok()) {
    CELLAR_LOG_ERROR("{}", out.error.ToString());
    return kExitSetupError;
  }
  return ExitCode(out.runs, out.interrupted);
}

}  // namespace

int RunReplayCommand(const ReplayCommandOptions& o, const std::atomic<bool>* stop) {
  auto w = LoadWorkload(o);
  if (!w.ok()) {
    CELLAR_LOG_ERROR("workload: {}", w.status().ToString());
    return kExitSetupError;
  }
  if (w->conversations.empty()) {
    CELLAR_LOG_ERROR("the workload has no conversations left after filtering");
    return kExitSetupError;
  }
  auto bpt = BytesPerToken(o);
  if (!bpt.ok()) {
    CELLAR_LOG_ERROR("{}", bpt.status().ToString());
    return kExitSetupError;
  }
  CELLAR_LOG_INFO("workload {}: {} conversations, {} turns", w->source, w->conversations.size(),
                  w->TotalTurns());
  if (o.estimate_kv) {
    std::string text;
    if (SizingAdvice(o, *w, *bpt, &text).empty()) {
      CELLAR_LOG_ERROR("--estimate-kv needs --kv-shape or --kv-bytes-per-token");
      return kExitSetupError;
    }
    std::printf("%s", text.c_str());
    return kExitOk;
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) {
    CELLAR_LOG_ERROR("cannot create {}: {}", o.out_dir, ec.message());
    return kExitSetupError;
  }
  if (o.compare) return RunCompareCommand(o, *w, *bpt, stop);

  MeasuredRunOptions mo;
  mo.label = o.label;
  mo.scrape_metrics = o.scrape_metrics;
  ProgressBar bar(ShowProgress(o.progress), o.label);
  auto report =
      MeasuredRun(o.replay, mo, *w, stop, [&](const ReplayProgress& p) { bar.Update(p); });
  bar.Finish();
  if (!report.ok()) {
    CELLAR_LOG_ERROR("{}", report.status().ToString());
    return kExitSetupError;
  }
  Status s = WriteRunFiles(o.out_dir, *report);
  if (!s.ok()) {
    CELLAR_LOG_ERROR("{}", s.ToString());
    return kExitSetupError;
  }
  DrawPlots(o, {*report});
  std::printf("%s", SummaryMarkdown(*report).c_str());
  CELLAR_LOG_INFO("results in {}", o.out_dir);
  return ExitCode({*report}, report->result.interrupted);
}

}  // namespace cellar::replay
