// `cellar bench -m MODEL [-p 512] [-n 128] [-r 3] [-t 2] [--json]`: prompt
// processing (pp) and generation (tg) speed, measured like llama.cpp's
// llama-bench so the two can be compared row by row:
//  - ppN: N random tokens (BOS first) prefilled from an empty cache, in steps of
//    -b tokens; t/s = N / time.
//  - tgN: N tokens decoded one at a time from an empty cache (BOS first, then
//    random tokens; no sampling); t/s = N / time.
// Each test runs once to warm up, then -r times; the table shows mean ± sd of
// the per-repetition t/s. -p, -n and -t accept comma lists (-p 128,512).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cmd_generate_options.h"
#include "cli/commands.h"

namespace cellar::cli {
namespace {

struct BenchArgs {
  std::string model;
  std::string prompts = "512";
  std::string gens = "128";
  std::string threads;
  int reps = 5;
  int batch = 512;
  std::string kv_type = "f16";
  bool json = false;
};

Result<std::vector<int>> ParseList(const std::string& s, const char* flag) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      return InvalidArgument(std::string(flag) + ": '" + item + "' is not a count >= 0");
    }
  }
  return out;
}

struct TestResult {
  std::string name;  // pp512 / tg128
  int n_prompt = 0, n_gen = 0, threads = 0;
  std::vector<double> samples_ns;
  double MeanTs() const {
    double s = 0;
    for (double ns : samples_ns) s += Tokens() / (ns / 1e9);
    return s / static_cast<double>(samples_ns.size());
  }
  double SdTs() const {
    if (samples_ns.size() < 2) return 0.0;
    const double mean = MeanTs();
    double s = 0;
    for (double ns : samples_ns) {
      const double d = Tokens() / (ns / 1e9) - mean;
      s += d * d;
    }
    return std::sqrt(s / static_cast<double>(samples_ns.size() - 1));
  }
  double Tokens() const { return n_prompt > 0 ? n_prompt : n_gen; }
};

std::string HumanBytes(int64_t b) {
  char buf[64];
  const double d = static_cast<double>(b);
  if (d >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", d / (1024.0 * 1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f MiB", d / (1024.0 * 1024));
  }
  return buf;
}

std::string HumanParams(int64_t n) {
  char buf[64];
  const double d = static_cast<double>(n);
  if (d >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.2f B", d / 1e9);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f M", d / 1e6);
  }
  return buf;
}

double NowNs() {
  return std::chrono::duration<double, std::nano>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One timed run; returns nanoseconds.
Result<double> RunOnce(LocalSession& s, int n_prompt, int n_gen, int32_t bos, std::mt19937& rng) {
  const int32_t n_vocab = s.forward().n_vocab();
  auto random_token = [&] { return static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab)); };
  s.Truncate(0);
  if (n_prompt > 0) {
    std::vector<int32_t> tokens(static_cast<size_t>(n_prompt));
    for (auto& t : tokens) t = random_token();
    if (bos >= 0) tokens[0] = bos;
    const double t0 = NowNs();
    auto r = s.Feed(tokens);
    if (!r.ok()) return r.status();
    return NowNs() - t0;
  }
  int32_t token = bos >= 0 ? bos : random_token();
  const double t0 = NowNs();
  for (int i = 0; i < n_gen; ++i) {
    const int32_t one[1] = {token};
    auto r = s.Feed(one);
    if (!r.ok()) return r.status();
    token = random_token();
  }
  return NowNs() - t0;
}

