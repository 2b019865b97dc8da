#include "engine/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/engine_test_model.h"

namespace cellar {
namespace {

using testing::RandomTokenIds;

TEST(NllAccumulatorTest, UniformLogitsGiveVocabularySize) {
  NllAccumulator acc;
  const std::vector<float> logits(50, 0.3f);
  for (int i = 0; i < 10; ++i) acc.Add(logits, i);
  EXPECT_NEAR(acc.perplexity(), 50.0, 1e-9);
  EXPECT_EQ(acc.perplexity_error(), 0.0);
  EXPECT_EQ(acc.count(), 10);
}

TEST(NllAccumulatorTest, KnownValuesAndError) {
  NllAccumulator acc;
  const std::vector<float> logits{0.0f, std::log(3.0f)};  // p = 0.25, 0.75
  acc.Add(logits, 0);
  acc.Add(logits, 1);
  const double l1 = logits[1], lse = std::log(1.0 + std::exp(l1));
  const double n0 = lse, n1 = lse - l1, mean = (n0 + n1) / 2;
  EXPECT_NEAR(acc.mean_nll(), mean, 1e-12);
  EXPECT_NEAR(acc.perplexity(), std::exp(mean), 1e-12);
  const double var = (n0 * n0 + n1 * n1) / 2 - mean * mean;
  EXPECT_NEAR(acc.perplexity_error(), std::sqrt(var / 1) * std::exp(mean), 1e-12);
}

TEST(PerplexityTest, MatchesDirectScoringOfEveryChunk) {
  auto tm = testing::MakeInMemoryModel();
  const Model& m = *tm->model;
  ThreadPool pool(1);
  LocalSessionOptions so;
  so.n_ctx = 32;
  so.kv_type = KvType::kF32;
  so.max_batch_tokens = 8;  // chunks are prefilled in several steps
  auto s = LocalSession::Create(m, &pool, so);
  ASSERT_TRUE(s.ok());
  const auto tokens = RandomTokenIds(100, 9, 64);  // 3 chunks of 32, 4 left over
  PerplexityOptions po;
  po.n_ctx = 32;
  po.bos_token = 1;
  std::vector<PerplexityChunk> chunks;
  auto r =
      ComputePerplexity(**s, tokens, po, [&](const PerplexityChunk& c) { chunks.push_back(c); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->n_chunks, 3);
  EXPECT_EQ(r->n_scored, 3 * 15);  // positions 16..30 of each chunk
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].running_ppl, r->ppl);

  // Direct: each chunk token by token on a fresh session, scoring by hand.
  NllAccumulator want;
  for (int c = 0; c < 3; ++c) {
    auto d = LocalSession::Create(m, &pool, so);
    ASSERT_TRUE(d.ok());
    for (int j = 0; j < 31; ++j) {
      const int32_t tok = j == 0 ? 1 : tokens[static_cast<size_t>(c * 32 + j)];
      const int32_t one[1] = {tok};
      auto l = (*d)->Feed(one);
      ASSERT_TRUE(l.ok());
      if (j >= 16) want.Add(*l, tokens[static_cast<size_t>(c * 32 + j + 1)]);
    }
  }
  EXPECT_NEAR(r->ppl, want.perplexity(), 1e-5 * want.perplexity());
  EXPECT_NEAR(r->ppl_error, want.perplexity_error(), 1e-4 * want.perplexity_error());
  // Random weights: close to, but not exactly, uniform over the 64 tokens.
  EXPECT_GT(r->ppl, 20.0);
  EXPECT_LT(r->ppl, 200.0);
  // Deterministic.
  auto again = ComputePerplexity(**s, tokens, po);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ppl, r->ppl);
}

TEST(PerplexityTest, RejectsTooShortTextOrSmallSession) {
  auto tm = testing::MakeInMemoryModel();
  ThreadPool pool(1);
  LocalSessionOptions so;
  so.n_ctx = 16;
  auto s = LocalSession::Create(*tm->model, &pool, so);
  ASSERT_TRUE(s.ok());
  PerplexityOptions po;
  po.n_ctx = 16;
  EXPECT_EQ(ComputePerplexity(**s, RandomTokenIds(31, 1, 64), po).status().code(),
            StatusCode::kInvalidArgument);
  po.n_ctx = 32;
  EXPECT_EQ(ComputePerplexity(**s, RandomTokenIds(100, 1, 64), po).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cellar
