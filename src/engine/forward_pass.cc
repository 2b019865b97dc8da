#include "engine/forward_pass.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/kv_access.h"
#include "kernels/activations.h"
#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"

namespace cellar {
namespace {

// Rows per step below which elementwise work stays on the calling thread.
constexpr int64_t kMinParallelRows = 4;

}  // namespace

Result<std::unique_ptr<ForwardPass>> ForwardPass::Create(const Model& model, KvStorage* kv,
                                                         ThreadPool* pool,
                                                         const ForwardPassOptions& options) {
  const ModelHParams& hp = model.hparams();
  const KvLayout& layout = kv->layout();
  if (layout.n_layers != hp.n_layer || layout.n_kv_heads != hp.n_head_kv ||
      layout.head_dim != hp.head_dim) {
    return InvalidArgument("KV pool layout (" + std::to_string(layout.n_layers) + " layers, " +
                           std::to_string(layout.n_kv_heads) + " kv heads, head_dim " +
                           std::to_string(layout.head_dim) + ") does not match the model (" +
                           std::to_string(hp.n_layer) + ", " + std::to_string(hp.n_head_kv) + ", " +
                           std::to_string(hp.head_dim) + ")");
  }
  if (options.max_batch_tokens <= 0) return InvalidArgument("max_batch_tokens must be > 0");
  ForwardPassOptions opt = options;
  if (opt.max_logit_rows <= 0) opt.max_logit_rows = opt.max_batch_tokens;
  const int64_t capacity = static_cast<int64_t>(layout.n_blocks) * layout.block_size;
  if (opt.max_context <= 0) {
    opt.max_context = static_cast<int32_t>(std::min<int64_t>(capacity, hp.n_ctx_train));
  }
  // The embedding rows must be readable by the dequantizer.
  {
    std::vector<float> row(static_cast<size_t>(hp.n_embd));
    Status s = DequantizeRow(model.weights().token_embd.type, model.weights().token_embd.data,
                             row.data(), hp.n_embd);
    if (!s.ok()) return s.WithContext("token_embd.weight");
  }
  auto fp = std::unique_ptr<ForwardPass>(new ForwardPass(model, kv, pool, opt));
  CELLAR_RETURN_IF_ERROR(fp->Allocate());
  return fp;
}

ForwardPass::ForwardPass(const Model& model, KvStorage* kv, ThreadPool* pool,
                         const ForwardPassOptions& options)
    : model_(model),
      hp_(model.hparams()),
      w_(model.weights()),
      kv_(*kv),
      pool_(*pool),
      options_(options) {}

ForwardPass::~ForwardPass() {
  for (Buffer* b :
       {&x_, &xb_, &q_, &k_, &v_, &attn_, &gate_, &up_, &rope_cs_, &logits_, &attn_scratch_}) {
    std::free(b->data);
  }
}

Status ForwardPass::Allocate() {
  const auto t = static_cast<size_t>(options_.max_batch_tokens);
  auto alloc = [](Buffer* b, size_t n) -> Status {
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    b->data = static_cast<float*>(std::aligned_alloc(64, bytes));
    b->n = n;
    if (b->data == nullptr) {
      return ResourceExhausted("cannot allocate " + std::to_string(bytes) + " bytes of scratch");
    }
    return OkStatus();
  };
  CELLAR_RETURN_IF_ERROR(alloc(&x_, t * static_cast<size_t>(hp_.n_embd)));
  CELLAR_RETURN_IF_ERROR(alloc(&xb_, t * static_cast<size_t>(hp_.n_embd)));
  CELLAR_RETURN_IF_ERROR(alloc(&q_, t * static_cast<size_t>(hp_.n_embd_q())));
  CELLAR_RETURN_IF_ERROR(alloc(&k_, t * static_cast<size_t>(hp_.n_embd_kv())));
  CELLAR_RETURN_IF_ERROR(alloc(&v_, t * static_cast<size_t>(hp_.n_embd_kv())));
  CELLAR_RETURN_IF_ERROR(alloc(&attn_, t * static_cast<size_t>(hp_.n_embd_q())));
  CELLAR_RETURN_IF_ERROR(alloc(&gate_, t * static_cast<size_t>(hp_.n_ff)));
  CELLAR_RETURN_IF_ERROR(alloc(&up_, t * static_cast<size_t>(hp_.n_ff)));
  CELLAR_RETURN_IF_ERROR(alloc(&rope_cs_, t * static_cast<size_t>(hp_.rope.n_rot)));
  CELLAR_RETURN_IF_ERROR(alloc(
      &logits_, static_cast<size_t>(options_.max_logit_rows) * static_cast<size_t>(hp_.n_vocab)));
  // Per-thread attention scratch, padded to a cache line.
  scratch_stride_ = (AttentionScratchFloats(hp_.n_group(), options_.max_context) + 15) / 16 * 16;
  CELLAR_RETURN_IF_ERROR(
      alloc(&attn_scratch_, scratch_stride_ * static_cast<size_t>(pool_.size())));
  token_id_.resize(t);
  token_entry_.resize(t);
  token_pos_.resize(t);
  out_rows_.reserve(t);
  entry_first_token_.reserve(256);
  entry_logits_row_.reserve(256);
  entry_n_logits_.reserve(256);
  return OkStatus();
}

PagedKvView ForwardPass::LayerView(int layer) const {
  const KvLayout& layout = kv_.layout();
  PagedKvView view;
  view.type = KvElementType(layout.type);
  view.k = static_cast<const uint8_t*>(kv_.K(layer, 0));
  view.v = static_cast<const uint8_t*>(kv_.V(layer, 0));
  // KvStorage places the tiles of consecutive blocks of one layer at a fixed stride.
  view.block_stride =
      layout.n_blocks > 1 ? static_cast<const uint8_t*>(kv_.K(layer, 1)) - view.k : 0;
  view.block_size = layout.block_size;
  view.n_kv_heads = layout.n_kv_heads;
  view.head_dim = layout.head_dim;
  return view;
}

Status ForwardPass::Validate(const Batch& batch) {
  const KvLayout& layout = kv_.layout();
  int64_t n_tokens = 0, n_out = 0;
  n_tokens_ = 0;
  entry_first_token_.clear();
  entry_logits_row_.clear();
  entry_n_logits_.clear();
  out_rows_.clear();
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    const BatchEntry& e = batch.entries[i];
    // Built only for an error message: Step() allocates nothing on the normal path.
    const auto which = [&] {
      return "batch entry " + std::to_string(i) + " (sequence " + std::to_string(e.seq_id) + ")";
    };
    const auto n = static_cast<int64_t>(e.tokens.size());
    if (n == 0) return InvalidArgument(which() + " has no tokens");
    if (n_tokens + n > options_.max_batch_tokens) {
      return OutOfRange("batch has more than " + std::to_string(options_.max_batch_tokens) +
                        " tokens");
    }
    if (e.start_pos < 0) return InvalidArgument(which() + " has a negative start position");
    const int64_t end = e.start_pos + n;
    if (end > options_.max_context) {
      return OutOfRange(which() + " would reach position " + std::to_string(end) +
                        ", past the context size " + std::to_string(options_.max_context));
    }
    const int64_t blocks_needed = (end + layout.block_size - 1) / layout.block_size;
    if (static_cast<int64_t>(e.block_table.size()) < blocks_needed) {
      return InvalidArgument(which() + " has " + std::to_string(e.block_table.size()) +
                             " blocks, needs " + std::to_string(blocks_needed));
    }
    for (int64_t b = 0; b < blocks_needed; ++b) {
      const int32_t id = e.block_table[static_cast<size_t>(b)];
      if (id < 0 || id >= layout.n_blocks) {
        return InvalidArgument(which() + " names block " + std::to_string(id) +
                               " outside the pool");
      }
    }
    for (int32_t tok : e.tokens) {
      if (tok < 0 || tok >= hp_.n_vocab) {
        return InvalidArgument(which() + " has token id " + std::to_string(tok) +
                               " outside the vocabulary of " + std::to_string(hp_.n_vocab));
      }
    }
    if (e.n_logits < 0 || e.n_logits > n) {
      return InvalidArgument(which() + " asks for " + std::to_string(e.n_logits) + " logits rows");
    }
    if (n_out + e.n_logits > options_.max_logit_rows) {
      return OutOfRange("batch asks for more than " + std::to_string(options_.max_logit_rows) +
                        " logits rows");
    }
    entry_first_token_.push_back(n_tokens);
    entry_logits_row_.push_back(n_out);
    entry_n_logits_.push_back(e.n_logits);
    for (int64_t j = 0; j < n; ++j) {
      token_entry_[static_cast<size_t>(n_tokens + j)] = static_cast<int32_t>(i);
      token_pos_[static_cast<size_t>(n_tokens + j)] = static_cast<int32_t>(e.start_pos + j);
      token_id_[static_cast<size_t>(n_tokens + j)] = e.tokens[static_cast<size_t>(j)];
      if (j >= n - e.n_logits) out_rows_.push_back(static_cast<int32_t>(n_tokens + j));
    }
    n_tokens += n;
    n_out += e.n_logits;
  }
  n_tokens_ = n_tokens;
  return OkStatus();
}

