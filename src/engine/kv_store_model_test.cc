// The store on a real engine: a conversation continued from a pool hit, a DRAM
// hit, a disk hit and after a restart (the store reopened from disk) gives the
// same greedy tokens as a full recompute, with each token's log-probability
// within a tolerance; the tier that served the prefix is pinned through the
// engine's per-tier hit counts. Models: stories260K (a real tiny Llama) and
// the random-weight tiny llama / qwen2 (NEOX RoPE, QKV biases).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "base/testing/shared_data.h"
#include "engine/kv_store_test_util.h"

namespace cellar {
namespace {

using testing::ExpectSameTurn;
using testing::MakeStoreEngine;
using testing::RunGreedy;
using testing::StoreEngine;
using testing::TestStoreOptions;
using testing::TurnResult;

// f16 KV: a stored key is rounded to f16 before RoPE, a computed one after, so
// reused KV differs from recomputed KV by one more f16 rounding of the keys.
// Its effect on a token's log-probability is of the same size as the effect of
// the f16 KV type itself (f16 vs f32 KV on the same run, printed by the test):
// measured 0.0015-0.0068 against 0.0020-0.0096 (docs/STORE.md, "Exactness");
// the bound is above both. With f32 KV a reload is bit-exact (measured 0).
constexpr float kLogprobTolF16 = 1e-2f;
constexpr float kLogprobTolF32 = 1e-4f;

struct ModelCase {
  const char* file;
  KvType kv_type;
};

class KvStoreModelTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath(std::string("models/") + GetParam().file).string();
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "needs ../shared: " << model_;
  }
  LocalEngineOptions Engine(bool prefix_cache = true) const {
    LocalEngineOptions o;
    o.kv_type = GetParam().kv_type;
    o.prefix_cache = prefix_cache;
    o.n_ctx = 512;
    return o;
  }
  float Tol() const { return GetParam().kv_type == KvType::kF16 ? kLogprobTolF16 : kLogprobTolF32; }

  // Turn 1's prompt, and turn 2's: turn 1's prompt and reply plus new text.
  void MakePrompts(LocalEngineService& e, const TurnResult& first) {
    p2_ = p1_;
    p2_.insert(p2_.end(), first.tokens.begin(), first.tokens.end());
    std::vector<TokenId> more = *e.TokenizeText("Then the cat said hello to the bird.");
    p2_.insert(p2_.end(), more.begin() + 1, more.end());  // without BOS
  }

  std::string model_;
  std::vector<TokenId> p1_, p2_;
  testing::TempDir dir_;
};

