#include "kernels/activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace cellar {
namespace {

std::vector<float> RandomFloats(size_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(ActivationsTest, EveryIsaMatchesReferenceOnOddSizes) {
  for (IsaLevel isa : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 5632, 4099}) {
      const auto n_sz = static_cast<size_t>(n);
      // Gate values over the whole range a model produces, incl. saturation.
      const auto g = RandomFloats(n_sz, 100 + n_sz, -30.0f, 30.0f);
      const auto u = RandomFloats(n_sz, 200 + n_sz, -2.0f, 2.0f);
      std::vector<float> want(n_sz), got(n_sz);
      SiluReference(g.data(), want.data(), n);
      SiluWithIsa(isa, g.data(), got.data(), n);
      for (size_t i = 0; i < n_sz; ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-6f * std::fabs(want[i]) + 1e-30f)
            << IsaName(isa) << " silu n=" << n << " x=" << g[i];
      }
      SwiGluReference(g.data(), u.data(), want.data(), n);
      SwiGluWithIsa(isa, g.data(), u.data(), got.data(), n);
      for (size_t i = 0; i < n_sz; ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-6f * std::fabs(want[i]) + 1e-30f)
            << IsaName(isa) << " swiglu n=" << n;
      }
    }
  }
}

TEST(ActivationsTest, KnownValuesAndAliasing) {
  std::vector<float> x{0.0f, 1.0f, -1.0f, 100.0f, -100.0f};
  Silu(x.data(), x.data(), 5);
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_NEAR(x[1], 1.0f / (1.0f + std::exp(-1.0f)), 1e-7f);
  EXPECT_NEAR(x[2], -1.0f / (1.0f + std::exp(1.0f)), 1e-7f);
  EXPECT_NEAR(x[3], 100.0f, 1e-5f);
  EXPECT_NEAR(x[4], 0.0f, 1e-30f);
  std::vector<float> g{2.0f, -3.0f}, u{0.5f, 4.0f};
  SwiGlu(g.data(), u.data(), u.data(), 2);
  EXPECT_NEAR(u[0], 2.0f / (1.0f + std::exp(-2.0f)) * 0.5f, 1e-6f);
  EXPECT_NEAR(u[1], -3.0f / (1.0f + std::exp(3.0f)) * 4.0f, 1e-6f);
}

}  // namespace
}  // namespace cellar