template <typename Fn>
void ForRows(ThreadPool& pool, int64_t n, const Fn& fn) {
  if (n < kMinParallelRows || pool.size() == 1) {
    fn(int64_t{0}, n);
    return;
  }
  const Fn* f = &fn;  // one-pointer capture: the std::function needs no allocation
  pool.ParallelFor(n, [f](int64_t begin, int64_t end) { (*f)(begin, end); });
}

template <typename Fn>
void ForwardPass::ForRows(int64_t n, const Fn& fn) {
  ::cellar::ForRows(pool_, n, fn);
}

void ForwardPass::Embed(int64_t n_tokens) {
  const WeightMatrix& e = w_.token_embd;
  const int64_t row_bytes = *GgmlRowBytes(e.type, e.cols);
  ForRows(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int32_t id = token_id_[static_cast<size_t>(t)];
      const auto* row = static_cast<const uint8_t*>(e.data) + static_cast<int64_t>(id) * row_bytes;
      DequantizeRow(e.type, row, x_.data + t * hp_.n_embd, hp_.n_embd)
          .IgnoreError();  // checked in Create
    }
  });
}

void ForwardPass::NormRows(const float* x, const float* weight, float* y, int64_t n_rows) {
  const int64_t d = hp_.n_embd;
  ForRows(n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) RmsNorm(x + r * d, weight, y + r * d, d, hp_.rms_eps);
  });
}