TEST_P(KvStoreModelTest, ContinuationFromEveryTierMatchesRecompute) {
  // The reference: no prefix cache, no store.
  StoreEngine ref = MakeStoreEngine(model_, Engine(/*prefix_cache=*/false), std::nullopt);
  ASSERT_NE(ref.engine, nullptr);
  p1_ = *ref.engine->TokenizeText(
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park with her friends. One day, she saw a big red ball under a tree.");
  ASSERT_GE(p1_.size(), 40u);
  const TurnResult first = RunGreedy(*ref.engine, p1_, 48);
  ASSERT_EQ(first.tokens.size(), 48u);
  MakePrompts(*ref.engine, first);
  const TurnResult want = RunGreedy(*ref.engine, p2_, 24);
  ASSERT_EQ(want.summary.n_cached_tokens, 0);
  if (GetParam().kv_type == KvType::kF16) {
    // The f16 KV type's own effect, for comparison (not asserted).
    LocalEngineOptions f32 = Engine(false);
    f32.kv_type = KvType::kF32;
    StoreEngine r32 = MakeStoreEngine(model_, f32, std::nullopt);
    const TurnResult w32 = RunGreedy(*r32.engine, p2_, 24);
    float noise = 0;
    for (size_t i = 0; i < w32.logprobs.size() && i < want.logprobs.size(); ++i) {
      noise = std::max(noise, std::fabs(w32.logprobs[i] - want.logprobs[i]));
    }
    RecordProperty("f16_noise", std::to_string(noise));
    std::printf("f16 KV vs f32 KV: largest log-probability difference %.5f\n", noise);
  }
  // Whole chunks of turn 1's prompt + reply (its last token's KV is never computed).
  const int C = 32;
  const int stored = static_cast<int>(p1_.size() + first.tokens.size() - 1) / C * C;

  {  // Pool hit (the store is on but the pool still holds turn 1).
    StoreEngine s = MakeStoreEngine(model_, Engine(), TestStoreOptions(dir_.path() / "pool"));
    ASSERT_NE(s.engine, nullptr);
    ExpectSameTurn(RunGreedy(*s.engine, p1_, 48), first, Tol(), "turn 1");
    const TurnResult got = RunGreedy(*s.engine, p2_, 24);
    ExpectSameTurn(got, want, Tol(), "pool hit");
    EXPECT_EQ(got.summary.n_cached_tokens,
              static_cast<int>(p1_.size() + first.tokens.size() - 1) / 16 * 16);
    EXPECT_EQ(s.Hits("dram") + s.Hits("disk"), 0u);
  }
  {  // DRAM hit: no prefix cache, no disk tier.
    auto so = TestStoreOptions(dir_.path() / "dram");
    so.store.disk_bytes = 0;
    StoreEngine s = MakeStoreEngine(model_, Engine(false), so);
    ASSERT_NE(s.engine, nullptr);
    RunGreedy(*s.engine, p1_, 48);
    s.store->Flush();
    const TurnResult got = RunGreedy(*s.engine, p2_, 24);
    ExpectSameTurn(got, want, Tol(), "DRAM hit");
    EXPECT_EQ(got.summary.n_cached_tokens, stored);
    EXPECT_EQ(s.Hits("dram"), static_cast<uint64_t>(stored));
    EXPECT_EQ(s.Hits("disk"), 0u);
    EXPECT_EQ(s.store->Metrics().loads_started, 1);
  }
  {  // Disk hit: no prefix cache, no DRAM tier.
    auto so = TestStoreOptions(dir_.path() / "disk");
    so.store.dram_bytes = 0;
    StoreEngine s = MakeStoreEngine(model_, Engine(false), so);
    ASSERT_NE(s.engine, nullptr);
    RunGreedy(*s.engine, p1_, 48);
    s.store->Flush();
    const TurnResult got = RunGreedy(*s.engine, p2_, 24);
    ExpectSameTurn(got, want, Tol(), "disk hit");
    EXPECT_EQ(got.summary.n_cached_tokens, stored);
    EXPECT_EQ(s.Hits("disk"), static_cast<uint64_t>(stored));
    EXPECT_EQ(s.Hits("dram"), 0u);
  }
  {  // Restart: turn 1 on one server (its DRAM persisted at shutdown), turn 2
     // on a new one that reopens the folder.
    const auto d = dir_.path() / "restart";
    StoreEngine a = MakeStoreEngine(model_, Engine(), TestStoreOptions(d));
    ASSERT_NE(a.engine, nullptr);
    RunGreedy(*a.engine, p1_, 48);
    a.Shutdown();
    StoreEngine b = MakeStoreEngine(model_, Engine(), TestStoreOptions(d));
    ASSERT_NE(b.engine, nullptr);
    EXPECT_EQ(b.store->Metrics().chunks_disk, stored / C);
    const TurnResult got = RunGreedy(*b.engine, p2_, 24);
    ExpectSameTurn(got, want, Tol(), "after restart");
    EXPECT_EQ(got.summary.n_cached_tokens, stored);
    EXPECT_EQ(b.Hits("disk"), static_cast<uint64_t>(stored));
  }
}

TEST_P(KvStoreModelTest, ChunkHeadsFromThePoolAreSavedExactly) {
  // Chunks of 64 tokens: turn 2 starts from a pool prefix that ends inside a
  // chunk, so that chunk's head is read back from the pool (rotation undone)
  // to be saved. A third turn on a fresh server loads it from disk.
  StoreEngine ref = MakeStoreEngine(model_, Engine(false), std::nullopt);
  ASSERT_NE(ref.engine, nullptr);
  p1_ = *ref.engine->TokenizeText("Tom had a toy car. He liked to play with it every day.");
  const TurnResult first = RunGreedy(*ref.engine, p1_, 40);
  MakePrompts(*ref.engine, first);
  const TurnResult second = RunGreedy(*ref.engine, p2_, 40);
  std::vector<TokenId> p3 = p2_;
  p3.insert(p3.end(), second.tokens.begin(), second.tokens.end());
  p3.push_back(p1_[1]);
  const TurnResult want = RunGreedy(*ref.engine, p3, 16);

  auto so = TestStoreOptions(dir_.path() / "heads");
  so.store.chunk_tokens = 64;
  StoreEngine a = MakeStoreEngine(model_, Engine(), so);
  ASSERT_NE(a.engine, nullptr);
  RunGreedy(*a.engine, p1_, 40);
  const TurnResult got2 = RunGreedy(*a.engine, p2_, 40);
  ExpectSameTurn(got2, second, Tol(), "turn 2 (pool)");
  ASSERT_NE(got2.summary.n_cached_tokens % 64, 0) << "the pool prefix should end inside a chunk";
  a.Shutdown();
  StoreEngine b = MakeStoreEngine(model_, Engine(false), so);
  ASSERT_NE(b.engine, nullptr);
  const TurnResult got3 = RunGreedy(*b.engine, p3, 16);
  ExpectSameTurn(got3, want, Tol(), "turn 3 (disk, after restart)");
  EXPECT_EQ(got3.summary.n_cached_tokens,
            static_cast<int>(p2_.size() + second.tokens.size() - 1) / 64 * 64);
}

// The store learns which chunks the working pool holds: a pool of 10 blocks
// (160 tokens) keeps conversation A's chunks until conversation B needs every
// block; the scheduler policy then demotes B's chunks (in the pool) before A's.
TEST(KvStorePoolResidencyTest, StoreFollowsWhatThePoolHolds) {
  const std::string model = testing::SharedPath("models/stories260K.gguf").string();
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "needs ../shared: " << model;
  testing::TempDir dir;
  LocalEngineOptions eo;
  eo.kv_type = KvType::kF32;
  eo.kv_mem_bytes = 10 * 16 * 1280;  // 5 layers x 4 KV heads x 8 dims x K,V x f32 = 1280 B/token
  auto so = TestStoreOptions(dir.path() / "pool");
  so.store.policy = PolicyKind::kScheduler;
  StoreEngine se = MakeStoreEngine(model, eo, so);
  ASSERT_NE(se.engine, nullptr);
  ASSERT_EQ(se.engine->model_info().n_ctx, 160);
  TieredStore* tiers = se.store->tiers();
  auto in_pool = [&](const std::vector<Hash128>& hs) {
    std::vector<bool> out;
    for (const Hash128& h : hs) out.push_back(tiers->InPool(h));
    return out;
  };
  // Residency reaches the store once per engine step: wait for it.
  auto wait_for = [&](const std::vector<Hash128>& hs, bool want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (in_pool(hs) != std::vector<bool>(hs.size(), want) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return in_pool(hs);
  };

  std::vector<TokenId> pa = *se.engine->TokenizeText("Tom had a red ball. He liked to play.");
  RunGreedy(*se.engine, pa, 80 - static_cast<int>(pa.size()), "a");
  se.store->Flush();
  const std::vector<Hash128> a_chunks = tiers->DemotionOrder();
  ASSERT_EQ(a_chunks.size(), 2u);  // 79 tokens with KV: 2 chunks of 32
  EXPECT_EQ(wait_for(a_chunks, true), std::vector<bool>(2, true));

  std::vector<TokenId> pb = {pa[0]};
  const std::vector<TokenId> text = *se.engine->TokenizeText("The sun was hot and the bird sang.");
  while (pb.size() < 100) pb.insert(pb.end(), text.begin() + 1, text.end());
  RunGreedy(*se.engine, pb, 159 - static_cast<int>(pb.size()), "b");
  se.store->Flush();
  std::vector<Hash128> b_chunks;
  for (const Hash128& h : tiers->DemotionOrder()) {
    if (std::find(a_chunks.begin(), a_chunks.end(), h) == a_chunks.end()) b_chunks.push_back(h);
  }
  ASSERT_EQ(b_chunks.size(), 4u);  // 158 tokens with KV: 4 chunks
  EXPECT_EQ(wait_for(a_chunks, false), std::vector<bool>(2, false));
  EXPECT_EQ(wait_for(b_chunks, true), std::vector<bool>(4, true));
  // Pool-held chunks first (B's), then A's, which the pool lost.
  const std::vector<Hash128> order = tiers->DemotionOrder();
  ASSERT_EQ(order.size(), 6u);
  auto sorted = [](std::vector<Hash128> v) {
    std::sort(v.begin(), v.end(), [](const Hash128& x, const Hash128& y) {
      return std::tie(x.hi, x.lo) < std::tie(y.hi, y.lo);
    });
    return v;
  };
  EXPECT_EQ(sorted({order.begin(), order.begin() + 4}), sorted(b_chunks));
  EXPECT_EQ(sorted({order.begin() + 4, order.end()}), sorted(a_chunks));
}

INSTANTIATE_TEST_SUITE_P(Models, KvStoreModelTest,
                         ::testing::Values(ModelCase{"stories260K.gguf", KvType::kF16},
                                           ModelCase{"stories260K.gguf", KvType::kF32},
                                           ModelCase{"tiny/tiny-llama-Q8_0.gguf", KvType::kF16},
                                           ModelCase{"tiny/tiny-qwen2-Q8_0.gguf", KvType::kF16}),
                         [](const ::testing::TestParamInfo<ModelCase>& i) {
                           std::string n = i.param.file;
                           n = n.substr(n.rfind('/') + 1);
                           n = n.substr(0, n.find('.'));
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n + (i.param.kv_type == KvType::kF16 ? "_f16" : "_f32");
                         });

}  // namespace
}  // namespace cellar
