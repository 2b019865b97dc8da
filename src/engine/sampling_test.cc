#include "engine/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace cellar {
namespace {

std::unique_ptr<Sampler> Make(const SamplingParams& p, int32_t n_vocab) {
  auto s = Sampler::Create(p, n_vocab);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(SamplingTest, GreedyPicksArgMaxAndLowestIdOnTies) {
  auto s = Make({}, 5);
  EXPECT_EQ(s->Sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f, 2.9f}), 1);
  EXPECT_EQ(s->Sample(std::vector<float>{-5.0f, -5.0f, -6.0f, -7.0f, -8.0f}), 0);
  EXPECT_EQ(ArgMax(std::vector<float>{1.0f, 2.0f, 2.0f}), 1);
}

TEST(SamplingTest, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p;
  p.repeat_penalty = 1.1f;
  auto s = Make(p, 4);
  const std::vector<float> logits{2.0f, 1.9f, -1.0f, -1.05f};
  EXPECT_EQ(s->Sample(logits), 0);
  s->Accept(0);  // 2.0 / 1.1 = 1.818 < 1.9
  EXPECT_EQ(s->Sample(logits), 1);

  p.repeat_penalty = 1.04f;  // 2.0 / 1.04 = 1.923 > 1.9
  auto s2 = Make(p, 4);
  s2->Accept(0);
  EXPECT_EQ(s2->Sample(logits), 0);

  // Negative logits are multiplied: -1.0 * 1.1 = -1.1 < -1.05.
  p.repeat_penalty = 1.1f;
  auto s3 = Make(p, 4);
  const std::vector<float> neg{-3.0f, -3.0f, -1.0f, -1.05f};
  s3->Accept(2);
  EXPECT_EQ(s3->Sample(neg), 3);
}

TEST(SamplingTest, FrequencyAndPresencePenaltiesCountOccurrences) {
  SamplingParams p;
  p.frequency_penalty = 0.04f;
  auto s = Make(p, 3);
  const std::vector<float> logits{2.0f, 1.9f, 0.0f};
  s->Accept(0);
  s->Accept(0);  // 2.0 - 2 * 0.04 = 1.92 > 1.9
  EXPECT_EQ(s->Sample(logits), 0);
  s->Accept(0);  // 2.0 - 3 * 0.04 = 1.88 < 1.9
  EXPECT_EQ(s->Sample(logits), 1);

  SamplingParams q;
  q.presence_penalty = 0.15f;  // once, however often the token occurred
  auto t = Make(q, 3);
  t->Accept(0);
  t->Accept(0);
  t->Accept(0);
  EXPECT_EQ(t->Sample(logits), 1);  // 1.85 < 1.9
  q.presence_penalty = 0.05f;
  auto u = Make(q, 3);
  u->Accept(0);
  u->Accept(0);
  EXPECT_EQ(u->Sample(logits), 0);  // 1.95 > 1.9
}

TEST(SamplingTest, PenaltyWindowForgetsOldTokens) {
  SamplingParams p;
  p.repeat_penalty = 2.0f;
  p.penalty_last_n = 2;
  auto s = Make(p, 4);
  const std::vector<float> logits{2.0f, 1.5f, 0.0f, 0.0f};
  s->Accept(0);
  EXPECT_EQ(s->Sample(logits), 1);
  s->Accept(2);
  EXPECT_EQ(s->Sample(logits), 1);  // 0 still in the window of 2
  s->Accept(3);
  EXPECT_EQ(s->Sample(logits), 0);  // 0 has left the window
  s->Accept(0);
  EXPECT_EQ(s->Sample(logits), 1);
  s->Reset();
  EXPECT_EQ(s->Sample(logits), 0);
}

std::vector<int> Histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::vector<int> h(logits.size(), 0);
  for (int i = 0; i < draws; ++i) ++h[static_cast<size_t>(s.Sample(logits))];
  return h;
}

TEST(SamplingTest, TopKOneIsGreedy) {
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  auto s = Make(p, 4);
  const auto h = Histogram(*s, {0.5f, 0.6f, 0.59f, -2.0f}, 200);
  EXPECT_EQ(h[1], 200);
}