namespace {

// x[i] += y[i] (SSE2, part of the x86-64 baseline; this is memory-bound anyway).
void AddInPlace(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    _mm_storeu_ps(x + i, _mm_add_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(y + i)));
  }
  for (; i < n; ++i) x[i] += y[i];
}

}  // namespace

void ForwardPass::AddBias(float* y, const float* bias, int64_t n_rows, int64_t n_cols) {
  if (bias == nullptr) return;
  for (int64_t r = 0; r < n_rows; ++r) AddInPlace(y + r * n_cols, bias, n_cols);
}

void ForwardPass::AddRows(float* x, const float* y, int64_t n_rows) {
  const int64_t d = hp_.n_embd;
  ForRows(n_rows, [&](int64_t begin, int64_t end) {
    AddInPlace(x + begin * d, y + begin * d, (end - begin) * d);
  });
}

void ForwardPass::RopeAndStoreKv(int layer, const Batch& batch, int64_t n_tokens) {
  const int64_t n_q = hp_.n_embd_q(), n_kv = hp_.n_embd_kv(), n_rot = hp_.rope.n_rot;
  ForRows(n_tokens, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* cs = rope_cs_.data + t * n_rot;
      RopeApply(hp_.rope, cs, q_.data + t * n_q, hp_.n_head);
      RopeApply(hp_.rope, cs, k_.data + t * n_kv, hp_.n_head_kv);
      const BatchEntry& e =
          batch.entries[static_cast<size_t>(token_entry_[static_cast<size_t>(t)])];
      WriteTokenKv(kv_, layer, e.block_table, token_pos_[static_cast<size_t>(t)],
                   k_.data + t * n_kv, v_.data + t * n_kv);
    }
  });
}

