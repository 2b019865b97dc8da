// `cellar replay`: replays multi-turn conversations against an OpenAI-compatible
// server and measures time to first token turn by turn; `--compare` starts `cellar
// serve` in each cache configuration and tabulates them. See docs/BENCHMARKS.md.
#include <signal.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "replay/replay_command.h"

namespace cellar::cli {
namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

// First Ctrl-C (or SIGTERM): stop sending, finish or cancel what is in flight, write
// the results. A second one: the default action (exit at once).
void OnSignal(int sig) {
  if (g_stop.exchange(true)) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void RegisterReplayCommand(CLI::App& app) {
  auto o = std::make_shared<replay::ReplayCommandOptions>();
  auto think_dist = std::make_shared<std::string>("fixed");
  auto extra = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Replay multi-turn conversations against an OpenAI-compatible server and measure TTFT "
      "turn by turn (--compare: every Cellar cache configuration side by side)");
  cmd->footer(
      "Outputs in --out: requests.json, summary.md, *.png (compare: compare.md too). "
      "See docs/BENCHMARKS.md.");

  // Target.
  cmd->add_option("--url", o->replay.url, "Base URL of the server (POST <url>/v1/chat/completions)")
      ->capture_default_str()
      ->group("Target");
  cmd->add_option("--model", o->replay.model, "Model name sent in each request")
      ->capture_default_str()
      ->group("Target");
  cmd->add_option("--api-key", o->replay.api_key, "Sent as 'Authorization: Bearer KEY'")
      ->envname("CELLAR_API_KEY")
      ->group("Target");
  cmd->add_option("--timeout", o->replay.request_timeout_s, "Per-request timeout, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Target");
  cmd->add_option("--connect-timeout", o->replay.connect_timeout_s, "Connect timeout, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Target");
  cmd->add_flag("!--no-metrics", o->scrape_metrics,
                "Do not read <url>/metrics before and after the run")
      ->group("Target");

  // Workload.
  cmd->add_option("--sharegpt", o->sharegpt_path,
                  "ShareGPT JSON file ([{id, conversations:[{from, value}]}]); default: synthetic")
      ->check(CLI::ExistingFile)
      ->group("Workload");
  cmd->add_option("--conversations", o->filter.max_conversations,
                  "Conversations to replay (0 = all; synthetic: 100)")
      ->capture_default_str()
      ->group("Workload");
  cmd->add_option("--max-turns", o->filter.max_turns,
                  "Keep at most N turns per conversation (0 = all)")
      ->capture_default_str()
      ->group("Workload");
  cmd->add_option("--min-turns", o->filter.min_turns, "Drop conversations with fewer turns")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Workload");
  cmd->add_option("--max-prompt-chars", o->filter.max_prompt_chars,
                  "Cut a conversation before the first turn whose prompt is longer (0 = no limit)")
      ->capture_default_str()
      ->group("Workload");
  cmd->add_option("--max-prompt-tokens", o->filter.max_prompt_tokens,
                  "The same in estimated tokens (chars / --chars-per-token)")
      ->capture_default_str()
      ->group("Workload");
  cmd->add_option("--chars-per-token", o->filter.chars_per_token,
                  "Characters per token for estimates (filter, KV sizing)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Workload");
  cmd->add_option("--system-prompt", o->filter.default_system,
                  "System prompt for conversations without one")
      ->group("Workload");
  cmd->add_flag("--shuffle", o->filter.shuffle,
                "Shuffle conversations (with --seed) before taking N")
      ->group("Workload");
  cmd->add_option("--syn-min-turns", o->synthetic.min_turns, "Synthetic: fewest turns")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Synthetic workload");
  cmd->add_option("--syn-max-turns", o->synthetic.max_turns, "Synthetic: most turns")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Synthetic workload");
  cmd->add_option("--syn-user-words", o->synthetic.user_words_median,
                  "Synthetic: median user words")
      ->capture_default_str()
      ->group("Synthetic workload");
  cmd->add_option("--syn-user-sigma", o->synthetic.user_words_sigma, "Synthetic: lognormal sigma")
      ->capture_default_str()
      ->group("Synthetic workload");
  cmd->add_option("--syn-assistant-words", o->synthetic.assistant_words_median,
                  "Synthetic: median assistant words")
      ->capture_default_str()
      ->group("Synthetic workload");
  cmd->add_option("--syn-assistant-sigma", o->synthetic.assistant_words_sigma,
                  "Synthetic: lognormal sigma")
      ->capture_default_str()
      ->group("Synthetic workload");
  cmd->add_option("--syn-system-words", o->synthetic.system_words,
                  "Synthetic: words of the shared system prompt (0 = none)")
      ->capture_default_str()
      ->group("Synthetic workload");

  // Schedule.
  cmd->add_option(
         "--concurrency", o->replay.concurrency,
         "Sessions in progress at once (a closed loop of N users; 0 = unbounded, needs --rate)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Schedule");
  cmd->add_option("--rate", o->replay.session_rate,
                  "New sessions per second, Poisson arrivals (0 = all at once)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Schedule");
  cmd->add_option("--think-time", o->replay.think_time_s,
                  "Seconds between the end of a turn and the next turn of its session")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Schedule");
  cmd->add_option("--think-dist", *think_dist, "Think time: fixed, or exp (exponential, that mean)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fixed", "exp"}))
      ->group("Schedule");
  cmd->add_option("--seed", o->replay.seed,
                  "Seed of arrivals, think times, shuffle, synthetic workload")
      ->capture_default_str()
      ->group("Schedule");
  cmd->add_option("--warmup-turns", o->replay.warmup_turns,
                  "The first N requests sent are warm-up, excluded from the summary")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Schedule");
  cmd->add_option("--duration", o->replay.duration_s, "Stop sending after S seconds (0 = no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Schedule");
  cmd->add_option("--drain-timeout", o->replay.drain_timeout_s,
                  "After a stop (Ctrl-C, --duration): seconds to let requests in flight finish")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Schedule");

  // Request.
  cmd->add_option("--max-tokens", o->replay.max_tokens, "max_tokens of each answer (0 = not sent)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber)
      ->group("Request");
  cmd->add_flag("--session-id", o->replay.send_session_id,
                "Send a stable id per conversation in the field --session-field")
      ->group("Request");
  cmd->add_option("--session-field", o->replay.session_field, "Name of the session id field")
      ->capture_default_str()
      ->group("Request");
  cmd->add_option("--extra", *extra,
                  "JSON object merged into every request, e.g. '{\"cache_prompt\":true}'")
      ->group("Request");

  // Output.
  cmd->add_option("--out", o->out_dir, "Output directory")->capture_default_str()->group("Output");
  cmd->add_option("--label", o->label, "Name of this run in reports and plots")
      ->capture_default_str()
      ->group("Output");
  cmd->add_flag("!--no-plots", o->plots, "Do not draw PNG plots")->group("Output");
  cmd->add_option("--gnuplot", o->gnuplot, "gnuplot program")
      ->capture_default_str()
      ->group("Output");
  cmd->add_option("--progress", o->progress,
                  "Progress bar on stderr: auto (when a terminal), always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->group("Output");

  // Sizing.
  cmd->add_flag("--estimate-kv", o->estimate_kv,
                "Print the workload's KV size and suggested tier sizes, then exit")
      ->group("Tier sizing");
  cmd->add_option("--kv-shape", o->kv_shape,
                  "Model KV shape L,H,D[,B]: layers, KV heads, head dim, bytes per element (2)")
      ->group("Tier sizing");
  cmd->add_option("--kv-bytes-per-token", o->kv_bytes_per_token,
                  "KV bytes per token (overrides --kv-shape)")
      ->group("Tier sizing");
  cmd->add_option("--dram-fraction", o->dram_fraction,
                  "Share of the workload's KV that DRAM should hold")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->group("Tier sizing");
  cmd->add_option("--pool-requests", o->pool_requests,
                  "Running requests (of the largest conversation) the suggested pool holds")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20))
      ->group("Tier sizing");
  cmd->add_flag("--auto-size", o->auto_size,
                "--compare: add the suggested --kv-mem/--store-dram/--store-disk to the serve args")
      ->group("Tier sizing");

  // Compare.
  cmd->add_flag("--compare", o->compare,
                "Start `cellar serve` in each configuration in turn, replay, tabulate")
      ->group("Compare");
  cmd->add_option("--configs", o->configs,
                  "Configurations: all, or a list of recompute,pool,dram,lru,fifo,scheduler")
      ->capture_default_str()
      ->group("Compare");
  cmd->add_option("--serve-args", o->serve_args,
                  "Options passed to every `cellar serve`, e.g. \"-m M --kv-mem X -t 2\"")
      ->group("Compare");
  cmd->add_option(
         "--server-cmd", o->server_cmd,
         "Command that stands for `cellar` (default: this binary); 'serve ...' is appended")
      ->group("Compare");
  cmd->add_option("--store-tmp", o->store_tmp,
                  "Parent of the fresh --store-dir of each configuration")
      ->group("Compare");
  cmd->add_flag("--keep-store", o->keep_store, "Keep each configuration's store dir")
      ->group("Compare");
  cmd->add_option("--server-start-timeout", o->server_start_timeout_s,
                  "Seconds to wait for GET /health")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Compare");
  cmd->add_option("--server-stop-timeout", o->server_stop_timeout_s,
                  "Seconds between SIGTERM and SIGKILL")
      ->capture_default_str()
      ->group("Compare");

  cmd->callback([o, think_dist, extra] {
    o->replay.think_dist =
        *think_dist == "exp" ? replay::ThinkTimeDist::kExponential : replay::ThinkTimeDist::kFixed;
    if (!extra->empty()) {
      nlohmann::json j = nlohmann::json::parse(*extra, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object()) {
        throw CLI::ValidationError("--extra", "must be a JSON object");
      }
      o->replay.extra = std::move(j);
    }
    if (o->sharegpt_path.empty() && o->filter.max_conversations > 0) {
      o->synthetic.n_conversations = o->filter.max_conversations;
    }
    o->filter.seed = o->replay.seed;
    o->synthetic.seed = o->replay.seed;
    if (o->synthetic.min_turns > o->synthetic.max_turns) {
      throw CLI::ValidationError("--syn-min-turns", "must not exceed --syn-max-turns");
    }
    InstallSignalHandlers();
    Exit(replay::RunReplayCommand(*o, &g_stop));
  });
}

}  // namespace

CELLAR_REGISTER_COMMAND(60, RegisterReplayCommand);

}  // namespace cellar::cli
