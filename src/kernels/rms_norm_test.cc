#include "kernels/rms_norm.h"

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

TEST(RmsNormTest, EveryIsaMatchesReferenceOnOddSizes) {
  for (IsaLevel isa : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 2048, 4099}) {
      const auto x =
          RandomFloats(static_cast<size_t>(n), 10 + static_cast<uint64_t>(n), -3.0f, 3.0f);
      const auto w =
          RandomFloats(static_cast<size_t>(n), 20 + static_cast<uint64_t>(n), 0.5f, 1.5f);
      for (const float* weight : {w.data(), static_cast<const float*>(nullptr)}) {
        std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
        RmsNormReference(x.data(), weight, want.data(), n, 1e-5f);
        RmsNormWithIsa(isa, x.data(), weight, got.data(), n, 1e-5f);
        for (int64_t i = 0; i < n; ++i) {
          // Float vs double accumulation of the sum of squares: a few ulp.
          ASSERT_NEAR(got[static_cast<size_t>(i)], want[static_cast<size_t>(i)],
                      2e-6f * std::fabs(want[static_cast<size_t>(i)]) + 1e-7f)
              << IsaName(isa) << " n=" << n << " i=" << i;
        }
      }
    }
  }
}

TEST(RmsNormTest, NormalizesToUnitRmsAndWorksInPlace) {
  std::vector<float> x{3.0f, -4.0f};  // mean square 12.5
  RmsNorm(x.data(), nullptr, x.data(), 2, 0.0f);
  EXPECT_NEAR(x[0], 3.0f / std::sqrt(12.5f), 1e-6f);
  EXPECT_NEAR(x[1], -4.0f / std::sqrt(12.5f), 1e-6f);
  std::vector<float> y{1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<float> w{1.0f, 2.0f, 3.0f, 4.0f};
  RmsNorm(y.data(), w.data(), y.data(), 4, 1.0f);  // scale 1/sqrt(2)
  EXPECT_NEAR(y[3], 4.0f / std::sqrt(2.0f), 1e-6f);
}

}  // namespace
}  // namespace cellar
