#include "store/truncation.h"

#include <gtest/gtest.h>

namespace cellar {
namespace {

TruncationPlan Plan(int n_prompt, int n_cached, int max_tokens, int n_ctx, int n_keep,
                    int align = 1) {
  auto p = PlanTruncation({n_prompt, n_cached, max_tokens, n_ctx, n_keep, align});
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : TruncationPlan{};
}

TEST(TruncationTest, FitsWithoutTruncation) {
  const TruncationPlan p = Plan(100, 64, 20, 128, 10);
  EXPECT_FALSE(p.truncated);
  EXPECT_EQ(p.n_dropped(), 0);
  EXPECT_EQ(p.load, (std::vector<KeptRange>{{0, 64, 0}}));
  EXPECT_EQ(p.n_loaded, 64);
  EXPECT_EQ(p.compute, (std::vector<KeptRange>{{64, 100, 64}}));
  EXPECT_EQ(p.n_positions, 100);
}

TEST(TruncationTest, DropsTheMiddleAndReusesKeptTokensAtNewPositions) {
  // 200-token prompt (190 cached), 30 to generate, context 128, keep 16.
  // Need 200 + 30 - 128 = 102 dropped: [16, 118).
  const TruncationPlan p = Plan(200, 190, 30, 128, 16);
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.drop_begin, 16);
  EXPECT_EQ(p.drop_end, 118);
  EXPECT_EQ(p.load, (std::vector<KeptRange>{{0, 16, 0}, {118, 190, 16}}));
  EXPECT_EQ(p.n_loaded, 16 + 72);
  EXPECT_EQ(p.compute, (std::vector<KeptRange>{{190, 200, 88}}));
  EXPECT_EQ(p.n_positions, 98);
  EXPECT_EQ(p.n_positions + 30, 128);
}

TEST(TruncationTest, DropIsRoundedUpToTheAlignment) {
  const TruncationPlan p = Plan(200, 190, 30, 128, 16, 64);  // 102 -> 128
  EXPECT_EQ(p.n_dropped(), 128);
  EXPECT_EQ(p.load, (std::vector<KeptRange>{{0, 16, 0}, {144, 190, 16}}));
  EXPECT_EQ(p.compute, (std::vector<KeptRange>{{190, 200, 62}}));
  EXPECT_EQ(p.n_positions, 72);
}

TEST(TruncationTest, CachedPrefixEndingInsideTheDroppedRange) {
  const TruncationPlan p = Plan(200, 64, 30, 128, 16);
  EXPECT_EQ(p.load, (std::vector<KeptRange>{{0, 16, 0}}));
  EXPECT_EQ(p.n_loaded, 16);
  EXPECT_EQ(p.compute, (std::vector<KeptRange>{{118, 200, 16}}));
}

TEST(TruncationTest, CachedPrefixShorterThanTheKeptHead) {
  // Loaded KV must be a prefix of the new layout: only [0, 8) can be loaded.
  const TruncationPlan p = Plan(200, 8, 30, 128, 16);
  EXPECT_EQ(p.load, (std::vector<KeptRange>{{0, 8, 0}}));
  EXPECT_EQ(p.n_loaded, 8);
  EXPECT_EQ(p.compute, (std::vector<KeptRange>{{8, 16, 8}, {118, 200, 16}}));
  EXPECT_EQ(p.n_positions, 98);
}

TEST(TruncationTest, NoKeptHead) {
  const TruncationPlan p = Plan(200, 200, 28, 128, 0);
  EXPECT_EQ(p.drop_begin, 0);
  EXPECT_EQ(p.drop_end, 100);
  EXPECT_EQ(p.load, (std::vector<KeptRange>{{100, 200, 0}}));
  EXPECT_TRUE(p.compute.empty());
  EXPECT_EQ(p.n_positions, 100);
}

TEST(TruncationTest, AlignmentNeverDropsTheLastPromptToken) {
  const TruncationPlan p = Plan(100, 0, 10, 100, 10, 1000);
  EXPECT_EQ(p.n_dropped(), 89);  // capped: keep 10 + the last token
  EXPECT_EQ(p.compute, (std::vector<KeptRange>{{0, 10, 0}, {99, 100, 10}}));
  EXPECT_EQ(p.n_positions, 11);
}

TEST(TruncationTest, Errors) {
  EXPECT_EQ(PlanTruncation({100, 0, 200, 128, 10, 1}).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(PlanTruncation({100, 101, 10, 128, 10, 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanTruncation({0, 0, 10, 128, 10, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanTruncation({10, 0, 10, 128, 10, 0}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cellar
