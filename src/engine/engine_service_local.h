// LocalEngineService: the EngineService that runs a GGUF model in this
// process. It owns the model, its tokenizer and chat template, the compute
// thread pool and the EngineLoop (which owns the KV pool and the scheduler).
// Prompts are built on the caller's thread (tokenizer and template are
// immutable); generation runs on the engine thread.
//
// Pool sizing: --kv-mem bytes of KV (default: room for n_ctx tokens of
// min(max_running, 16) sequences, at most 2 GiB, at least one full context)
// divided into blocks of block_size tokens; n_ctx (default: the model's
// training context) is capped at what the pool holds.
//
// Thread-safety: every EngineService method is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/hash.h"
#include "base/thread_pool.h"
#include "engine/engine_extension.h"
#include "engine/engine_loop.h"
#include "engine/engine_service.h"
#include "engine/engine_service_chat.h"
#include "kv/kv_layout.h"
#include "model/model.h"
#include "model/tokenizer.h"

namespace cellar {

struct LocalEngineOptions {
  std::string model_path;
  int n_threads = 0;        // compute threads; 0: the number of physical cores
  size_t kv_mem_bytes = 0;  // 0: the default above
  int block_size = 16;      // tokens per KV block
  int max_batch_tokens = 512;
  int max_running = 64;
  int n_ctx = 0;  // 0: the model's training context
  KvType kv_type = KvType::kF16;
  bool prefix_cache = true;
  int max_queue = 1024;
  Clock* clock = nullptr;
  int64_t TEST_step_delay_nanos = 0;
  EngineLoopHooks* hooks = nullptr;  // optional (the store)
  // Optional: builds the component (the CachedAttention store) that joins the
  // loop; its hooks replace `hooks` (engine/engine_extension.h).
  EngineExtensionFactory extension;
};

class LocalEngineService final : public EngineService {
 public:
  static Result<std::unique_ptr<LocalEngineService>> Create(const LocalEngineOptions& options);
  ~LocalEngineService() override;

  const EngineModelInfo& model_info() const override { return info_; }
  Result<std::vector<TokenId>> TokenizeText(std::string_view text) const override;
  Result<std::vector<TokenId>> TokenizeChat(const ChatPrompt& chat) const override;
  Result<RequestHandle> Submit(GenerateRequest request) override;
  void Cancel(RequestId id) override;
  EngineStats Stats() const override;

  // Cancels what is left and stops the engine thread. Idempotent.
  void Stop();

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const Hash128& fingerprint() const { return fingerprint_; }
  const KvLayout& kv_layout() const { return layout_; }
  bool chat_template_from_model() const { return chat_->from_model(); }

 private:
  LocalEngineService() = default;

  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatRenderer> chat_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<EngineLoop> loop_;
  EngineModelInfo info_;
  std::function<Status(GenerateRequest*)> prepare_;  // from the extension
  Hash128 fingerprint_;
  KvLayout layout_;
};

}  // namespace cellar
