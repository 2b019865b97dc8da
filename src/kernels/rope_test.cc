#include "kernels/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace cellar {
namespace {

std::vector<float> RandomFloats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

RopeParams Params(RopeStyle style, int head_dim, int n_rot) {
  RopeParams p;
  p.style = style;
  p.head_dim = head_dim;
  p.n_rot = n_rot;
  p.freq_base = 10000.0f;
  return p;
}

// theta is built by repeated float multiplication (as ggml does): its absolute
// error grows with the position, about 2e-7 rad per unit of position at worst.
float Tolerance(int32_t pos) { return 2e-6f + 2e-7f * static_cast<float>(pos); }

void ExpectMatchesReference(const RopeParams& p, int n_heads, uint64_t seed) {
  for (int32_t pos : {0, 1, 2, 17, 255, 1000, 4095}) {
    auto x =
        RandomFloats(static_cast<size_t>(n_heads * p.head_dim), seed + static_cast<uint64_t>(pos));
    auto want = x;
    RopeRotateReference(p, pos, want.data(), n_heads);
    RopeRotate(p, pos, x.data(), n_heads);
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_NEAR(x[i], want[i], Tolerance(pos))
          << "style=" << static_cast<int>(p.style) << " d=" << p.head_dim << " n_rot=" << p.n_rot
          << " pos=" << pos << " i=" << i;
    }
  }
}

TEST(RopeTest, NormalAndNeoxMatchReference) {
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    ExpectMatchesReference(Params(style, 8, 8), 3, 1);
    ExpectMatchesReference(Params(style, 64, 64), 5, 2);
    ExpectMatchesReference(Params(style, 128, 128), 2, 3);
    ExpectMatchesReference(Params(style, 64, 32), 4, 4);  // partial rotation
    ExpectMatchesReference(Params(style, 6, 2), 7, 5);
  }
}

TEST(RopeTest, ScalingVariantsMatchReference) {
  std::vector<float> factors(32);
  for (size_t i = 0; i < factors.size(); ++i) factors[i] = 1.0f + static_cast<float>(i) * 0.25f;
  for (RopeStyle style : {RopeStyle::kNormal, RopeStyle::kNeox}) {
    RopeParams linear = Params(style, 64, 64);
    linear.freq_scale = 0.25f;
    ExpectMatchesReference(linear, 3, 10);
    RopeParams llama3 = Params(style, 64, 64);
    llama3.freq_base = 500000.0f;
    llama3.freq_factors = factors.data();
    ExpectMatchesReference(llama3, 3, 11);
    RopeParams yarn = Params(style, 64, 64);
    yarn.freq_scale = 0.25f;
    yarn.ext_factor = 1.0f;
    yarn.n_ctx_orig = 4096;
    yarn.freq_base = 1000000.0f;
    ExpectMatchesReference(yarn, 3, 12);
  }
}

TEST(RopeTest, PositionZeroIsIdentityAndPartialRotationKeepsTail) {
  auto x = RandomFloats(64, 7);
  auto y = x;
  RopeRotate(Params(RopeStyle::kNormal, 64, 64), 0, y.data(), 1);
  EXPECT_EQ(x, y);
  y = x;
  RopeRotate(Params(RopeStyle::kNeox, 64, 16), 123, y.data(), 1);
  for (size_t i = 16; i < 64; ++i) EXPECT_EQ(y[i], x[i]);
  EXPECT_NE(y[0], x[0]);
}

TEST(RopeTest, NeoxIsNormalOnInterleavedDimensions) {
  const int d = 32, half = 16;
  const auto x = RandomFloats(d, 8);
  // Interleave: neox pair (i, i + half) -> normal pair (2i, 2i + 1).
  std::vector<float> inter(d);
  for (int i = 0; i < half; ++i) {
    inter[static_cast<size_t>(2 * i)] = x[static_cast<size_t>(i)];
    inter[static_cast<size_t>(2 * i + 1)] = x[static_cast<size_t>(i + half)];
  }
  auto neox = x;
  RopeRotate(Params(RopeStyle::kNeox, d, d), 77, neox.data(), 1);
  RopeRotate(Params(RopeStyle::kNormal, d, d), 77, inter.data(), 1);
  for (int i = 0; i < half; ++i) {
    EXPECT_EQ(neox[static_cast<size_t>(i)], inter[static_cast<size_t>(2 * i)]);
    EXPECT_EQ(neox[static_cast<size_t>(i + half)], inter[static_cast<size_t>(2 * i + 1)]);
  }
}

TEST(RopeTest, ScoresDependOnlyOnRelativePosition) {
  const RopeParams p = Params(RopeStyle::kNormal, 64, 64);
  const auto q = RandomFloats(64, 21), k = RandomFloats(64, 22);
  auto score = [&](int32_t pq, int32_t pk) {
    auto a = q, b = k;
    RopeRotate(p, pq, a.data(), 1);
    RopeRotate(p, pk, b.data(), 1);
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
  };
  EXPECT_NEAR(score(10, 3), score(107, 100), 1e-4);
  EXPECT_NEAR(score(5, 5), score(900, 900), 1e-4);
}

TEST(RopeTest, CosSinRowAppliedToManyHeadsEqualsRotate) {
  RopeParams p = Params(RopeStyle::kNeox, 16, 16);
  auto x = RandomFloats(16 * 4, 30);
  auto y = x;
  std::vector<float> cs(16);
  RopeCosSin(p, 42, cs.data());
  RopeApply(p, cs.data(), x.data(), 4);
  RopeRotate(p, 42, y.data(), 4);
  EXPECT_EQ(x, y);
}

}  // namespace
}  // namespace cellar
