#include "engine/engine_service_local.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <utility>

#include "base/log.h"
#include "kv/kv_cache_manager.h"
#include "model/model_fingerprint.h"
#include "sched/scheduler.h"

namespace cellar {

Result<std::unique_ptr<LocalEngineService>> LocalEngineService::Create(
    const LocalEngineOptions& o) {
  if (o.block_size <= 0) return InvalidArgument("--block-size must be > 0");
  if (o.max_batch_tokens <= 0) return InvalidArgument("--max-batch-tokens must be > 0");
  if (o.max_running <= 0) return InvalidArgument("--max-running must be > 0");
  if (o.max_running > o.max_batch_tokens) {
    return InvalidArgument("--max-running must not exceed --max-batch-tokens");
  }
  if (o.n_ctx < 0) return InvalidArgument("--ctx must be >= 0");
  auto s = std::unique_ptr<LocalEngineService>(new LocalEngineService());
  CELLAR_ASSIGN_OR_RETURN(s->model_, Model::Load(o.model_path));
  CELLAR_ASSIGN_OR_RETURN(s->tokenizer_, Tokenizer::FromGguf(s->model_->gguf()));
  CELLAR_ASSIGN_OR_RETURN(s->chat_, ChatRenderer::Create(s->model_->gguf()));
  s->fingerprint_ = ComputeModelFingerprint(s->model_->gguf());
  const ModelHParams& hp = s->model_->hparams();

  int n_ctx = o.n_ctx > 0 ? o.n_ctx : (hp.n_ctx_train > 0 ? hp.n_ctx_train : 2048);
  KvLayout& layout = s->layout_;
  layout.n_layers = hp.n_layer;
  layout.n_kv_heads = hp.n_head_kv;
  layout.head_dim = hp.head_dim;
  layout.block_size = o.block_size;
  layout.type = o.kv_type;
  size_t kv_mem = o.kv_mem_bytes;
  if (kv_mem == 0) {
    const size_t per_token = layout.BytesPerToken();
    const size_t seqs = static_cast<size_t>(std::min(o.max_running, 16));
    kv_mem = std::min(per_token * static_cast<size_t>(n_ctx) * seqs, size_t{2} << 30);
    kv_mem = std::max(kv_mem, per_token * static_cast<size_t>(n_ctx + o.block_size));
  }
  layout.n_blocks = layout.BlocksForBytes(kv_mem);
  if (layout.n_blocks < 1) {
    return InvalidArgument("--kv-mem " + std::to_string(kv_mem) + " bytes holds no KV block (one " +
                           std::to_string(layout.block_size) + "-token block takes " +
                           std::to_string(layout.BlockBytes()) + " bytes)");
  }
  const int64_t capacity = static_cast<int64_t>(layout.n_blocks) * layout.block_size;
  if (n_ctx > capacity) {
    CELLAR_LOG_WARN("the KV pool holds {} tokens: the context length is capped at {} (was {})",
                    capacity, capacity, n_ctx);
    n_ctx = static_cast<int>(capacity);
  }

  const int n_threads = o.n_threads > 0 ? o.n_threads : ThreadPool::PhysicalCores();
  s->pool_ = std::make_unique<ThreadPool>(n_threads);
  EngineLoopParts parts;
  parts.tokenizer = s->tokenizer_.get();
  CELLAR_ASSIGN_OR_RETURN(parts.kv, KvStorage::Create(layout));
  ForwardPassOptions fo;
  fo.max_batch_tokens = o.max_batch_tokens;
  fo.max_logit_rows = std::min(o.max_running, o.max_batch_tokens);
  fo.max_context = n_ctx;
  CELLAR_ASSIGN_OR_RETURN(parts.forward,
                          ForwardPass::Create(*s->model_, parts.kv.get(), s->pool_.get(), fo));
  KvCacheManagerOptions ko;
  ko.n_blocks = layout.n_blocks;
  ko.block_size = layout.block_size;
  ko.model_fingerprint = s->fingerprint_;
  ko.enable_prefix_caching = o.prefix_cache;
  CELLAR_ASSIGN_OR_RETURN(std::unique_ptr<KvCacheManager> kv, KvCacheManager::Create(ko));
  SchedulerOptions so;
  so.max_batch_tokens = o.max_batch_tokens;
  so.max_running = o.max_running;
  so.clock = o.clock;
  CELLAR_ASSIGN_OR_RETURN(parts.scheduler, Scheduler::Create(std::move(so), std::move(kv)));
  parts.hooks = o.hooks;
  if (o.extension) {
    EngineExtensionContext ec;
    ec.model = s->model_.get();
    ec.fingerprint = s->fingerprint_;
    ec.kv = parts.kv.get();
    ec.pool = s->pool_.get();
    ec.n_ctx = n_ctx;
    ec.max_batch_tokens = o.max_batch_tokens;
    ec.prefix_cache = o.prefix_cache;
    CELLAR_ASSIGN_OR_RETURN(EngineExtension ext, o.extension(ec));
    if (ext.hooks != nullptr) parts.hooks = ext.hooks;
    parts.scheduler->SetExternalKvSource(ext.kv_source);
    parts.scheduler->SetSessionQueueObserver(ext.queue_observer);
    parts.scheduler->kv().pool().SetObserver(ext.pool_observer);
    s->prepare_ = std::move(ext.prepare);
  }
  EngineLoopOptions lo;
  lo.n_ctx = n_ctx;
  lo.max_queue = o.max_queue;
  lo.clock = o.clock;
  lo.TEST_step_delay_nanos = o.TEST_step_delay_nanos;
  CELLAR_ASSIGN_OR_RETURN(s->loop_, EngineLoop::Create(std::move(parts), lo));

  s->info_.id = std::filesystem::path(o.model_path).stem().string();
  s->info_.created = static_cast<int64_t>(std::time(nullptr));
  s->info_.n_ctx = n_ctx;
  s->info_.n_vocab = hp.n_vocab;
  s->info_.fingerprint = s->fingerprint_.ToHex();
  CELLAR_LOG_INFO(
      "engine: {} ({}), n_ctx {}, KV pool {} blocks x {} tokens ({} MiB, {}), {} threads, "
      "max batch {} tokens, max running {}, prefix cache {}, chat template {}",
      s->info_.id, s->model_->Describe(), n_ctx, layout.n_blocks, layout.block_size,
      layout.TotalBytes() >> 20, KvTypeName(layout.type), n_threads, o.max_batch_tokens,
      o.max_running, o.prefix_cache ? "on" : "off",
      s->chat_->from_model() ? "from the model" : "ChatML (the model has none)");
  return s;
}

LocalEngineService::~LocalEngineService() { Stop(); }

void LocalEngineService::Stop() {
  if (loop_) loop_->Stop();
}

Result<std::vector<TokenId>> LocalEngineService::TokenizeText(std::string_view text) const {
  return tokenizer_->Encode(text, /*add_special=*/true, /*parse_special=*/false);
}

Result<std::vector<TokenId>> LocalEngineService::TokenizeChat(const ChatPrompt& chat) const {
  CELLAR_ASSIGN_OR_RETURN(std::string text, chat_->Render(chat));
  // Templates usually write the BOS text themselves; the tokenizer adds BOS
  // by the vocabulary's rule, so drop the written one (no double BOS).
  const std::string& bos = chat_->bos_token();
  if (tokenizer_->vocab().add_bos() && !bos.empty() && text.compare(0, bos.size(), bos) == 0) {
    text.erase(0, bos.size());
  }
  return tokenizer_->Encode(text, /*add_special=*/true, /*parse_special=*/true);
}

Result<RequestHandle> LocalEngineService::Submit(GenerateRequest request) {
  if (prepare_) CELLAR_RETURN_IF_ERROR(prepare_(&request));
  CELLAR_ASSIGN_OR_RETURN(std::shared_ptr<RequestChannel> channel,
                          loop_->Submit(std::move(request)));
  return RequestHandle(this, std::move(channel));
}

void LocalEngineService::Cancel(RequestId id) { loop_->Cancel(id); }

EngineStats LocalEngineService::Stats() const { return loop_->Stats(); }

}  // namespace cellar