TEST(SamplingTest, TopPKeepsSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.3, 0.2.
  const std::vector<float> logits{std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.5f;
  auto s = Make(p, 3);
  auto h = Histogram(*s, logits, 300);
  EXPECT_EQ(h[0], 300);
  p.top_p = 0.7f;
  s = Make(p, 3);
  h = Histogram(*s, logits, 3000);
  EXPECT_EQ(h[2], 0);
  EXPECT_GT(h[0], 1600);  // expected 0.625 * 3000 = 1875
  EXPECT_GT(h[1], 900);   // expected 1125
}

TEST(SamplingTest, MinPDropsUnlikelyTokens) {
  const std::vector<float> logits{std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.5f;  // keeps p >= 0.25
  auto s = Make(p, 3);
  const auto h = Histogram(*s, logits, 2000);
  EXPECT_EQ(h[2], 0);
  EXPECT_GT(h[1], 500);
}

TEST(SamplingTest, TemperatureDrawFollowsSoftmax) {
  // p(1) = 0.75 at temperature 1; at temperature 0.5 it is 0.9.
  const std::vector<float> logits{0.0f, std::log(3.0f)};
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 7;
  auto s = Make(p, 2);
  auto h = Histogram(*s, logits, 8000);
  EXPECT_NEAR(h[1] / 8000.0, 0.75, 0.02);
  p.temperature = 0.5f;
  s = Make(p, 2);
  h = Histogram(*s, logits, 8000);
  EXPECT_NEAR(h[1] / 8000.0, 0.9, 0.015);
}

TEST(SamplingTest, SeedMakesDrawsReproducible) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 2.0f;
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  auto a = Make(p, 50);
  auto b = Make(p, 50);
  p.seed = 1235;
  auto c = Make(p, 50);
  std::vector<int32_t> ra, rb, rc;
  for (int i = 0; i < 100; ++i) {
    ra.push_back(a->Sample(logits));
    rb.push_back(b->Sample(logits));
    rc.push_back(c->Sample(logits));
  }
  EXPECT_EQ(ra, rb);
  EXPECT_NE(ra, rc);
  a->Reset();
  std::vector<int32_t> again;
  for (int i = 0; i < 100; ++i) again.push_back(a->Sample(logits));
  EXPECT_EQ(ra, again);
}

TEST(SamplingTest, RejectsBadParams) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_FALSE(Sampler::Create(p, 10).ok());
  p = {};
  p.temperature = -1.0f;
  EXPECT_FALSE(Sampler::Create(p, 10).ok());
  p = {};
  p.min_p = 1.5f;
  EXPECT_FALSE(Sampler::Create(p, 10).ok());
  p = {};
  p.repeat_penalty = 0.0f;
  EXPECT_FALSE(Sampler::Create(p, 10).ok());
  p = {};
  p.penalty_last_n = -1;
  EXPECT_FALSE(Sampler::Create(p, 10).ok());
  EXPECT_FALSE(Sampler::Create({}, 0).ok());
}

TEST(SamplingTest, LogprobsAreLogSoftmax) {
  const std::vector<float> logits{1.0f, 3.0f, 3.0f, -2.0f, 0.5f};
  double z = 0;
  for (float l : logits) z += std::exp(static_cast<double>(l));
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
  ComputeLogprobs(logits, 4, 3, &chosen, &top);
  EXPECT_EQ(chosen.token, 4);
  EXPECT_NEAR(chosen.logprob, 0.5 - std::log(z), 1e-6);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].token, 1);
  EXPECT_EQ(top[1].token, 2);
  EXPECT_EQ(top[2].token, 0);
  EXPECT_NEAR(top[0].logprob, 3.0 - std::log(z), 1e-6);
  EXPECT_NEAR(top[2].logprob, 1.0 - std::log(z), 1e-6);
  ComputeLogprobs(logits, 0, 99, nullptr, &top);
  EXPECT_EQ(top.size(), logits.size());
  EXPECT_EQ(top.back().token, 3);
}

}  // namespace
}  // namespace cellar
