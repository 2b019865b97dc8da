// ForwardPass: runs a decoder-only transformer (every architecture the model
// loader binds: llama, qwen2) over a Batch of sequences in one step, reading and
// writing their KV in the working pool through block tables (paged attention).
//
// One Step() = embeddings -> n_layer x [RMSNorm, Q/K/V (+bias), RoPE, KV write,
// causal GQA attention over the pool, output projection, residual, RMSNorm,
// SwiGLU FFN, residual] -> final RMSNorm -> logits for the rows that asked for
// them. Prefill (many tokens), decode (one token) and several sequences of
// different lengths are the same code path. Optional hooks let the store
// capture pre-RoPE K/V and make a layer wait for KV that is still loading
// (engine/kv_hooks.h).
//
// All scratch memory is allocated once in Create(); Step() allocates nothing.
// Ownership: borrows the model, the KV storage and the thread pool, which must
// outlive it. Thread-safety: one thread (the engine thread) calls Step(); the
// step's parallel work runs on the thread pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "engine/batch.h"
#include "engine/kv_hooks.h"
#include "kernels/attention.h"
#include "kv/kv_storage.h"
#include "model/model.h"

namespace cellar {

struct ForwardPassOptions {
  int32_t max_batch_tokens = 512;  // most tokens of one Step, over all entries
  // Most logits rows of one Step (memory: rows * n_vocab floats, touched lazily).
  // 0: max_batch_tokens.
  int32_t max_logit_rows = 0;
  // Longest sequence (positions) a Step may attend over; sizes the attention
  // scratch. 0: the pool's capacity, capped at the model's training context.
  int32_t max_context = 0;
};

class ForwardPass {
 public:
  // REQUIRES: kv's layout matches the model (n_layers, n_kv_heads, head_dim).
  static Result<std::unique_ptr<ForwardPass>> Create(const Model& model, KvStorage* kv,
                                                     ThreadPool* pool,
                                                     const ForwardPassOptions& options);
  ~ForwardPass();
  ForwardPass(const ForwardPass&) = delete;
  ForwardPass& operator=(const ForwardPass&) = delete;

  // Runs one step over `batch`. INVALID_ARGUMENT / OUT_OF_RANGE (nothing
  // computed) when an entry is malformed: empty, token id out of range, too
  // many tokens, positions past max_context, a block table that does not cover
  // the positions or names a block outside the pool.
  // REQUIRES: no two entries write the same pool slot.
  Status Step(const Batch& batch, const StepHooks& hooks = {});

  // After a successful Step: entry i's logits, [n_logits][n_vocab] row-major,
  // for its last n_logits tokens in order. Valid until the next Step.
  std::span<const float> Logits(int entry_index) const;

  const Model& model() const { return model_; }
  KvStorage& kv() { return kv_; }
  ThreadPool& pool() { return pool_; }
  int32_t max_batch_tokens() const { return options_.max_batch_tokens; }
  int32_t max_context() const { return options_.max_context; }
  int32_t n_vocab() const { return hp_.n_vocab; }

  // The pool's memory of one layer as the attention kernel reads it.
  PagedKvView LayerView(int layer) const;

 private:
  struct Buffer {
    float* data = nullptr;
    size_t n = 0;
  };
  ForwardPass(const Model& model, KvStorage* kv, ThreadPool* pool,
              const ForwardPassOptions& options);
  Status Allocate();
  Status Validate(const Batch& batch);
  // Runs fn(begin, end) over [0, n) rows, on the pool when n is large enough.
  template <typename Fn>
  void ForRows(int64_t n, const Fn& fn);
  void Embed(int64_t n_tokens);
  void NormRows(const float* x, const float* weight, float* y, int64_t n_rows);
  void AddBias(float* y, const float* bias, int64_t n_rows, int64_t n_cols);
  void AddRows(float* x, const float* y, int64_t n_rows);
  void RopeAndStoreKv(int layer, const Batch& batch, int64_t n_tokens);
  void Attention(int layer, const Batch& batch, const int32_t* row_tokens, int64_t n_rows);

  const Model& model_;
  const ModelHParams& hp_;
  const ModelWeights& w_;
  KvStorage& kv_;
  ThreadPool& pool_;
  ForwardPassOptions options_;

  // Activations, sized for max_batch_tokens rows.
  Buffer x_;             // [T, n_embd]     residual stream
  Buffer xb_;            // [T, n_embd]     normalized input / projection output
  Buffer q_;             // [T, n_embd_q]
  Buffer k_;             // [T, n_embd_kv]
  Buffer v_;             // [T, n_embd_kv]
  Buffer attn_;          // [T, n_embd_q]   attention output
  Buffer gate_;          // [T, n_ff]
  Buffer up_;            // [T, n_ff]
  Buffer rope_cs_;       // [T, n_rot]      cos/sin per token position
  Buffer logits_;        // [max_logit_rows, n_vocab]
  Buffer attn_scratch_;  // [n_threads, scratch_stride_]
  size_t scratch_stride_ = 0;

  // Per step: token index -> id, entry and position; rows that need logits.
  int64_t n_tokens_ = 0;
  std::vector<int32_t> token_id_;
  std::vector<int32_t> token_entry_;
  std::vector<int32_t> token_pos_;
  std::vector<int32_t> out_rows_;
  std::vector<int64_t> entry_first_token_;
  std::vector<int64_t> entry_logits_row_;
  std::vector<int32_t> entry_n_logits_;
  std::atomic<int64_t> next_item_{0};
};

}  // namespace cellar
