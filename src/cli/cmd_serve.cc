// cellar serve: the OpenAI-compatible HTTP server (docs/SERVER.md).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/store_flags.h"
#include "engine/engine_service_local.h"
#include "server/api_key_auth.h"
#include "server/api_server.h"

namespace cellar::cli {
namespace {

struct ServeArgs {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;
  std::string kv_mem;
  int block_size = 16;
  int max_batch_tokens = 512;
  int max_running = 64;
  int ctx = 0;
  std::string kv_type = "f16";
  bool no_prefix_cache = false;
  std::string max_body = "8M";
  int max_queue = 1024;
  std::vector<std::string> api_keys;
  std::string api_key_file;
  std::string tenant;
  double shutdown_grace = 10.0;
  int test_step_delay_ms = 0;
  StoreFlags store;  // --store-*, --n-keep, --overflow (cli/store_flags.h)
};

constexpr const char* kDefaultModel = "../shared/models/stories260K.gguf";

// "123", "64K", "512M", "2G" (binary units) -> bytes.
std::optional<size_t> ParseBytes(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  unsigned long long v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    v = v * 10 + static_cast<unsigned long long>(s[i] - '0');
    if (v > (1ull << 50)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = s.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'I') unit.pop_back();  // KiB, MiB, GiB
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  return static_cast<size_t>(v) << shift;
}

// The default model: ../shared/models/stories260K.gguf from the current
// directory, else from the repository root (two levels above build/<preset>/cellar).
std::optional<std::string> FindDefaultModel() {
  std::vector<std::filesystem::path> candidates{kDefaultModel};
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path() / "../.." / kDefaultModel);
  for (const auto& p : candidates) {
    if (std::filesystem::is_regular_file(p, ec)) {
      return std::filesystem::weakly_canonical(p, ec).string();
    }
  }
  return std::nullopt;
}

int RunServe(const ServeArgs& a) {
  // Block SIGINT/SIGTERM in every thread (those started below inherit the
  // mask); one watcher thread takes them with sigtimedwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string model = a.model;
  if (model.empty()) {
    std::optional<std::string> found = FindDefaultModel();
    if (!found) {
      std::fprintf(stderr,
                   "cellar serve: no model given, and the default model (%s, relative to the "
                   "repository root or the current directory) is not there.\n"
                   "Pass one with: cellar serve -m path/to/model.gguf\n",
                   kDefaultModel);
      return 2;
    }
    model = *found;
    CELLAR_LOG_INFO("no -m given: serving the default model {}", model);
  }
  LocalEngineOptions eo;
  eo.model_path = model;
  eo.n_threads = a.threads;
  if (!a.kv_mem.empty()) {
    std::optional<size_t> b = ParseBytes(a.kv_mem);
    if (!b) {
      std::fprintf(stderr, "cellar serve: --kv-mem: expected bytes like 512M or 2G\n");
      return 2;
    }
    eo.kv_mem_bytes = *b;
  }
  eo.block_size = a.block_size;
  eo.max_batch_tokens = a.max_batch_tokens;
  eo.max_running = a.max_running;
  eo.n_ctx = a.ctx;
  eo.kv_type = a.kv_type == "f32" ? KvType::kF32 : KvType::kF16;
  eo.prefix_cache = !a.no_prefix_cache;
  eo.max_queue = a.max_queue;
  eo.TEST_step_delay_nanos = int64_t{a.test_step_delay_ms} * 1'000'000;
  // The KV store (docs/STORE.md); it outlives the engine (declared first).
  std::unique_ptr<KvStore> store;
  auto store_options = MakeKvStoreOptions(a.store);
  if (!store_options.ok()) {
    std::fprintf(stderr, "cellar serve: %s\n", store_options.status().ToString().c_str());
    return 2;
  }
  eo.extension = KvStoreFactory(std::move(*store_options), &store);

  ApiServerOptions so;
  so.http.host = a.host;
  so.http.port = a.port;
  std::optional<size_t> max_body = ParseBytes(a.max_body);
  if (!max_body || *max_body == 0) {
    std::fprintf(stderr, "cellar serve: --max-body: expected bytes like 8M\n");
    return 2;
  }
  so.http.max_body_bytes = *max_body;
  so.http.n_threads = std::max(64, a.max_running + 16);
  so.tenant = a.tenant;
  so.extra_metrics = [&store] { return store != nullptr ? store->RenderMetrics() : std::string(); };
  if (!a.api_key_file.empty()) {
    auto keys = LoadApiKeyFile(a.api_key_file);
    if (!keys.ok()) {
      std::fprintf(stderr, "cellar serve: %s\n", keys.status().ToString().c_str());
      return 2;
    }
    so.api_keys = std::move(*keys);
  }
  for (const std::string& k : a.api_keys) {
    // A single --api-key takes --tenant as its tenant name.
    so.api_keys.push_back(ApiKeyEntry{k, a.api_keys.size() == 1 ? a.tenant : std::string()});
  }

  auto engine = LocalEngineService::Create(eo);
  if (!engine.ok()) {
    std::fprintf(stderr, "cellar serve: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  auto server = ApiServer::Create(engine->get(), so);
  if (!server.ok()) {
    std::fprintf(stderr, "cellar serve: %s\n", server.status().ToString().c_str());
    return 1;
  }
  ApiServer& api = **server;
  std::printf("cellar: serving %s on http://%s:%d (OpenAI API at /v1; Ctrl-C to stop)\n",
              (*engine)->model_info().id.c_str(), a.host.c_str(), api.port());
  std::fflush(stdout);
  if (!so.api_keys.empty()) {
    CELLAR_LOG_INFO("API keys required ({} configured)", so.api_keys.size());
  }

  std::atomic<bool> served{false};
  const auto grace = std::chrono::milliseconds(static_cast<int64_t>(a.shutdown_grace * 1000));
  std::thread watcher([&] {
    const timespec tick{0, 200'000'000};
    while (!served) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        CELLAR_LOG_INFO("{}: no new connections; finishing requests in flight (up to {:.1f} s)",
                        sig == SIGINT ? "SIGINT" : "SIGTERM", a.shutdown_grace);
        api.Shutdown(grace);
        return;
      }
    }
  });
  Status st = api.Serve();
  served = true;
  watcher.join();
  (*engine)->Stop();
  if (store != nullptr) store->Close();  // stores pending saves, persists DRAM to disk
  server->reset();
  if (!st.ok()) {
    std::fprintf(stderr, "cellar serve: %s\n", st.ToString().c_str());
    return 1;
  }
  CELLAR_LOG_INFO("stopped");
  return 0;
}

void RegisterServeCommand(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve a GGUF model over an OpenAI-compatible HTTP API (docs/SERVER.md)");
  cmd->add_option("-m,--model", args->model,
                  std::string("GGUF model file (default: ") + kDefaultModel + " when present)");
  cmd->add_option("--host", args->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", args->port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Compute threads (0: one per physical core)")
      ->capture_default_str();
  cmd->add_option("--kv-mem", args->kv_mem,
                  "KV pool size, e.g. 512M or 2G (default: n_ctx tokens for min(max-running, "
                  "16) sequences, at most 2G)");
  cmd->add_option("--block-size", args->block_size, "Tokens per KV block")->capture_default_str();
  cmd->add_option("--max-batch-tokens", args->max_batch_tokens,
                  "Tokens computed per engine step (chunked-prefill budget)")
      ->capture_default_str();
  cmd->add_option("--max-running", args->max_running, "Requests decoding at once")
      ->capture_default_str();
  cmd->add_option("--ctx", args->ctx,
                  "Context length per request (0: the model's; capped by the KV pool)")
      ->capture_default_str();
  cmd->add_option("--kv-type", args->kv_type, "KV cache element type")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
  cmd->add_flag("--no-prefix-cache", args->no_prefix_cache,
                "Do not reuse cached KV of common prompt prefixes");
  cmd->add_option("--max-body", args->max_body, "Largest request body (413 above)")
      ->capture_default_str();
  cmd->add_option("--max-queue", args->max_queue,
                  "Requests waiting for admission before new ones get 429")
      ->capture_default_str();
  auto* key = cmd->add_option("--api-key", args->api_keys,
                              "Require 'Authorization: Bearer KEY' (repeatable)");
  auto* key_file = cmd->add_option("--api-key-file", args->api_key_file,
                                   "File of API keys: one per line, '<key> [tenant]'");
  key->excludes(key_file);
  cmd->add_option("--tenant", args->tenant,
                  "Tenant name for KV isolation when there are no keys (or one --api-key)");
  cmd->add_option("--shutdown-grace", args->shutdown_grace,
                  "Seconds requests in flight may take to finish after SIGINT/SIGTERM")
      ->capture_default_str();
  cmd->add_option("--test-step-delay-ms", args->test_step_delay_ms,
                  "Test only: sleep after every engine step")
      ->group("");
  AddStoreFlags(cmd, &args->store);
  cmd->callback([args] { Exit(RunServe(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(10, RegisterServeCommand);

}  // namespace cellar::cli
