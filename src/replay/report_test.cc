// Reports: JSON that parses back with every request, markdown with the numbers, and
// PNG plots drawn by gnuplot.
#include "replay/report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/testing/shared_data.h"
#include "replay/plots.h"
#include "replay/process.h"
#include "replay/progress_bar.h"

namespace cellar::replay {
namespace {

namespace fs = std::filesystem;

RunReport MakeReport(const std::string& label, double ttft_scale, bool tiers) {
  RunReport r;
  r.label = label;
  r.options.url = "http://127.0.0.1:9";
  r.options.model = "m";
  r.options.api_key = "secret";
  r.workload_source = "synthetic:seed=1";
  r.n_conversations = 2;
  r.n_turns = 8;
  r.skipped["not_alternating"] = 3;
  r.started_at = "2025-01-01T00:00:00Z";
  for (int c = 0; c < 2; ++c) {
    for (int t = 1; t <= 4; ++t) {
      RequestRecord rec;
      rec.conversation = c;
      rec.conversation_id = "c" + std::to_string(c);
      rec.turn = t;
      rec.t_send = c * 0.01 + t;
      rec.ttft_s = ttft_scale * (t == 1 ? 0.2 : 0.05 * t);
      rec.e2e_s = rec.ttft_s + 0.1;
      rec.http_status = 200;
      rec.prompt_tokens = 100 * t;
      rec.cached_tokens = t == 1 ? 0 : 100 * (t - 1);
      rec.completion_tokens = 5;
      r.result.records.push_back(rec);
    }
  }
  RequestRecord err;
  err.turn = 1;
  err.error = "HTTP 503: busy";
  err.http_status = 503;
  r.result.records.push_back(err);
  r.result.wall_s = 5;
  r.summary = Summarize(r.result.records);
  if (tiers) {
    TierCounts t;
    t.hit_tokens = {{"pool", 200}, {"dram", 600}, {"disk", 400}};
    t.miss_tokens = 800;
    r.tiers = t;
  } else {
    r.metrics_note = "no cellar_store_* counters on /metrics";
  }
  return r;
}

TEST(ReportToJson, EveryRequestAndTheSummaryWithoutTheApiKey) {
  RunReport r = MakeReport("lru", 1.0, true);
  const nlohmann::json j = nlohmann::json::parse(ReportToJson(r).dump());
  EXPECT_EQ(j["format"], "cellar-replay");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["requests"].size(), 9u);
  EXPECT_EQ(j["requests"][0]["turn"], 1);
  EXPECT_EQ(j["requests"][0]["cached_tokens"], 0);
  EXPECT_EQ(j["requests"][8]["error"], "HTTP 503: busy");
  EXPECT_TRUE(j["requests"][8]["ttft_s"].is_null());
  EXPECT_EQ(j["summary"]["n_measured"], 8);
  EXPECT_EQ(j["summary"]["n_errors"], 1);
  EXPECT_EQ(j["summary"]["ttft_by_turn_s"].size(), 5u);
  EXPECT_EQ(j["summary"]["ttft_by_turn_s"][3]["turns"], "4-7");
  EXPECT_EQ(j["summary"]["ttft_by_turn_s"][4]["n"], 0);
  EXPECT_TRUE(j["summary"]["ttft_by_turn_s"][4]["mean"].is_null());  // NaN -> null
  EXPECT_DOUBLE_EQ(j["store_tiers"]["hit_rate"]["dram"].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(j["store_tiers"]["total_hit_rate"].get<double>(), 0.6);
  EXPECT_EQ(j["workload"]["skipped"]["not_alternating"], 3);
  EXPECT_EQ(j.dump().find("secret"), std::string::npos);
}

TEST(SummaryMarkdown, TablesWithTheNumbers) {
  RunReport r = MakeReport("lru", 1.0, true);
  const std::string md = SummaryMarkdown(r);
  EXPECT_NE(md.find("# Replay: lru"), std::string::npos);
  // All TTFT: .2 .2 .1 .1 .15 .15 .2 .2 -> mean 162.5 ms.
  EXPECT_NE(md.find("| all | 8 | 162.5 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 1 | 2 | 200.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 8+ | 0 | n/a |"), std::string::npos) << md;
  EXPECT_NE(md.find("| dram | 600 | 30.0% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| miss (computed) | 800 | 40.0% |"), std::string::npos) << md;
  EXPECT_NE(md.find("1 x `HTTP 503: busy`"), std::string::npos) << md;
  RunReport no_tiers = MakeReport("x", 1.0, false);
  EXPECT_NE(SummaryMarkdown(no_tiers).find("n/a (no cellar_store_* counters on /metrics)"),
            std::string::npos);
}

TEST(CompareMarkdown, ReductionAgainstTheBaseline) {
  std::vector<RunReport> runs = {MakeReport("recompute", 2.0, false), MakeReport("lru", 1.0, true)};
  const std::string md = CompareMarkdown(runs, "recompute");
  EXPECT_NE(md.find("| recompute | 8 | 1 | 325.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 50.0% |"), std::string::npos) << md;  // lru halves the mean TTFT
  EXPECT_NE(md.find("hit pool | hit dram | hit disk | miss |"), std::string::npos) << md;
  const nlohmann::json j = CompareToJson(runs, "recompute");
  EXPECT_DOUBLE_EQ(j["runs"][1]["ttft_mean_reduction"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["runs"][0]["ttft_mean_reduction"].get<double>(), 0.0);
}

bool IsPng(const fs::path& p) {
  const std::string bytes = cellar::testing::ReadFileToString(p);
  return bytes.size() > 1000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

TEST(WritePlots, ThreePngsFromGnuplot) {
  if (!FindProgram("gnuplot").ok()) GTEST_SKIP() << "gnuplot not installed";
  cellar::testing::TempDir tmp;
  std::vector<RunReport> runs = {MakeReport("recompute", 2.0, false), MakeReport("lru", 1.0, true)};
  auto files = WritePlots(tmp.path().string(), runs);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->images.size(), 3u);
  for (const char* png : {"ttft_by_turn.png", "ttft_cdf.png", "hit_rate_by_tier.png"}) {
    EXPECT_TRUE(IsPng(tmp.path() / png)) << png;
  }
  EXPECT_TRUE(fs::exists(tmp.path() / "plots.gp"));
  // Without any tier metrics the hit-rate plot falls back to the usage numbers.
  cellar::testing::TempDir tmp2;
  auto single = WritePlots(tmp2.path().string(), {MakeReport("run", 1.0, false)});
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_TRUE(IsPng(tmp2.path() / "hit_rate_by_tier.png"));
}

TEST(WritePlots, MissingGnuplotIsAnErrorAndTheScriptStays) {
  cellar::testing::TempDir tmp;
  auto files =
      WritePlots(tmp.path().string(), {MakeReport("run", 1.0, false)}, "/nonexistent/gnuplot");
  EXPECT_FALSE(files.ok());
  EXPECT_TRUE(fs::exists(tmp.path() / "plots.gp"));
  EXPECT_TRUE(fs::exists(tmp.path() / "ttft_by_turn.dat"));
}

TEST(FormatProgressLine, BarCountsAndEta) {
  ReplayProgress p;
  p.total_turns = 100;
  p.finished = 25;
  p.in_flight = 3;
  p.errors = 1;
  p.elapsed_s = 10;
  EXPECT_EQ(FormatProgressLine("lru", p, 8),
            "lru [##......] 25/100 turns 25% | 3 in flight | 1 errors | 10.0 s | ETA 30 s");
  p.stopping = true;
  EXPECT_EQ(FormatProgressLine("", p, 4),
            "[#...] 25/100 turns 25% | 3 in flight | 1 errors | 10.0 s | stopping");
}

}  // namespace
}  // namespace cellar::replay
