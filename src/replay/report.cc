#include "replay/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <set>

namespace cellar::replay {
namespace {

// Milliseconds with one decimal, or "n/a".
std::string Ms(double seconds) {
  return std::isnan(seconds) ? "n/a" : fmt::format("{:.1f}", seconds * 1e3);
}
std::string Pct(double fraction) {
  return std::isnan(fraction) ? "n/a" : fmt::format("{:.1f}%", fraction * 100);
}
std::string Num(double x, int decimals = 1) {
  return std::isnan(x) ? "n/a" : fmt::format("{:.{}f}", x, decimals);
}

nlohmann::json DistributionJson(const Distribution& d) {
  return {{"n", d.n},     {"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90},
          {"p99", d.p99}, {"min", d.min},   {"max", d.max}};
}

nlohmann::json RecordJson(const RequestRecord& r) {
  nlohmann::json j = {{"conversation", r.conversation},
                      {"conversation_id", r.conversation_id},
                      {"turn", r.turn},
                      {"warmup", r.warmup},
                      {"prompt_chars", r.prompt_chars},
                      {"n_messages", r.n_messages},
                      {"t_send", r.t_send},
                      {"ttft_s", r.ttft_s < 0 ? nlohmann::json() : nlohmann::json(r.ttft_s)},
                      {"e2e_s", r.e2e_s},
                      {"tpot_s", r.tpot_s < 0 ? nlohmann::json() : nlohmann::json(r.tpot_s)},
                      {"http_status", r.http_status},
                      {"ok", r.ok()},
                      {"cancelled", r.cancelled},
                      {"finish_reason", r.finish_reason},
                      {"content_chunks", r.content_chunks},
                      {"output_chars", r.output_chars},
                      {"reconnects", r.reconnects}};
  const auto opt = [](int64_t v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); };
  j["prompt_tokens"] = opt(r.prompt_tokens);
  j["completion_tokens"] = opt(r.completion_tokens);
  j["cached_tokens"] = opt(r.cached_tokens);
  if (!r.session_id.empty()) j["session_id"] = r.session_id;
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

nlohmann::json SummaryJson(const RunSummary& s) {
  nlohmann::json by_turn = nlohmann::json::array();
  const auto& buckets = TurnBuckets();
  for (size_t b = 0; b < buckets.size(); ++b) {
    nlohmann::json d = DistributionJson(s.ttft_by_turn_s[b]);
    d["turns"] = buckets[b].label;
    by_turn.push_back(std::move(d));
  }
  return {{"n_records", s.n_records},
          {"n_measured", s.n_measured},
          {"n_warmup", s.n_warmup},
          {"n_errors", s.n_errors},
          {"n_cancelled", s.n_cancelled},
          {"n_no_token", s.n_no_token},
          {"errors", s.errors},
          {"ttft_s", DistributionJson(s.ttft_s)},
          {"ttft_by_turn_s", std::move(by_turn)},
          {"e2e_s", DistributionJson(s.e2e_s)},
          {"tpot_s", DistributionJson(s.tpot_s)},
          {"prompt_tokens", s.prompt_tokens},
          {"cached_tokens", s.cached_tokens},
          {"completion_tokens", s.completion_tokens},
          {"n_with_usage", s.n_with_usage},
          {"n_with_cached", s.n_with_cached},
          {"prefill_tokens_per_s", s.prefill_tokens_per_s},
          {"cached_share", s.cached_share},
          {"window_s", s.window_s},
          {"requests_per_s", s.requests_per_s},
          {"output_tokens_per_s", s.output_tokens_per_s}};
}

nlohmann::json TiersJson(const std::optional<TierCounts>& t, const std::string& note) {
  if (!t) return {{"available", false}, {"note", note}};
  nlohmann::json hits = nlohmann::json::object();
  nlohmann::json rates = nlohmann::json::object();
  for (const auto& [tier, n] : t->hit_tokens) {
    hits[tier] = n;
    rates[tier] = t->HitRate(tier);
  }
  return {{"available", true},
          {"hit_tokens", hits},
          {"miss_tokens", t->miss_tokens},
          {"hit_rate", rates},
          {"total_hit_rate", t->TotalHitRate()}};
}

nlohmann::json OptionsJson(const ReplayOptions& o) {
  return {{"url", o.url},
          {"model", o.model},
          {"concurrency", o.concurrency},
          {"session_rate", o.session_rate},
          {"think_time_s", o.think_time_s},
          {"think_dist", o.think_dist == ThinkTimeDist::kFixed ? "fixed" : "exp"},
          {"seed", o.seed},
          {"warmup_turns", o.warmup_turns},
          {"duration_s", o.duration_s},
          {"max_tokens", o.max_tokens},
          {"send_session_id", o.send_session_id},
          {"session_field", o.session_field},
          {"extra", o.extra},
          {"request_timeout_s", o.request_timeout_s}};
}

const RunReport* FindRun(const std::vector<RunReport>& runs, const std::string& label) {
  for (const RunReport& r : runs) {
    if (r.label == label) return &r;
  }
  return nullptr;
}

// 1 - x / base, or NaN.
double Reduction(double x, double base) {
  if (std::isnan(x) || std::isnan(base) || base <= 0) return std::nan("");
  return 1.0 - x / base;
}

}  // namespace

std::vector<std::string> TiersSeen(const std::vector<RunReport>& runs) {
  std::vector<std::string> order = {"pool", "dram", "disk"};
  std::set<std::string> seen;
  for (const RunReport& r : runs) {
    if (!r.tiers) continue;
    for (const auto& [tier, n] : r.tiers->hit_tokens) seen.insert(tier);
  }
  std::vector<std::string> out;
  for (const std::string& t : order) {
    if (seen.count(t)) out.push_back(t);
  }
  for (const std::string& t : seen) {
    if (std::find(order.begin(), order.end(), t) == order.end()) out.push_back(t);
  }
  return out;
}

void DescribeWorkload(const Workload& w, RunReport* r) {
  r->workload_source = w.source;
  r->n_conversations = static_cast<int64_t>(w.conversations.size());
  r->n_turns = w.TotalTurns();
  r->skipped = w.skipped;
  r->adjusted = w.adjusted;
}

std::string UtcNowIso8601() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json ReportToJson(const RunReport& r) {
  nlohmann::json requests = nlohmann::json::array();
  for (const RequestRecord& rec : r.result.records) requests.push_back(RecordJson(rec));
  nlohmann::json j = {{"format", "cellar-replay"},
                      {"version", 1},
                      {"label", r.label},
                      {"started_at", r.started_at},
                      {"wall_s", r.result.wall_s},
                      {"interrupted", r.result.interrupted},
                      {"options", OptionsJson(r.options)},
                      {"workload",
                       {{"source", r.workload_source},
                        {"conversations", r.n_conversations},
                        {"turns", r.n_turns},
                        {"skipped", r.skipped},
                        {"adjusted", r.adjusted}}},
                      {"summary", SummaryJson(r.summary)},
                      {"store_tiers", TiersJson(r.tiers, r.metrics_note)},
                      {"requests", std::move(requests)}};
  if (!r.server_command.empty()) {
    j["server_command"] = r.server_command;
    j["server_exit_status"] = r.server_exit_status;
    j["server_killed"] = r.server_killed;
  }
  return j;
}

std::string SummaryMarkdown(const RunReport& r) {
  const RunSummary& s = r.summary;
  const ReplayOptions& o = r.options;
  std::string md = fmt::format("# Replay: {}\n\n", r.label);
  md += fmt::format("- Target: {} (model `{}`){}\n", o.url, o.model,
                    r.server_command.empty() ? "" : ", started as `" + r.server_command + "`");
  md += fmt::format("- Workload: {}: {} conversations, {} turns", r.workload_source,
                    r.n_conversations, r.n_turns);
  int64_t skipped = 0;
  for (const auto& [reason, n] : r.skipped) skipped += n;
  if (skipped > 0) {
    md += fmt::format(" ({} skipped:", skipped);
    for (const auto& [reason, n] : r.skipped) md += fmt::format(" {} {}", reason, n);
    md += ")";
  }
  md += "\n";
  md += fmt::format(
      "- Schedule: concurrency {}, session rate {}, think time {} s ({}), max_tokens {}, "
      "warm-up turns {}, session ids {}, seed {}\n",
      o.concurrency == 0 ? std::string("unbounded") : std::to_string(o.concurrency),
      o.session_rate > 0 ? fmt::format("{}/s (Poisson)", o.session_rate)
                         : std::string("all at once"),
      o.think_time_s, o.think_dist == ThinkTimeDist::kFixed ? "fixed" : "exponential", o.max_tokens,
      o.warmup_turns, o.send_session_id ? "on" : "off", o.seed);
  if (!o.extra.empty()) md += fmt::format("- Extra request fields: `{}`\n", o.extra.dump());
  md += fmt::format("- Started {}, wall time {:.1f} s{}\n\n", r.started_at, r.result.wall_s,
                    r.result.interrupted ? ", **interrupted** (partial results)" : "");

  md += "| requests | measured | warm-up | errors | cancelled | no token |\n";
  md += "|---:|---:|---:|---:|---:|---:|\n";
  md += fmt::format("| {} | {} | {} | {} | {} | {} |\n\n", s.n_records, s.n_measured, s.n_warmup,
                    s.n_errors, s.n_cancelled, s.n_no_token);

  md += "## Time to first token (ms)\n\n| turn | n | mean | p50 | p90 | p99 |\n";
  md += "|---|---:|---:|---:|---:|---:|\n";
  const auto row = [](const std::string& name, const Distribution& d) {
    return fmt::format("| {} | {} | {} | {} | {} | {} |\n", name, d.n, Ms(d.mean), Ms(d.p50),
                       Ms(d.p90), Ms(d.p99));
  };
  md += row("all", s.ttft_s);
  for (size_t b = 0; b < TurnBuckets().size(); ++b) {
    md += row(TurnBuckets()[b].label, s.ttft_by_turn_s[b]);
  }
  md += "\n## Latency and throughput\n\n";
  md += "| metric | value |\n|---|---:|\n";
  md += fmt::format("| end-to-end latency mean / p99 (ms) | {} / {} |\n", Ms(s.e2e_s.mean),
                    Ms(s.e2e_s.p99));
  md += fmt::format("| time per output token mean (ms) | {} |\n", Ms(s.tpot_s.mean));
  md += fmt::format("| prefill throughput (prompt tokens / s of TTFT) | {} |\n",
                    Num(s.prefill_tokens_per_s));
  md += fmt::format("| prompt tokens served from cache (usage) | {} |\n", Pct(s.cached_share));
  md += fmt::format("| requests / s | {} |\n", Num(s.requests_per_s, 2));
  md += fmt::format("| output tokens / s | {} |\n", Num(s.output_tokens_per_s));
  md += fmt::format("| prompt / cached / completion tokens | {} / {} / {} |\n\n", s.prompt_tokens,
                    s.cached_tokens, s.completion_tokens);

  md += "## Store hit rate by tier (server /metrics)\n\n";
  if (!r.tiers) {
    md += fmt::format("n/a{}\n\n", r.metrics_note.empty() ? "" : " (" + r.metrics_note + ")");
  } else {
    md += "| tier | tokens | share of prompt tokens |\n|---|---:|---:|\n";
    for (const std::string& tier : TiersSeen({r})) {
      md += fmt::format("| {} | {:.0f} | {} |\n", tier, r.tiers->hit_tokens.at(tier),
                        Pct(r.tiers->HitRate(tier)));
    }
    md += fmt::format("| miss (computed) | {:.0f} | {} |\n", r.tiers->miss_tokens,
                      Pct(r.tiers->TotalTokens() > 0 ? r.tiers->miss_tokens / r.tiers->TotalTokens()
                                                     : std::nan("")));
    md += "\n";
  }
  if (!s.errors.empty()) {
    md += "## Errors\n\n";
    for (const auto& [msg, n] : s.errors) md += fmt::format("- {} x `{}`\n", n, msg);
    md += "\n";
  }
  return md;
}

std::string CompareMarkdown(const std::vector<RunReport>& runs, const std::string& baseline) {
  const RunReport* base = baseline.empty() ? nullptr : FindRun(runs, baseline);
  const std::vector<std::string> tiers = TiersSeen(runs);
  std::string md =
      "| configuration | measured | errors | TTFT mean (ms) | TTFT p99 (ms) | TTFT mean "
      "reduction vs " +
      (base != nullptr ? baseline : std::string("baseline")) +
      " | prefill tok/s | cached (usage) |";
  for (const std::string& t : tiers) md += " hit " + t + " |";
  md += " miss |\n|---|---:|---:|---:|---:|---:|---:|---:|";
  for (size_t i = 0; i < tiers.size(); ++i) md += "---:|";
  md += "---:|\n";
  for (const RunReport& r : runs) {
    const RunSummary& s = r.summary;
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |", r.label, s.n_measured,
                      s.n_errors, Ms(s.ttft_s.mean), Ms(s.ttft_s.p99),
                      base != nullptr ? Pct(Reduction(s.ttft_s.mean, base->summary.ttft_s.mean))
                                      : std::string("n/a"),
                      Num(s.prefill_tokens_per_s), Pct(s.cached_share));
    for (const std::string& t : tiers)
      md += " " + (r.tiers ? Pct(r.tiers->HitRate(t)) : "n/a") + " |";
    md +=
        " " +
        (r.tiers && r.tiers->TotalTokens() > 0 ? Pct(r.tiers->miss_tokens / r.tiers->TotalTokens())
                                               : std::string("n/a")) +
        " |\n";
  }
  md += "\nMean TTFT (ms) by turn index:\n\n| configuration |";
  for (const TurnBucket& b : TurnBuckets()) md += fmt::format(" turn {} |", b.label);
  md += "\n|---|";
  for (size_t i = 0; i < TurnBuckets().size(); ++i) md += "---:|";
  md += "\n";
  for (const RunReport& r : runs) {
    md += "| " + r.label + " |";
    for (const Distribution& d : r.summary.ttft_by_turn_s) md += " " + Ms(d.mean) + " |";
    md += "\n";
  }
  return md;
}

nlohmann::json CompareToJson(const std::vector<RunReport>& runs, const std::string& baseline) {
  const RunReport* base = baseline.empty() ? nullptr : FindRun(runs, baseline);
  nlohmann::json out = nlohmann::json::array();
  for (const RunReport& r : runs) {
    nlohmann::json j = {{"label", r.label},
                        {"interrupted", r.result.interrupted},
                        {"summary", SummaryJson(r.summary)},
                        {"store_tiers", TiersJson(r.tiers, r.metrics_note)}};
    if (!r.server_command.empty()) j["server_command"] = r.server_command;
    if (base != nullptr) {
      j["ttft_mean_reduction"] = Reduction(r.summary.ttft_s.mean, base->summary.ttft_s.mean);
      j["ttft_p99_reduction"] = Reduction(r.summary.ttft_s.p99, base->summary.ttft_s.p99);
    }
    out.push_back(std::move(j));
  }
  return {{"format", "cellar-replay-compare"},
          {"version", 1},
          {"baseline", baseline},
          {"runs", std::move(out)}};
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot write " + path);
  out << text;
  out.close();
  if (!out) return IoError("error writing " + path);
  return OkStatus();
}

}  // namespace cellar::replay
