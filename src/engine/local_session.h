// LocalSession: one sequence at a time, on its own KV storage, for the CLI
// (generate, chat, perplexity, bench) and tests. Its blocks are simply 0..n-1
// of a pool sized for n_ctx tokens (a trivial allocator); the serving engine
// uses the real BlockPool instead. It remembers which tokens' KV it holds, so a
// caller can keep a common prefix (Truncate) and feed only new tokens.
//
// Ownership: borrows the model and the thread pool. Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/forward_pass.h"
#include "engine/kv_hooks.h"
#include "kv/kv_storage.h"
#include "model/model.h"

namespace cellar {

struct LocalSessionOptions {
  int32_t n_ctx = 0;  // context in tokens; 0: the model's training context, at most 4096
  KvType kv_type = KvType::kF16;
  int32_t max_batch_tokens = 512;  // prefill chunk (tokens per forward step)
  int32_t block_size = 16;
};

class LocalSession {
 public:
  static Result<std::unique_ptr<LocalSession>> Create(const Model& model, ThreadPool* pool,
                                                      const LocalSessionOptions& options);

  int32_t n_ctx() const { return n_ctx_; }
  // Tokens whose KV is in the pool, in position order.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int32_t n_past() const { return static_cast<int32_t>(tokens_.size()); }

  // Forgets every token from position n on (their KV will be overwritten).
  void Truncate(int32_t n);

  // The caller wrote the KV of `tokens` into the pool at positions n_past()..
  // itself (a store load, engine/kv_store_sink.h): they now count as fed.
  // OUT_OF_RANGE (nothing changed) if they do not fit in n_ctx.
  Status AdoptTokens(std::span<const int32_t> tokens);

  // Appends `tokens` at positions n_past().. (prefill in chunks of
  // max_batch_tokens) and returns the logits of the last one, valid until the
  // next call. OUT_OF_RANGE (nothing fed) if they do not fit in n_ctx.
  Result<std::span<const float>> Feed(std::span<const int32_t> tokens, const StepHooks& hooks = {});

  // Appends `tokens` like Feed and appends to `logits` the rows of every fed
  // token with index >= logits_from ([count][n_vocab]).
  Status FeedCollect(std::span<const int32_t> tokens, int32_t logits_from,
                     std::vector<float>* logits, const StepHooks& hooks = {});

  // Makes the session hold exactly `tokens` (a whole conversation, re-rendered
  // each turn): keeps the KV of the longest common prefix with tokens() — at
  // most tokens.size() - 1 tokens, so the last one is fed and yields logits —
  // forgets the rest and feeds the remainder. OUT_OF_RANGE if `tokens` exceeds
  // n_ctx (the session is then unchanged).
  struct PrefixFeed {
    int32_t n_reused = 0;           // tokens whose cached KV was kept
    int32_t n_fed = 0;              // tokens prefilled now
    std::span<const float> logits;  // of the last token; valid until the next call
  };
  Result<PrefixFeed> FeedWithPrefixReuse(std::span<const int32_t> tokens,
                                         const StepHooks& hooks = {});

  ForwardPass& forward() { return *forward_; }
  const std::vector<int32_t>& block_table() const { return block_table_; }

 private:
  LocalSession() = default;
  Status Run(std::span<const int32_t> tokens, int32_t logits_from, std::vector<float>* logits,
             const StepHooks& hooks);

  int32_t n_ctx_ = 0;
  std::unique_ptr<KvStorage> kv_;
  std::unique_ptr<ForwardPass> forward_;
  std::vector<int32_t> block_table_;
  std::vector<int32_t> tokens_;
};

}  // namespace cellar
