#include "store/chunk_accumulator.h"

#include <gtest/gtest.h>

#include "base/fp16.h"

namespace cellar {
namespace {

// K value of (layer, position, head, dim), distinct everywhere; V is its negative.
float Val(int layer, int pos, int h, int d) {
  return static_cast<float>(layer * 1000 + pos * 10 + h * 4 + d) * 0.25f;
}

void Feed(ChunkAccumulator* acc, const KvShape& s, int layer, int pos, int n) {
  std::vector<float> k, v;
  for (int i = 0; i < n; ++i) {
    for (int h = 0; h < s.n_kv_heads; ++h) {
      for (int d = 0; d < s.head_dim; ++d) {
        k.push_back(Val(layer, pos + i, h, d));
        v.push_back(-Val(layer, pos + i, h, d));
      }
    }
  }
  acc->Append(layer, pos, n, k.data(), v.data());
}

float At(const uint8_t* p, KvType t, size_t i) {
  if (t == KvType::kF32) {
    float f;
    std::memcpy(&f, p + 4 * i, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, p + 2 * i, 2);
  return Fp16ToFloat(h);
}

class ChunkAccumulatorTest : public ::testing::TestWithParam<KvType> {};

TEST_P(ChunkAccumulatorTest, CutsStepsIntoHeadMajorChunks) {
  const KvShape s{2, 2, 4, GetParam()};
  ChunkAccumulator acc(s, 4, 4);  // chunks from position 4
  // A prefill step of 6 tokens (positions 2..7: 2 and 3 are before the start).
  for (int l = 0; l < 2; ++l) Feed(&acc, s, l, 2, 6);
  auto done = acc.TakeComplete();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].meta.first_token, 4u);
  // Decode steps: one token each; layer 1 lags behind layer 0.
  for (int p = 8; p < 12; ++p) Feed(&acc, s, 0, p, 1);
  EXPECT_TRUE(acc.TakeComplete().empty());
  for (int p = 8; p < 11; ++p) Feed(&acc, s, 1, p, 1);
  EXPECT_TRUE(acc.TakeComplete().empty());
  Feed(&acc, s, 1, 11, 1);
  auto more = acc.TakeComplete();
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].meta.first_token, 8u);
  for (const RawChunk* c : {&done[0], &more[0]}) {
    for (int l = 0; l < 2; ++l) {
      for (int h = 0; h < 2; ++h) {
        for (int t = 0; t < 4; ++t) {
          for (int d = 0; d < 4; ++d) {
            const size_t i = (static_cast<size_t>(h) * 4 + t) * 4 + d;
            const int pos = static_cast<int>(c->meta.first_token) + t;
            EXPECT_EQ(At(c->K(s, l), s.type, i), Val(l, pos, h, d));
            EXPECT_EQ(At(c->V(s, l), s.type, i), -Val(l, pos, h, d));
          }
        }
      }
    }
  }
}

TEST_P(ChunkAccumulatorTest, OutOfOrderChunksWaitForTheirPredecessor) {
  const KvShape s{1, 1, 2, GetParam()};
  ChunkAccumulator acc(s, 2, 0);
  Feed(&acc, s, 0, 2, 2);  // chunk 1 complete first (e.g. back-filled later)
  EXPECT_TRUE(acc.TakeComplete().empty());
  Feed(&acc, s, 0, 0, 2);
  auto done = acc.TakeComplete();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].meta.first_token, 0u);
  EXPECT_EQ(done[1].meta.first_token, 2u);
}

INSTANTIATE_TEST_SUITE_P(Types, ChunkAccumulatorTest, ::testing::Values(KvType::kF16, KvType::kF32),
                         [](const auto& p) { return std::string(KvTypeName(p.param)); });

}  // namespace
}  // namespace cellar
