#include "engine/local_session.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine_test_model.h"

namespace cellar {
namespace {

using testing::RandomTokenIds;

double MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  double m = a.size() == b.size() ? 0.0 : 1e30;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return m;
}

std::unique_ptr<LocalSession> NewSession(const Model& m, ThreadPool* pool, int32_t n_ctx = 64) {
  LocalSessionOptions o;
  o.n_ctx = n_ctx;
  o.kv_type = KvType::kF32;
  auto s = LocalSession::Create(m, pool, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

std::vector<float> FreshLogits(const Model& m, ThreadPool* pool, const std::vector<int32_t>& t) {
  auto s = NewSession(m, pool);
  auto l = s->Feed(t);
  EXPECT_TRUE(l.ok());
  return {l->begin(), l->end()};
}

TEST(LocalSessionTest, PrefixReuseFeedsOnlyNewTokens) {
  auto tm = testing::MakeInMemoryModel();
  const Model& m = *tm->model;
  ThreadPool pool(1);
  auto s = NewSession(m, &pool);
  const auto a = RandomTokenIds(20, 1, 64), b = RandomTokenIds(10, 2, 64);
  auto r = s->FeedWithPrefixReuse(a);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_reused, 0);
  EXPECT_EQ(r->n_fed, 20);
  // Turn 2 appends: only the 10 new tokens are fed.
  std::vector<int32_t> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  r = s->FeedWithPrefixReuse(ab);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_reused, 20);
  EXPECT_EQ(r->n_fed, 10);
  EXPECT_LT(MaxAbsDiff(r->logits, FreshLogits(m, &pool, ab)), 1e-5);
  EXPECT_EQ(s->tokens(), ab);
  // A history edited at position 15: the first 15 are kept.
  std::vector<int32_t> edited = ab;
  edited[15] = (edited[15] + 1) % 64;
  r = s->FeedWithPrefixReuse(edited);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_reused, 15);
  EXPECT_EQ(r->n_fed, 15);
  EXPECT_LT(MaxAbsDiff(r->logits, FreshLogits(m, &pool, edited)), 1e-5);
  // The same tokens again: the last one is fed to get its logits.
  r = s->FeedWithPrefixReuse(edited);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_reused, 29);
  EXPECT_EQ(r->n_fed, 1);
  // Too long for the context: a clear error, the cache is kept.
  const auto too_long = RandomTokenIds(65, 3, 64);
  auto bad = s->FeedWithPrefixReuse(too_long);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s->tokens(), edited);
}

TEST(LocalSessionTest, FeedPastContextIsAnError) {
  auto tm = testing::MakeInMemoryModel();
  ThreadPool pool(1);
  auto s = NewSession(*tm->model, &pool, 16);
  ASSERT_TRUE(s->Feed(RandomTokenIds(16, 4, 64)).ok());
  const int32_t one[1] = {3};
  auto r = s->Feed(one);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s->n_past(), 16);
  s->Truncate(4);
  EXPECT_EQ(s->n_past(), 4);
  EXPECT_TRUE(s->Feed(one).ok());
}

}  // namespace
}  // namespace cellar
