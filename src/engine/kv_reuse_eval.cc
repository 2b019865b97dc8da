#include "engine/kv_reuse_eval.h"

#include <algorithm>
#include <vector>

#include "engine/kv_store_sink.h"
#include "engine/local_session.h"
#include "engine/perplexity.h"
#include "store/chunk_accumulator.h"
#include "store/codec.h"

namespace cellar {
namespace {

// Captures one sequence's pre-RoPE K and V into chunks, as the store's saver does.
class CaptureObserver final : public KvObserver {
 public:
  explicit CaptureObserver(ChunkAccumulator* acc) : acc_(acc) {}
  void OnLayerKv(int layer, int /*entry_index*/, const BatchEntry& entry, const float* k,
                 const float* v) override {
    acc_->Append(layer, entry.start_pos, static_cast<int>(entry.tokens.size()), k, v);
  }

 private:
  ChunkAccumulator* acc_;
};

int Argmax(std::span<const float> row) {
  return static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
}

// Scores `logits` ([n][n_vocab], row i predicting targets[i]) and compares the
// argmax with `ref_argmax` (empty: itself).
KvReuseEvalRun Score(const std::vector<float>& logits, std::span<const int32_t> targets,
                     size_t n_vocab, const std::vector<int>& ref_argmax, std::vector<int>* argmax) {
  NllAccumulator nll;
  int agree = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::span<const float> row(logits.data() + i * n_vocab, n_vocab);
    nll.Add(row, targets[i]);
    const int a = Argmax(row);
    if (argmax != nullptr) argmax->push_back(a);
    if (!ref_argmax.empty() && ref_argmax[i] == a) ++agree;
  }
  KvReuseEvalRun r;
  r.ppl = nll.perplexity();
  r.mean_nll = nll.mean_nll();
  r.top1_agreement =
      ref_argmax.empty() ? 1.0 : static_cast<double>(agree) / static_cast<double>(targets.size());
  return r;
}

}  // namespace

Result<KvReuseEvalResult> EvaluateKvReuse(const Model& model, ThreadPool* pool,
                                          std::span<const int32_t> tokens,
                                          const KvReuseEvalOptions& o) {
  const int h = o.n_history, n = o.n_scored, C = o.chunk_tokens;
  if (h <= 0 || n <= 0 || C <= 0 || h % C != 0 || o.n_keep < 0 || o.n_drop < 0 ||
      o.n_keep + o.n_drop > h || tokens.size() < static_cast<size_t>(h + n + 1)) {
    return InvalidArgument("EvaluateKvReuse: inconsistent options or too few tokens");
  }
  LocalSessionOptions so;
  so.n_ctx = h + n;
  so.kv_type = o.kv_type;
  const std::span<const int32_t> history = tokens.first(static_cast<size_t>(h));
  const std::span<const int32_t> fed =
      tokens.subspan(static_cast<size_t>(h), static_cast<size_t>(n));
  const std::span<const int32_t> targets =
      tokens.subspan(static_cast<size_t>(h) + 1, static_cast<size_t>(n));
  const size_t n_vocab = static_cast<size_t>(model.hparams().n_vocab);
  KvReuseEvalResult result;
  result.n_scored = n;

  // Full: the history computed (and captured), then the scored tokens.
  CELLAR_ASSIGN_OR_RETURN(auto full, LocalSession::Create(model, pool, so));
  const KvLayout& layout = full->forward().kv().layout();
  const KvShape shape{layout.n_layers, layout.n_kv_heads, layout.head_dim, layout.type};
  ChunkAccumulator acc(shape, C, 0);
  CaptureObserver capture(&acc);
  CELLAR_RETURN_IF_ERROR(full->Feed(history, StepHooks{&capture, nullptr}).status());
  std::vector<float> logits;
  CELLAR_RETURN_IF_ERROR(full->FeedCollect(fed, 0, &logits));
  std::vector<int> ref_argmax;
  result.full = Score(logits, targets, n_vocab, {}, &ref_argmax);
  std::vector<RawChunk> chunks = acc.TakeComplete();
  if (chunks.size() != static_cast<size_t>(h / C)) return Internal("EvaluateKvReuse: lost chunks");

  // The kept history and where it goes.
  PositionMap map;
  if (o.n_drop > 0) {
    map.keep = o.n_keep;
    map.shift = o.n_drop;
  }
  std::vector<int32_t> kept(history.begin(), history.begin() + (o.n_drop > 0 ? o.n_keep : h));
  if (o.n_drop > 0) kept.insert(kept.end(), history.begin() + o.n_keep + o.n_drop, history.end());

  // Recompute: the kept history computed from scratch.
  if (o.n_drop > 0) {
    CELLAR_ASSIGN_OR_RETURN(auto rec, LocalSession::Create(model, pool, so));
    CELLAR_RETURN_IF_ERROR(rec->Feed(kept).status());
    logits.clear();
    CELLAR_RETURN_IF_ERROR(rec->FeedCollect(fed, 0, &logits));
    result.recompute = Score(logits, targets, n_vocab, ref_argmax, nullptr);
  } else {
    result.recompute = result.full;
  }

  // Reuse: each chunk through the codec, loaded at its (new) positions.
  CELLAR_ASSIGN_OR_RETURN(auto reuse, LocalSession::Create(model, pool, so));
  PoolLoadSink::Options lo;
  lo.kv = &reuse->forward().kv();
  lo.rope = model.hparams().rope;
  lo.block_table = reuse->block_table();
  lo.chunk_tokens = C;
  lo.map = map;
  lo.begin = 0;
  lo.end = static_cast<int>(kept.size());
  for (int j = 0; j < h / C; ++j) lo.chunk_first.push_back(j * C);
  PoolLoadSink sink(std::move(lo));
  uint64_t raw_bytes = 0, encoded_bytes = 0;
  for (size_t j = 0; j < chunks.size(); ++j) {
    const EncodedChunk enc = EncodeChunk(chunks[j], shape, o.codec);
    raw_bytes += shape.RawBytes(C);
    for (const auto& seg : enc.layers) encoded_bytes += seg.size();
    CELLAR_ASSIGN_OR_RETURN(RawChunk dec, DecodeChunk(enc, shape));
    for (int l = 0; l < shape.n_layers; ++l) {
      sink.OnLayer(static_cast<int>(j), l, dec.K(shape, l), dec.V(shape, l));
    }
  }
  result.encoded_bytes_ratio = static_cast<double>(encoded_bytes) / static_cast<double>(raw_bytes);
  CELLAR_RETURN_IF_ERROR(reuse->AdoptTokens(kept));
  logits.clear();
  CELLAR_RETURN_IF_ERROR(reuse->FeedCollect(fed, 0, &logits));
  result.reuse = Score(logits, targets, n_vocab, ref_argmax, nullptr);
  return result;
}

}  // namespace cellar
