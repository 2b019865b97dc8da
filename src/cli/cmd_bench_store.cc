// `cellar bench-store -m MODEL [--history 512,1024,2048] [--new 64] [-r 3]`:
// time to first token of a conversation turn whose history (H random tokens)
// is served four ways, plus N new tokens prefilled, on the serving engine.
// Three engines, each starting empty:
//  - pool:  prefix cache on, no store;
//  - DRAM:  no prefix cache, a DRAM-only store;
//  - disk:  no prefix cache, a disk-only store whose chunk files' pages are
//           dropped from the page cache (posix_fadvise DONTNEED) before
//           every turn.
// On each, the first turn (history + new tokens, nothing cached) is a
// recompute sample; the next -r turns (same history, fresh new tokens each
// time, so only the history is reused) are hit samples of that tier. Prints
// the median TTFT per cell (recompute: over the three engines), the ratios to
// recompute and disk / pool, and the time compute spent waiting for loads.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/engine_service_local.h"
#include "engine/kv_store.h"

namespace cellar::cli {
namespace {

struct BenchStoreArgs {
  std::string model;
  std::string histories = "512,1024,2048";
  int n_new = 64;
  int reps = 3;
  int threads = 0;
  int chunk_tokens = 64;
  std::string kv_type = "f16";
  std::string store_dir;  // empty: a temporary folder, removed at the end
  bool json = false;
};

enum class Mode { kRecompute, kPool, kDram, kDisk };
constexpr Mode kModes[] = {Mode::kRecompute, Mode::kPool, Mode::kDram, Mode::kDisk};
constexpr Mode kEngines[] = {Mode::kPool, Mode::kDram, Mode::kDisk};
const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kRecompute:
      return "recompute";
    case Mode::kPool:
      return "pool hit";
    case Mode::kDram:
      return "DRAM hit";
    case Mode::kDisk:
      return "disk hit";
  }
  return "?";
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      out.push_back(std::stoi(item));
    } catch (const std::exception&) {
      return {};
    }
  }
  return out;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Drops the chunk files' pages from the page cache.
void DropPageCache(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".kv") continue;
    const int fd = open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

struct Cell {
  std::vector<double> ttft_s;
  std::vector<double> wait_s;  // compute waiting for layer loads
  std::vector<int> cached;
};

// One turn: prompt -> one generated token; returns its summary.
Result<RequestSummary> Turn(LocalEngineService& engine, std::vector<TokenId> prompt) {
  GenerateRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = 1;
  r.sampling.temperature = 0;
  r.stop_at_eog = false;
  CELLAR_ASSIGN_OR_RETURN(RequestHandle h, engine.Submit(std::move(r)));
  RequestEvents ev;
  for (;;) {
    if (!h.channel().Take(std::chrono::milliseconds(100), &ev)) continue;
    if (ev.summary) {
      if (ev.summary->finish_reason == EndReason::kError) return ev.summary->error;
      return *ev.summary;
    }
  }
}

