// Forward-pass consistency on small random-weight models built in memory:
// chunking, batching several sequences, thread counts, validation, KV hooks.
// Most tests use one thread: the machines running the suite are shared and
// oversubscribed, where every parallel job waits for a descheduled worker.
#include "engine/forward_pass.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "engine/kv_access.h"
#include "engine/local_session.h"
#include "engine/sampling.h"
#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/rms_norm.h"
#include "model/model_loader_test_util.h"

namespace cellar {
namespace {

struct TestModel {
  std::vector<uint8_t> bytes;
  std::unique_ptr<Model> model;
};

std::unique_ptr<TestModel> MakeModel(const std::string& arch) {
  testing::TestModelSpec spec;
  spec.arch = arch;
  spec.qkv_bias = arch == "qwen2";
  auto t = std::make_unique<TestModel>();
  t->bytes = testing::BuildTestModel(spec);
  auto file = GgufFile::Parse(t->bytes);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto m = Model::FromGguf(std::move(file).value());
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  t->model = std::move(m).value();
  return t;
}

std::vector<int32_t> RandomTokens(size_t n, uint64_t seed, int32_t n_vocab) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> v(n);
  for (auto& t : v) t = static_cast<int32_t>(rng() % static_cast<uint64_t>(n_vocab));
  return v;
}

double MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return 1e30;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return m;
}

