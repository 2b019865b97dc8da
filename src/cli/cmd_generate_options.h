// Flags and setup shared by the commands that run a model on one sequence:
// generate, chat, perplexity, bench (model file, threads, KV type, context,
// batch size, sampling). Not thread-safe; used while parsing and starting a command.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/local_session.h"
#include "engine/sampling.h"
#include "model/model.h"
#include "model/tokenizer.h"

namespace cellar::cli {

struct ModelFlags {
  std::string model;
  int threads = 0;  // 0: physical cores
  std::string kv_type = "f16";
  int ctx = 0;  // 0: the model's training context, at most 4096
  int batch = 512;
};

// -m, -t, --kv-type, -c, -b.
void AddModelFlags(CLI::App* cmd, ModelFlags* flags);

struct SamplingFlags {
  SamplingParams params;
  std::vector<std::string> stop;
};

// --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n
// --presence-penalty --frequency-penalty --seed --stop.
void AddSamplingFlags(CLI::App* cmd, SamplingFlags* flags);

struct Runtime {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;  // null if the file has no usable vocabulary
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<LocalSession> session;
};

// Loads the model (and its tokenizer if `need_tokenizer`), starts the thread pool
// and a session of flags.ctx tokens (at least min_ctx when flags.ctx is 0).
Result<Runtime> StartRuntime(const ModelFlags& flags, bool need_tokenizer, int32_t min_ctx = 0);

// "cellar <command>: <status>" on stderr; returns 1.
int ReportError(const char* command, const Status& status);

}  // namespace cellar::cli
