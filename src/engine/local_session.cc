#include "engine/local_session.h"

#include <algorithm>
#include <numeric>
#include <string>

namespace cellar {

Result<std::unique_ptr<LocalSession>> LocalSession::Create(const Model& model, ThreadPool* pool,
                                                           const LocalSessionOptions& options) {
  const ModelHParams& hp = model.hparams();
  int32_t n_ctx = options.n_ctx > 0 ? options.n_ctx : std::min(hp.n_ctx_train, 4096);
  if (options.block_size <= 0) return InvalidArgument("block size must be > 0");
  KvLayout layout;
  layout.n_layers = hp.n_layer;
  layout.n_kv_heads = hp.n_head_kv;
  layout.head_dim = hp.head_dim;
  layout.block_size = options.block_size;
  layout.n_blocks = (n_ctx + options.block_size - 1) / options.block_size;
  layout.type = options.kv_type;
  auto session = std::unique_ptr<LocalSession>(new LocalSession());
  session->n_ctx_ = n_ctx;
  CELLAR_ASSIGN_OR_RETURN(session->kv_, KvStorage::Create(layout));
  ForwardPassOptions fo;
  fo.max_batch_tokens = std::max(1, std::min(options.max_batch_tokens, n_ctx));
  fo.max_context = n_ctx;
  CELLAR_ASSIGN_OR_RETURN(session->forward_,
                          ForwardPass::Create(model, session->kv_.get(), pool, fo));
  session->block_table_.resize(static_cast<size_t>(layout.n_blocks));
  std::iota(session->block_table_.begin(), session->block_table_.end(), 0);
  session->tokens_.reserve(static_cast<size_t>(n_ctx));
  return session;
}

void LocalSession::Truncate(int32_t n) {
  if (n >= 0 && n < n_past()) tokens_.resize(static_cast<size_t>(n));
}

Status LocalSession::AdoptTokens(std::span<const int32_t> tokens) {
  if (static_cast<int64_t>(n_past()) + static_cast<int64_t>(tokens.size()) > n_ctx_) {
    return OutOfRange("context is full");
  }
  tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  return OkStatus();
}

Status LocalSession::Run(std::span<const int32_t> tokens, int32_t logits_from,
                         std::vector<float>* logits, const StepHooks& hooks) {
  if (tokens.empty()) return InvalidArgument("nothing to feed");
  if (static_cast<int64_t>(n_past()) + static_cast<int64_t>(tokens.size()) > n_ctx_) {
    return OutOfRange("context is full: " + std::to_string(n_past()) + " tokens cached + " +
                      std::to_string(tokens.size()) + " new > context size " +
                      std::to_string(n_ctx_));
  }
  const auto chunk = static_cast<size_t>(forward_->max_batch_tokens());
  const size_t n_vocab = static_cast<size_t>(forward_->n_vocab());
  Batch batch;
  batch.entries.resize(1);
  BatchEntry& e = batch.entries[0];
  e.block_table = block_table_;
  for (size_t begin = 0; begin < tokens.size(); begin += chunk) {
    const size_t n = std::min(chunk, tokens.size() - begin);
    e.tokens = tokens.subspan(begin, n);
    e.start_pos = n_past();
    // Rows wanted in this chunk: indices >= logits_from (at least the last token overall
    // when logits_from < 0 means "last only").
    int64_t first_wanted = logits_from < 0 ? static_cast<int64_t>(tokens.size()) - 1 : logits_from;
    first_wanted = std::max<int64_t>(first_wanted, static_cast<int64_t>(begin));
    const int64_t end = static_cast<int64_t>(begin + n);
    e.n_logits = static_cast<int32_t>(std::max<int64_t>(0, end - first_wanted));
    Status s = forward_->Step(batch, hooks);
    if (!s.ok()) return s;
    tokens_.insert(tokens_.end(), e.tokens.begin(), e.tokens.end());
    if (logits != nullptr && e.n_logits > 0) {
      const auto rows = forward_->Logits(0);
      logits->insert(logits->end(), rows.begin(), rows.begin() + e.n_logits * n_vocab);
    }
  }
  return OkStatus();
}

Result<std::span<const float>> LocalSession::Feed(std::span<const int32_t> tokens,
                                                  const StepHooks& hooks) {
  CELLAR_RETURN_IF_ERROR(Run(tokens, -1, nullptr, hooks));
  return forward_->Logits(0);
}

Status LocalSession::FeedCollect(std::span<const int32_t> tokens, int32_t logits_from,
                                 std::vector<float>* logits, const StepHooks& hooks) {
  return Run(tokens, std::max(logits_from, 0), logits, hooks);
}

Result<LocalSession::PrefixFeed> LocalSession::FeedWithPrefixReuse(std::span<const int32_t> tokens,
                                                                   const StepHooks& hooks) {
  if (tokens.empty()) return InvalidArgument("nothing to feed");
  if (static_cast<int64_t>(tokens.size()) > n_ctx_) {
    return OutOfRange("context is full: " + std::to_string(tokens.size()) +
                      " tokens > context size " + std::to_string(n_ctx_));
  }
  size_t keep = 0;
  const size_t limit = std::min(tokens_.size(), tokens.size() - 1);
  while (keep < limit && tokens_[keep] == tokens[keep]) ++keep;
  Truncate(static_cast<int32_t>(keep));
  PrefixFeed out;
  out.n_reused = static_cast<int32_t>(keep);
  out.n_fed = static_cast<int32_t>(tokens.size() - keep);
  CELLAR_ASSIGN_OR_RETURN(out.logits, Feed(tokens.subspan(keep), hooks));
  return out;
}

}  // namespace cellar