std::unique_ptr<LocalSession> Session(const Model& m, ThreadPool* pool, KvType kv,
                                      int32_t max_batch = 512) {
  LocalSessionOptions o;
  o.n_ctx = 200;
  o.kv_type = kv;
  o.max_batch_tokens = max_batch;
  auto s = LocalSession::Create(m, pool, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// The logits of every prompt position, fed in chunks of `chunk` tokens.
std::vector<float> AllLogits(const Model& m, ThreadPool* pool, KvType kv,
                             const std::vector<int32_t>& tokens, int32_t chunk) {
  auto s = Session(m, pool, kv, chunk);
  std::vector<float> logits;
  EXPECT_TRUE(s->FeedCollect(tokens, 0, &logits).ok());
  return logits;
}

class ForwardPassArchTest : public ::testing::TestWithParam<std::string> {};

// f32 weights and KV: the same math in a different order (chunk boundaries move
// rows between matmul calls; attention never changes). Observed differences are
// ~1e-7 on logits of magnitude ~1; 1e-5 leaves room for summation order only.
constexpr double kTol = 1e-5;

TEST_P(ForwardPassArchTest, OneStepChunkedAndTokenByTokenAgree) {
  auto t = MakeModel(GetParam());
  ThreadPool pool(1);
  const auto tokens = RandomTokens(37, 1, 64);
  for (KvType kv : {KvType::kF32, KvType::kF16}) {
    const auto whole = AllLogits(*t->model, &pool, kv, tokens, 512);
    ASSERT_EQ(whole.size(), 37u * 64u);
    for (int32_t chunk : {1, 5, 16}) {
      const auto chunked = AllLogits(*t->model, &pool, kv, tokens, chunk);
      EXPECT_LT(MaxAbsDiff(whole, chunked), kTol) << "chunk " << chunk << " kv " << KvTypeName(kv);
    }
  }
  // Greedy continuations agree too.
  auto a = Session(*t->model, &pool, KvType::kF32, 512);
  auto b = Session(*t->model, &pool, KvType::kF32, 3);
  auto la = a->Feed(tokens);
  auto lb = b->Feed(tokens);
  ASSERT_TRUE(la.ok() && lb.ok());
  int32_t ta = ArgMax(*la), tb = ArgMax(*lb);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(ta, tb) << "step " << i;
    const int32_t one_a[1] = {ta}, one_b[1] = {tb};
    ta = ArgMax(*a->Feed(one_a));
    tb = ArgMax(*b->Feed(one_b));
  }
}

TEST_P(ForwardPassArchTest, SeveralSequencesInOneStepEqualEachAlone) {
  auto t = MakeModel(GetParam());
  const Model& m = *t->model;
  ThreadPool pool(1);
  // Three sequences: a long prefill, a prefill continuing a cached prefix, a decode.
  const auto p0 = RandomTokens(23, 10, 64);
  const auto prefix1 = RandomTokens(9, 11, 64), p1 = RandomTokens(14, 12, 64);
  const auto prefix2 = RandomTokens(30, 13, 64), p2 = RandomTokens(1, 14, 64);

  // Alone: each in its own LocalSession.
  auto alone = [&](const std::vector<int32_t>& prefix, const std::vector<int32_t>& p) {
    auto s = Session(m, &pool, KvType::kF32);
    if (!prefix.empty()) {
      EXPECT_TRUE(s->Feed(prefix).ok());
    }
    std::vector<float> logits;
    EXPECT_TRUE(s->FeedCollect(p, 0, &logits).ok());
    return logits;
  };
  const auto want0 = alone({}, p0), want1 = alone(prefix1, p1), want2 = alone(prefix2, p2);

  // Together: one pool, shuffled block ids per sequence.
  KvLayout layout;
  layout.n_layers = m.hparams().n_layer;
  layout.n_kv_heads = m.hparams().n_head_kv;
  layout.head_dim = m.hparams().head_dim;
  layout.block_size = 4;
  layout.n_blocks = 60;
  layout.type = KvType::kF32;
  auto kv = KvStorage::Create(layout);
  ASSERT_TRUE(kv.ok());
  ForwardPassOptions fo;
  fo.max_batch_tokens = 64;
  fo.max_context = 128;
  auto fp = ForwardPass::Create(m, kv->get(), &pool, fo);
  ASSERT_TRUE(fp.ok()) << fp.status().ToString();
  std::vector<int32_t> ids(60);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(5));
  const std::vector<int32_t> t0(ids.begin(), ids.begin() + 20),
      t1(ids.begin() + 20, ids.begin() + 40), t2(ids.begin() + 40, ids.end());
  // Cache the prefixes of sequences 1 and 2 first (one step, two entries).
  Batch pre;
  pre.entries = {BatchEntry{1, prefix1, 0, t1, 0}, BatchEntry{2, prefix2, 0, t2, 0}};
  ASSERT_TRUE((*fp)->Step(pre).ok());
  Batch batch;
  batch.entries = {
      BatchEntry{0, p0, 0, t0, static_cast<int32_t>(p0.size())},
      BatchEntry{1, p1, static_cast<int32_t>(prefix1.size()), t1, static_cast<int32_t>(p1.size())},
      BatchEntry{2, p2, static_cast<int32_t>(prefix2.size()), t2, 1}};
  ASSERT_TRUE((*fp)->Step(batch).ok());
  EXPECT_LT(MaxAbsDiff((*fp)->Logits(0), want0), kTol);
  EXPECT_LT(MaxAbsDiff((*fp)->Logits(1), want1), kTol);
  EXPECT_LT(MaxAbsDiff((*fp)->Logits(2), want2), kTol);

  // Only some rows asking for logits: entry 1 wants its last 3.
  batch.entries[0].n_logits = 0;
  batch.entries[1].n_logits = 3;
  // Re-running writes the same KV again, so the results must not change.
  ASSERT_TRUE((*fp)->Step(batch).ok());
  EXPECT_TRUE((*fp)->Logits(0).empty());
  const std::span<const float> w1(want1);
  EXPECT_LT(MaxAbsDiff((*fp)->Logits(1), w1.subspan(w1.size() - 3 * 64)), kTol);
  EXPECT_LT(MaxAbsDiff((*fp)->Logits(2), want2), kTol);
}

TEST_P(ForwardPassArchTest, ThreadCountsAgree) {
  auto t = MakeModel(GetParam());
  const auto tokens = RandomTokens(41, 3, 64);
  ThreadPool one(1), two(2), three(3);
  const auto a = AllLogits(*t->model, &one, KvType::kF16, tokens, 512);
  const auto b = AllLogits(*t->model, &two, KvType::kF16, tokens, 512);
  const auto c = AllLogits(*t->model, &three, KvType::kF16, tokens, 512);
  EXPECT_LT(MaxAbsDiff(a, b), kTol);
  EXPECT_LT(MaxAbsDiff(a, c), kTol);
}

// Records what the hooks see.
class Recorder : public KvObserver, public KvLoadBarrier {
 public:
  struct Call {
    int layer, entry;
    int64_t seq_id;
    int32_t start_pos;
    std::vector<float> k, v;
  };
  void OnLayerKv(int layer, int entry_index, const BatchEntry& e, const float* k,
                 const float* v) override {
    const size_t n = e.tokens.size() * static_cast<size_t>(row_);
    calls.push_back({layer, entry_index, e.seq_id, e.start_pos, {k, k + n}, {v, v + n}});
  }
  void WaitLayerReady(int layer) override { waits.push_back(layer); }
  int64_t row_ = 0;
  std::vector<Call> calls;
  std::vector<int> waits;
};