void ForwardPass::Attention(int layer, const Batch& batch, const int32_t* row_tokens,
                            int64_t n_rows) {
  struct Job {
    ForwardPass* self;
    const Batch* batch;
    const int32_t* row_tokens;
    int64_t n_items;
    PagedKvView view;
    float scale;
  };
  const Job job{this,
                &batch,
                row_tokens,
                n_rows * hp_.n_head_kv,
                LayerView(layer),
                1.0f / std::sqrt(static_cast<float>(hp_.head_dim))};
  next_item_.store(0, std::memory_order_relaxed);
  auto work = [&job](int ith, int /*nth*/) {
    ForwardPass& s = *job.self;
    const int32_t n_kvh = s.hp_.n_head_kv, group = s.hp_.n_group(), d = s.hp_.head_dim;
    const int64_t n_q = s.hp_.n_embd_q();
    float* scratch = s.attn_scratch_.data + static_cast<size_t>(ith) * s.scratch_stride_;
    for (;;) {
      const int64_t item = s.next_item_.fetch_add(1, std::memory_order_relaxed);
      if (item >= job.n_items) break;
      const int64_t r = item / n_kvh;
      const auto g = static_cast<int32_t>(item % n_kvh);
      const int64_t t = job.row_tokens != nullptr ? job.row_tokens[r] : r;
      const BatchEntry& e =
          job.batch->entries[static_cast<size_t>(s.token_entry_[static_cast<size_t>(t)])];
      AttentionArgs a;
      a.q = s.q_.data + r * n_q + static_cast<int64_t>(g) * group * d;
      a.n_group = group;
      a.kv_head = g;
      a.block_table = e.block_table.data();
      a.n_keys = s.token_pos_[static_cast<size_t>(t)] + 1;  // causal: itself and before
      a.scale = job.scale;
      a.scratch = scratch;
      a.out = s.attn_.data + r * n_q + static_cast<int64_t>(g) * group * d;
      PagedAttention(job.view, a);
    }
  };
  // Small jobs (decode over a short context) stay on this thread: a parallel job
  // costs a wake-up of every worker, more than the work itself.
  int64_t work_size = 0;  // multiply-adds of q.K and p.V
  for (int64_t r = 0; r < n_rows; ++r) {
    work_size += static_cast<int64_t>(
                     token_pos_[static_cast<size_t>(row_tokens != nullptr ? row_tokens[r] : r)]) +
                 1;
  }
  work_size *= 2LL * hp_.n_head * hp_.head_dim;
  constexpr int64_t kMinParallelWork = 1 << 18;
  if (job.n_items == 1 || pool_.size() == 1 || work_size < kMinParallelWork) {
    work(0, 1);
  } else {
    pool_.Run(work);
  }
}