int RunBench(const BenchArgs& args) {
  auto prompts = ParseList(args.prompts, "-p");
  auto gens = ParseList(args.gens, "-n");
  auto threads = ParseList(
      args.threads.empty() ? std::to_string(ThreadPool::PhysicalCores()) : args.threads, "-t");
  for (const auto* r : {&prompts, &gens, &threads}) {
    if (!r->ok()) return ReportError("bench", r->status());
  }
  if (args.reps < 1) return ReportError("bench", InvalidArgument("-r must be >= 1"));
  auto model = Model::Load(args.model);
  if (!model.ok()) return ReportError("bench", model.status());
  int32_t bos = -1;
  if (auto tok = Tokenizer::FromGguf((*model)->gguf()); tok.ok() && (*tok)->vocab().add_bos()) {
    bos = (*tok)->vocab().bos();
  }
  int max_len = 1;
  for (int p : *prompts) max_len = std::max(max_len, p);
  for (int n : *gens) max_len = std::max(max_len, n);

  std::vector<TestResult> results;
  const std::string desc = (*model)->Describe();
  if (!args.json) {
    std::printf("| %-30s | %10s | %10s | %-10s | %7s | %13s | %20s |\n", "model", "size", "params",
                "backend", "threads", "test", "t/s");
    std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", std::string(30, '-').c_str(),
                "---------:", "---------:", "----------",
                "------:", "------------:", "-------------------:");
    std::fflush(stdout);
  }
  for (int t : *threads) {
    if (t < 1) return ReportError("bench", InvalidArgument("-t must be >= 1"));
    ThreadPool pool(t);
    LocalSessionOptions o;
    o.n_ctx = max_len;
    o.kv_type = args.kv_type == "f32" ? KvType::kF32 : KvType::kF16;
    o.max_batch_tokens = args.batch;
    auto session = LocalSession::Create(**model, &pool, o);
    if (!session.ok()) return ReportError("bench", session.status());
    std::mt19937 rng(42);
    std::vector<std::pair<int, int>> tests;
    for (int p : *prompts) {
      if (p > 0) tests.emplace_back(p, 0);
    }
    for (int n : *gens) {
      if (n > 0) tests.emplace_back(0, n);
    }
    for (const auto& [p, n] : tests) {
      TestResult r;
      r.name = p > 0 ? "pp" + std::to_string(p) : "tg" + std::to_string(n);
      r.n_prompt = p;
      r.n_gen = n;
      r.threads = t;
      auto warm = RunOnce(**session, p, p > 0 ? 0 : 1, bos, rng);
      if (!warm.ok()) return ReportError("bench", warm.status());
      for (int i = 0; i < args.reps; ++i) {
        auto ns = RunOnce(**session, p, n, bos, rng);
        if (!ns.ok()) return ReportError("bench", ns.status());
        r.samples_ns.push_back(*ns);
      }
      if (!args.json) {
        char ts[64];
        std::snprintf(ts, sizeof(ts), "%.2f ± %.2f", r.MeanTs(), r.SdTs());
        std::printf("| %-30s | %10s | %10s | %-10s | %7d | %13s | %20s |\n", desc.c_str(),
                    HumanBytes((*model)->n_bytes()).c_str(),
                    HumanParams((*model)->n_params()).c_str(), "CPU", t, r.name.c_str(), ts);
        std::fflush(stdout);
      }
      results.push_back(std::move(r));
    }
  }
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json j;
      j["model_filename"] = args.model;
      j["model_type"] = desc;
      j["model_size"] = (*model)->n_bytes();
      j["model_n_params"] = (*model)->n_params();
      j["backends"] = "CPU";
      j["n_batch"] = args.batch;
      j["n_threads"] = r.threads;
      j["type_k"] = args.kv_type;
      j["type_v"] = args.kv_type;
      j["n_prompt"] = r.n_prompt;
      j["n_gen"] = r.n_gen;
      j["test"] = r.name;
      double mean_ns = 0;
      for (double ns : r.samples_ns) mean_ns += ns;
      mean_ns /= static_cast<double>(r.samples_ns.size());
      j["avg_ns"] = static_cast<int64_t>(mean_ns);
      j["avg_ts"] = r.MeanTs();
      j["stddev_ts"] = r.SdTs();
      j["samples_ns"] = r.samples_ns;
      std::vector<double> ts;
      for (double ns : r.samples_ns) ts.push_back(r.Tokens() / (ns / 1e9));
      j["samples_ts"] = ts;
      out.push_back(j);
    }
    std::printf("%s\n", out.dump(2).c_str());
  }
  return 0;
}

void RegisterBenchCommand(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd =
      app.add_subcommand("bench", "Prompt (pp) and generation (tg) speed, llama-bench style");
  cmd->add_option("-m,--model", args->model, "GGUF model file")->required();
  cmd->add_option("-p,--n-prompt", args->prompts, "Prompt lengths, comma separated (0 = none)");
  cmd->add_option("-n,--n-gen", args->gens, "Generation lengths, comma separated (0 = none)");
  cmd->add_option("-t,--threads", args->threads,
                  "Thread counts, comma separated (default: physical cores)");
  cmd->add_option("-r,--repetitions", args->reps, "Timed repetitions per test");
  cmd->add_option("-b,--batch", args->batch, "Prompt tokens per forward step")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type: f16 or f32")
      ->check(CLI::IsMember({"f16", "f32"}));
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  cmd->callback([args] { Exit(RunBench(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(24, RegisterBenchCommand);

}  // namespace cellar::cli