TEST_P(ForwardPassArchTest, HooksDeliverPreRopeKvOfEveryLayer) {
  auto t = MakeModel(GetParam());
  const Model& m = *t->model;
  const ModelHParams& hp = m.hparams();
  ThreadPool pool(1);
  auto s = Session(m, &pool, KvType::kF32, 512);
  const auto prefix = RandomTokens(6, 20, 64), tokens = RandomTokens(11, 21, 64);
  ASSERT_TRUE(s->Feed(prefix).ok());
  Recorder rec;
  rec.row_ = hp.n_embd_kv();
  ASSERT_TRUE(s->Feed(tokens, StepHooks{&rec, &rec}).ok());
  ASSERT_EQ(rec.calls.size(), static_cast<size_t>(hp.n_layer));
  EXPECT_EQ(rec.waits, std::vector<int>({0, 1}));
  const int64_t n_kv = hp.n_embd_kv();
  for (const auto& c : rec.calls) {
    EXPECT_EQ(c.start_pos, 6);
    // Rotating the hook's pre-RoPE keys gives exactly the pool's keys; V is the pool's V.
    std::vector<float> rotated = c.k;
    std::vector<int32_t> positions(tokens.size());
    std::iota(positions.begin(), positions.end(), 6);
    RotateKeys(hp.rope, hp.n_head_kv, rotated.data(), positions);
    std::vector<float> k(static_cast<size_t>(n_kv)), v(static_cast<size_t>(n_kv));
    for (size_t i = 0; i < tokens.size(); ++i) {
      ReadTokenKv(s->forward().kv(), c.layer, s->block_table(), positions[i], k.data(), v.data());
      for (int64_t j = 0; j < n_kv; ++j) {
        ASSERT_EQ(k[static_cast<size_t>(j)],
                  rotated[i * static_cast<size_t>(n_kv) + static_cast<size_t>(j)]);
        ASSERT_EQ(v[static_cast<size_t>(j)],
                  c.v[i * static_cast<size_t>(n_kv) + static_cast<size_t>(j)]);
      }
    }
  }
  // Layer 0's keys recomputed from scratch: RMSNorm(embedding) * attn_norm, times Wk, + bias.
  const LayerWeights& L0 = m.weights().layers[0];
  std::vector<float> x(static_cast<size_t>(hp.n_embd)), k(static_cast<size_t>(n_kv)),
      v(static_cast<size_t>(n_kv));
  const int64_t row_bytes = *GgmlRowBytes(m.weights().token_embd.type, hp.n_embd);
  for (size_t i = 0; i < tokens.size(); ++i) {
    ASSERT_TRUE(DequantizeRow(m.weights().token_embd.type,
                              static_cast<const uint8_t*>(m.weights().token_embd.data) +
                                  tokens[i] * row_bytes,
                              x.data(), hp.n_embd)
                    .ok());
    RmsNormReference(x.data(), L0.attn_norm, x.data(), hp.n_embd, hp.rms_eps);
    MatMulReference(L0.wk, x.data(), hp.n_embd, 1, k.data(), n_kv, pool);
    MatMulReference(L0.wv, x.data(), hp.n_embd, 1, v.data(), n_kv, pool);
    for (int64_t j = 0; j < n_kv; ++j) {
      const auto J = static_cast<size_t>(j);
      const float bk = L0.bk != nullptr ? L0.bk[j] : 0.0f, bv = L0.bv != nullptr ? L0.bv[j] : 0.0f;
      ASSERT_NEAR(rec.calls[0].k[i * static_cast<size_t>(n_kv) + J], k[J] + bk, 1e-5);
      ASSERT_NEAR(rec.calls[0].v[i * static_cast<size_t>(n_kv) + J], v[J] + bv, 1e-5);
    }
  }
}