Status ForwardPass::Step(const Batch& batch, const StepHooks& hooks) {
  CELLAR_RETURN_IF_ERROR(Validate(batch));
  const int64_t n_tokens = n_tokens_;
  const auto n_out = static_cast<int64_t>(out_rows_.size());
  const int64_t n_embd = hp_.n_embd, n_q = hp_.n_embd_q(), n_kv = hp_.n_embd_kv(), n_ff = hp_.n_ff,
                n_rot = hp_.rope.n_rot;

  // x: [T, n_embd] = token embeddings
  Embed(n_tokens);
  // rope_cs: [T, n_rot] = cos/sin of each token's position (shared by all layers)
  for (int64_t t = 0; t < n_tokens; ++t) {
    RopeCosSin(hp_.rope, token_pos_[static_cast<size_t>(t)], rope_cs_.data + t * n_rot);
  }

  for (int l = 0; l < hp_.n_layer; ++l) {
    const LayerWeights& L = w_.layers[static_cast<size_t>(l)];
    const bool last = l == hp_.n_layer - 1;

    // xb: [T, n_embd] = RMSNorm(x) * attn_norm
    NormRows(x_.data, L.attn_norm, xb_.data, n_tokens);
    // q: [T, n_q], k: [T, n_kv], v: [T, n_kv] = xb W^T + b
    {
      const MatMulOutput qkv[] = {
          {&L.wq, q_.data, n_q}, {&L.wk, k_.data, n_kv}, {&L.wv, v_.data, n_kv}};
      MatMulShared(qkv, xb_.data, n_embd, n_tokens, pool_);
    }
    AddBias(q_.data, L.bq, n_tokens, n_q);
    AddBias(k_.data, L.bk, n_tokens, n_kv);
    AddBias(v_.data, L.bv, n_tokens, n_kv);

    // Hook: the store's saver captures K before RoPE, and V.
    if (hooks.observer != nullptr) {
      for (size_t i = 0; i < batch.entries.size(); ++i) {
        const int64_t first = entry_first_token_[i];
        hooks.observer->OnLayerKv(l, static_cast<int>(i), batch.entries[i], k_.data + first * n_kv,
                                  v_.data + first * n_kv);
      }
    }

    // q, k rotated in place; pool[layer] <- k, v at each token's (block, slot)
    RopeAndStoreKv(l, batch, n_tokens);

    // Hook: a cached prefix still being loaded into this layer must be in place.
    if (hooks.barrier != nullptr) hooks.barrier->WaitLayerReady(l);

    // In the last layer only the rows that need logits go on.
    int64_t n_rows = n_tokens;
    const int32_t* row_tokens = nullptr;
    if (last && n_out < n_tokens) {
      if (n_out == 0) break;
      // Compact q and x to the output rows (out_rows_ ascends, so row i <= out_rows_[i]).
      for (int64_t i = 0; i < n_out; ++i) {
        const int64_t t = out_rows_[static_cast<size_t>(i)];
        if (t == i) continue;
        std::memcpy(q_.data + i * n_q, q_.data + t * n_q, static_cast<size_t>(n_q) * sizeof(float));
        std::memcpy(x_.data + i * n_embd, x_.data + t * n_embd,
                    static_cast<size_t>(n_embd) * sizeof(float));
      }
      n_rows = n_out;
      row_tokens = out_rows_.data();
    }

    // attn: [R, n_q] = softmax(q K^T / sqrt(head_dim), causal) V, per GQA group
    Attention(l, batch, row_tokens, n_rows);
    // xb: [R, n_embd] = attn Wo^T + bo;  x += xb
    MatMul(L.wo, attn_.data, n_q, n_rows, xb_.data, n_embd, pool_);
    AddBias(xb_.data, L.bo, n_rows, n_embd);
    AddRows(x_.data, xb_.data, n_rows);

    // xb: [R, n_embd] = RMSNorm(x) * ffn_norm
    NormRows(x_.data, L.ffn_norm, xb_.data, n_rows);
    // gate, up: [R, n_ff];  gate = silu(gate) * up
    {
      const MatMulOutput gate_up[] = {{&L.ffn_gate, gate_.data, n_ff}, {&L.ffn_up, up_.data, n_ff}};
      MatMulShared(gate_up, xb_.data, n_embd, n_rows, pool_);
    }
    ForRows(n_rows, [&](int64_t begin, int64_t end) {
      SwiGlu(gate_.data + begin * n_ff, up_.data + begin * n_ff, gate_.data + begin * n_ff,
             (end - begin) * n_ff);
    });
    // xb: [R, n_embd] = gate W_down^T;  x += xb
    MatMul(L.ffn_down, gate_.data, n_ff, n_rows, xb_.data, n_embd, pool_);
    AddRows(x_.data, xb_.data, n_rows);
  }
  if (n_out == 0) return OkStatus();

  // x rows [0, n_out) are now the output rows (compacted in the last layer, or all rows).
  // xb: [n_out, n_embd] = RMSNorm(x) * output_norm
  NormRows(x_.data, w_.output_norm, xb_.data, n_out);
  // logits: [n_out, n_vocab] = xb W_out^T
  MatMul(w_.output, xb_.data, n_embd, n_out, logits_.data, hp_.n_vocab, pool_);
  return OkStatus();
}

std::span<const float> ForwardPass::Logits(int entry_index) const {
  const auto i = static_cast<size_t>(entry_index);
  if (i >= entry_logits_row_.size()) return {};
  const auto n_vocab = static_cast<size_t>(hp_.n_vocab);
  return {logits_.data + static_cast<size_t>(entry_logits_row_[i]) * n_vocab,
          static_cast<size_t>(entry_n_logits_[i]) * n_vocab};
}

}  // namespace cellar