int RunBenchStore(const BenchStoreArgs& a) {
  const std::vector<int> histories = ParseList(a.histories);
  if (histories.empty() || a.n_new <= 0 || a.reps <= 0) {
    std::fprintf(stderr, "cellar bench-store: bad --history, --new or -r\n");
    return 2;
  }
  std::string dir = a.store_dir;
  const bool temp_dir = dir.empty();
  if (temp_dir) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "cellar-bench-store-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "cellar bench-store: cannot create a temporary folder\n");
      return 1;
    }
    dir = tmpl;
  }
  const int max_h = *std::max_element(histories.begin(), histories.end());
  const int n_ctx = max_h + a.n_new + 64;
  std::mt19937 rng(1234);
  // [mode][history]
  std::vector<std::vector<Cell>> cells(4, std::vector<Cell>(histories.size()));
  std::vector<std::vector<TokenId>> history_tokens;
  auto record = [&](Mode m, size_t hi, const RequestSummary& s, double wait_s) {
    Cell& c = cells[static_cast<size_t>(m)][hi];
    c.ttft_s.push_back(s.ttft_seconds());
    c.cached.push_back(s.n_cached_tokens);
    c.wait_s.push_back(wait_s);
    std::fprintf(stderr,
                 "[bench-store] %s, history %d: TTFT %.1f ms (%d cached, load wait %.1f ms)\n",
                 ModeName(m), histories[hi], c.ttft_s.back() * 1e3, c.cached.back(), wait_s * 1e3);
  };
  for (Mode mode : kEngines) {
    LocalEngineOptions eo;
    eo.model_path = a.model;
    eo.n_threads = a.threads;
    eo.n_ctx = n_ctx;
    eo.kv_type = a.kv_type == "f32" ? KvType::kF32 : KvType::kF16;
    eo.max_running = 4;
    eo.prefix_cache = mode == Mode::kPool;
    std::unique_ptr<KvStore> store;
    if (mode != Mode::kPool) {
      KvStoreOptions so;
      so.store.dir = dir + "/" + (mode == Mode::kDram ? "dram" : "disk");
      so.store.chunk_tokens = a.chunk_tokens;
      so.store.dram_bytes = mode == Mode::kDram ? (8ull << 30) : 0;
      so.store.disk_bytes = mode == Mode::kDisk ? (64ull << 30) : 0;
      eo.extension = KvStoreFactory(so, &store);
    }
    auto engine_or = LocalEngineService::Create(eo);
    if (!engine_or.ok()) {
      std::fprintf(stderr, "cellar bench-store: %s\n", engine_or.status().ToString().c_str());
      return 1;
    }
    LocalEngineService& engine = **engine_or;
    const int n_vocab = engine.model_info().n_vocab;
    auto random_tokens = [&](int n) {
      std::vector<TokenId> t(static_cast<size_t>(n));
      for (auto& x : t) x = static_cast<TokenId>(1 + rng() % static_cast<uint32_t>(n_vocab - 1));
      return t;
    };
    if (history_tokens.empty()) {
      for (int h : histories) history_tokens.push_back(random_tokens(h));
    }
    // Warm-up: weights paged in, kernels dispatched.
    if (auto w = Turn(engine, random_tokens(32)); !w.ok()) {
      std::fprintf(stderr, "cellar bench-store: %s\n", w.status().ToString().c_str());
      return 1;
    }
    for (size_t hi = 0; hi < histories.size(); ++hi) {
      for (int r = 0; r <= a.reps; ++r) {
        std::vector<TokenId> prompt = history_tokens[hi];
        const std::vector<TokenId> fresh = random_tokens(a.n_new);
        prompt.insert(prompt.end(), fresh.begin(), fresh.end());
        if (mode == Mode::kDisk) DropPageCache(dir);
        const int64_t wait0 = store ? store->Metrics().load_wait_ns : 0;
        auto s = Turn(engine, std::move(prompt));
        if (!s.ok()) {
          std::fprintf(stderr, "cellar bench-store: %s\n", s.status().ToString().c_str());
          return 1;
        }
        const double wait = store ? (store->Metrics().load_wait_ns - wait0) * 1e-9 : 0.0;
        record(r == 0 ? Mode::kRecompute : mode, hi, *s, wait);
        if (store) store->Flush();  // the saves land before the next turn
      }
    }
    engine.Stop();
    if (store) store->Close();
  }
  if (temp_dir) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  auto med = [&](Mode m, size_t hi) { return Median(cells[static_cast<size_t>(m)][hi].ttft_s); };
  if (a.json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (size_t hi = 0; hi < histories.size(); ++hi) {
      for (Mode m : kModes) {
        const Cell& c = cells[static_cast<size_t>(m)][hi];
        j.push_back({{"history", histories[hi]},
                     {"new", a.n_new},
                     {"mode", ModeName(m)},
                     {"ttft_ms", c.ttft_s},
                     {"median_ttft_ms", Median(c.ttft_s) * 1e3},
                     {"median_load_wait_ms", Median(c.wait_s) * 1e3},
                     {"cached_tokens", c.cached}});
      }
    }
    std::printf("%s\n", j.dump(1).c_str());
    return 0;
  }
  std::printf("TTFT (median of %d) of a turn: history H + %d new tokens\n\n", a.reps, a.n_new);
  std::printf(
      "| H | recompute | pool hit | DRAM hit | disk hit | DRAM vs recompute | disk vs recompute | "
      "disk / pool | load wait (disk) |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t hi = 0; hi < histories.size(); ++hi) {
    const double rec = med(Mode::kRecompute, hi), pool = med(Mode::kPool, hi),
                 dram = med(Mode::kDram, hi), disk = med(Mode::kDisk, hi);
    std::printf(
        "| %d | %.0f ms | %.0f ms | %.0f ms | %.0f ms | -%.1f%% | -%.1f%% | %.2fx | %.1f ms |\n",
        histories[hi], rec * 1e3, pool * 1e3, dram * 1e3, disk * 1e3, (1 - dram / rec) * 100,
        (1 - disk / rec) * 100, disk / pool,
        Median(cells[static_cast<size_t>(Mode::kDisk)][hi].wait_s) * 1e3);
  }
  return 0;
}

void RegisterBenchStoreCommand(CLI::App& app) {
  auto a = std::make_shared<BenchStoreArgs>();
  auto* cmd = app.add_subcommand(
      "bench-store",
      "Time to first token of a turn served by recompute, the pool, the DRAM and the disk tier");
  cmd->add_option("-m,--model", a->model, "GGUF model file")->required();
  cmd->add_option("--history", a->histories, "History lengths (comma list)")->capture_default_str();
  cmd->add_option("--new", a->n_new, "New tokens per turn")->capture_default_str();
  cmd->add_option("-r,--reps", a->reps, "Repetitions per cell (median reported)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Compute threads (0: physical cores)")
      ->capture_default_str();
  cmd->add_option("--store-chunk-tokens", a->chunk_tokens, "Tokens per stored chunk")
      ->capture_default_str();
  cmd->add_option("--kv-type", a->kv_type, "KV element type")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
  cmd->add_option("--store-dir", a->store_dir, "Store folder (default: a temporary one)");
  cmd->add_flag("--json", a->json, "JSON output");
  cmd->callback([a] { Exit(RunBenchStore(*a)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(62, RegisterBenchStoreCommand);

}  // namespace cellar::cli