// A loader that writes a saved prefix into the pool layer by layer when the step
// asks for it — the CachedAttention path: save pre-RoPE K/V, reload (re-rotated).
class PrefixLoader : public KvLoadBarrier {
 public:
  PrefixLoader(const Recorder& saved, const ModelHParams& hp, KvStorage* kv,
               std::vector<int32_t> table)
      : saved_(saved), hp_(hp), kv_(kv), table_(std::move(table)) {}
  void WaitLayerReady(int layer) override {
    const auto& c = saved_.calls[static_cast<size_t>(layer)];
    const int64_t n_kv = hp_.n_embd_kv();
    const size_t n = c.k.size() / static_cast<size_t>(n_kv);
    std::vector<float> k = c.k;
    std::vector<int32_t> pos(n);
    std::iota(pos.begin(), pos.end(), c.start_pos);
    RotateKeys(hp_.rope, hp_.n_head_kv, k.data(), pos);
    for (size_t i = 0; i < n; ++i) {
      WriteTokenKv(*kv_, layer, table_, pos[i], k.data() + i * static_cast<size_t>(n_kv),
                   c.v.data() + i * static_cast<size_t>(n_kv));
    }
    loaded.push_back(layer);
  }
  std::vector<int> loaded;

 private:
  const Recorder& saved_;
  const ModelHParams& hp_;
  KvStorage* kv_;
  std::vector<int32_t> table_;
};

TEST_P(ForwardPassArchTest, SavedPreRopeKvReloadedLayerByLayerEqualsRecompute) {
  auto t = MakeModel(GetParam());
  const Model& m = *t->model;
  ThreadPool pool(1);
  const auto history = RandomTokens(19, 30, 64), turn = RandomTokens(8, 31, 64);
  // Full recompute of history + turn.
  auto full = Session(m, &pool, KvType::kF32);
  std::vector<int32_t> all = history;
  all.insert(all.end(), turn.begin(), turn.end());
  auto want = full->Feed(all);
  ASSERT_TRUE(want.ok());
  const std::vector<float> want_logits(want->begin(), want->end());
  // Turn 1 saves the history's pre-RoPE K/V through the observer.
  Recorder saved;
  saved.row_ = m.hparams().n_embd_kv();
  {
    auto s1 = Session(m, &pool, KvType::kF32);
    ASSERT_TRUE(s1->Feed(history, StepHooks{&saved, nullptr}).ok());
  }
  // Turn 2, on a fresh pool: the loader fills the history while the step runs.
  auto s2 = Session(m, &pool, KvType::kF32);
  PrefixLoader loader(saved, m.hparams(), &s2->forward().kv(), s2->block_table());
  Batch b;
  b.entries = {BatchEntry{7, turn, static_cast<int32_t>(history.size()), s2->block_table(), 1}};
  ASSERT_TRUE(s2->forward().Step(b, StepHooks{nullptr, &loader}).ok());
  EXPECT_EQ(loader.loaded, std::vector<int>({0, 1}));
  EXPECT_LT(MaxAbsDiff(s2->forward().Logits(0), want_logits), kTol);
}

TEST_P(ForwardPassArchTest, MalformedBatchesAreRejected) {
  auto t = MakeModel(GetParam());
  ThreadPool pool(1);
  auto s = Session(*t->model, &pool, KvType::kF16, 16);
  ForwardPass& fp = s->forward();
  const std::vector<int32_t> table = s->block_table();
  const std::vector<int32_t> ok_tokens{1, 2, 3}, bad_token{1, 64}, empty{};
  const std::vector<int32_t> many(17, 5);
  const std::vector<int32_t> short_table{0}, bad_table{0, 999};
  auto status = [&](BatchEntry e) {
    Batch b;
    b.entries = {e};
    return fp.Step(b).code();
  };
  EXPECT_EQ(status({0, ok_tokens, 0, table, 1}), StatusCode::kOk);
  EXPECT_EQ(status({0, empty, 0, table, 0}), StatusCode::kInvalidArgument);
  EXPECT_EQ(status({0, bad_token, 0, table, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(status({0, many, 0, table, 1}), StatusCode::kOutOfRange);
  EXPECT_EQ(status({0, ok_tokens, 198, table, 1}), StatusCode::kOutOfRange);
  EXPECT_EQ(status({0, ok_tokens, -1, table, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(status({0, ok_tokens, 15, short_table, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(status({0, ok_tokens, 15, bad_table, 1}), StatusCode::kInvalidArgument);
  EXPECT_EQ(status({0, ok_tokens, 0, table, 4}), StatusCode::kInvalidArgument);
  // LocalSession reports a full context clearly.
  const std::vector<int32_t> lots(201, 3);
  auto r = s->Feed(lots);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("context"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Archs, ForwardPassArchTest, ::testing::Values("llama", "qwen2"));

}  // namespace
}  // namespace cellar
