#include "kernels/softmax.h"

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

const std::vector<int64_t> kSizes{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 4099};

TEST(SoftmaxTest, ExpMatchesStdExpToAFewUlpOverTheFloatRange) {
  // Every float input the vector exp sees in practice, incl. underflow to 0.
  std::vector<float> x;
  for (float v = -100.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);
  const int64_t n = static_cast<int64_t>(x.size());
  for (IsaLevel isa : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    std::vector<float> y(x.size());
    ExpShiftSumWithIsa(isa, x.data(), 0.0f, y.data(), n);
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = std::exp(x[i]);
      if (x[i] < -87.0f) {
        // At the bottom of the normal range: 0 or a subnormal, never garbage.
        ASSERT_NEAR(y[i], want, 1.2e-38f) << IsaName(isa) << " x=" << x[i];
        ASSERT_GE(y[i], 0.0f);
        continue;
      }
      // Cephes-style polynomial: within 4 ulp (relative 4.8e-7).
      ASSERT_NEAR(y[i], want, 4.8e-7f * want) << IsaName(isa) << " x=" << x[i];
    }
  }
}

TEST(SoftmaxTest, EveryIsaMatchesReferenceOnOddSizes) {
  for (IsaLevel isa : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    if (!IsaSupported(isa)) continue;
    for (int64_t n : kSizes) {
      const auto x =
          RandomFloats(static_cast<size_t>(n), 5 + static_cast<uint64_t>(n), -20.0f, 20.0f);
      auto want = x, got = x;
      SoftmaxReference(want.data(), n);
      SoftmaxWithIsa(isa, got.data(), n);
      double total = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<size_t>(i);
        ASSERT_NEAR(got[k], want[k], 2e-6f * want[k] + 1e-9f) << IsaName(isa) << " n=" << n;
        total += got[k];
      }
      EXPECT_NEAR(total, 1.0, 1e-5);
      // The exp-and-sum pass alone, with a shift.
      std::vector<float> ye(x.size()), yg(x.size());
      const float se = ExpShiftSumReference(x.data(), 3.0f, ye.data(), n);
      const float sg = ExpShiftSumWithIsa(isa, x.data(), 3.0f, yg.data(), n);
      EXPECT_NEAR(sg, se, 2e-6f * se);
    }
  }
}

TEST(SoftmaxTest, KnownValuesAndMax) {
  std::vector<float> x{0.0f, std::log(3.0f)};
  Softmax(x.data(), 2);
  EXPECT_NEAR(x[0], 0.25f, 1e-7f);
  EXPECT_NEAR(x[1], 0.75f, 1e-7f);
  const auto r = RandomFloats(1001, 3, -5.0f, 5.0f);
  float want = r[0];
  for (float v : r) want = std::max(want, v);
  EXPECT_EQ(MaxOf(r.data(), 1001), want);
}

}  // namespace
}  // namespace cellar
