// Reference quantizers and dequantizers: hand-computed blocks (bit-exact),
// quantize -> dequantize error bounds per type, and error handling.
#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/fp16.h"
#include "kernels/dequantize.h"

namespace cellar {
namespace {

constexpr uint16_t kHalfOne = 0x3C00;      // 1.0
constexpr uint16_t kHalfHalf = 0x3800;     // 0.5
constexpr uint16_t kHalfQuarter = 0x3400;  // 0.25

TEST(DequantizeTest, Q8_0HandBlock) {
  BlockQ8_0 b;
  b.d = kHalfHalf;
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(j * 8 - 127);
  float y[32];
  DequantizeRowQ8_0(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.5f * (j * 8 - 127)) << j;
}

TEST(DequantizeTest, Q4_0HandBlock) {
  BlockQ4_0 b;
  b.d = kHalfQuarter;
  // Byte j: low nibble = element j, high nibble = element j + 16.
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  DequantizeRowQ4_0(&b, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.25f * (j - 8)) << j;
    EXPECT_EQ(y[j + 16], 0.25f * (7 - j)) << j;
  }
}

// 6-bit scale/min packing, decoded by hand from these literal bytes.
constexpr uint8_t kScales[12] = {0xC1, 0x42, 0x03, 0x84, 0x45, 0xC6,
                                 0x07, 0x88, 0x9A, 0xBC, 0xDE, 0xF0};
constexpr int kSc[8] = {1, 2, 3, 4, 58, 28, 14, 32};
constexpr int kMin[8] = {5, 6, 7, 8, 25, 59, 13, 47};

TEST(DequantizeTest, ScaleMinK4Unpacking) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    GetScaleMinK4(j, kScales, &sc, &m);
    EXPECT_EQ(sc, kSc[j]) << j;
    EXPECT_EQ(m, kMin[j]) << j;
  }
}

TEST(DequantizeTest, Q4KHandBlock) {
  BlockQ4K b;
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  std::memcpy(b.scales, kScales, 12);
  // Element e: group g = e / 64; within it, e % 64 < 32 is the low nibble of
  // qs[32g + e % 32], else the high nibble.
  auto q_of = [](int e) { return (e * 7 + 3) % 16; };
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      b.qs[32 * g + l] = static_cast<uint8_t>(q_of(64 * g + l) | (q_of(64 * g + 32 + l) << 4));
    }
  }
  float y[256];
  DequantizeRowQ4K(&b, y, 256);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;
    EXPECT_EQ(y[e], 1.0f * kSc[j] * q_of(e) - 0.5f * kMin[j]) << e;
  }
}

TEST(DequantizeTest, Q5KHandBlock) {
  BlockQ5K b;
  b.d = kHalfQuarter;
  b.dmin = kHalfOne;
  std::memcpy(b.scales, kScales, 12);
  auto q_of = [](int e) { return (e * 13 + 5) % 32; };
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      const int lo = q_of(64 * g + l), hi = q_of(64 * g + 32 + l);
      b.qs[32 * g + l] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
      b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * g)) | ((hi >> 4) << (2 * g + 1)));
    }
  }
  float y[256];
  DequantizeRowQ5K(&b, y, 256);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;
    EXPECT_EQ(y[e], 0.25f * kSc[j] * q_of(e) - 1.0f * kMin[j]) << e;
  }
}

TEST(DequantizeTest, Q6KHandBlock) {
  BlockQ6K b;
  b.d = kHalfHalf;
  for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(j * 17 - 128);
  auto q_of = [](int e) { return (e * 29 + 11) % 64; };
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int h = 0; h < 2; ++h) {
    for (int l = 0; l < 32; ++l) {
      const int e = 128 * h + l;
      const int q0 = q_of(e), q1 = q_of(e + 32), q2 = q_of(e + 64), q3 = q_of(e + 96);
      b.ql[64 * h + l] = static_cast<uint8_t>((q0 & 15) | ((q2 & 15) << 4));
      b.ql[64 * h + 32 + l] = static_cast<uint8_t>((q1 & 15) | ((q3 & 15) << 4));
      b.qh[32 * h + l] =
          static_cast<uint8_t>((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
    }
  }
  float y[256];
  DequantizeRowQ6K(&b, y, 256);
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(y[e], 0.5f * b.scales[e / 16] * (q_of(e) - 32)) << e;
  }
}

TEST(DequantizeTest, HalfAndBf16) {
  const uint16_t h[4] = {0x3C00, 0xC000, 0x0001, 0x7BFF};
  float y[4];
  ASSERT_TRUE(DequantizeRow(GgmlType::kF16, h, y, 4).ok());
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[2], std::ldexp(1.0f, -24));
  EXPECT_EQ(y[3], 65504.0f);
  const uint16_t b[2] = {0x3F80, 0xC2F7};
  ASSERT_TRUE(DequantizeRow(GgmlType::kBF16, b, y, 2).ok());
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -123.5f);
}

TEST(QuantizeTest, RejectsBadArguments) {
  std::vector<float> x(64, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_EQ(QuantizeRow(GgmlType::kQ4_K, x.data(), out.data(), 64).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeRow(GgmlType::kQ8_0, x.data(), out.data(), 33).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeRow(GgmlType::kQ2_K, x.data(), out.data(), 256).code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(DequantizeRow(GgmlType::kIQ4_NL, out.data(), x.data(), 32).code(),
            StatusCode::kUnimplemented);
  EXPECT_TRUE(QuantizeRow(GgmlType::kQ8_0, x.data(), out.data(), 64).ok());
}

// Random rows: gaussian, uniform, and gaussian with rare large outliers.
std::vector<float> RandomRow(int kind, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-3.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) {
    if (kind == 0) v = normal(rng);
    if (kind == 1) v = uniform(rng);
    if (kind == 2) v = normal(rng) * ((rng() % 97 == 0) ? 40.0f : 1.0f);
  }
  return x;
}

std::vector<float> RoundTrip(GgmlType type, const std::vector<float>& x,
                             std::vector<uint8_t>* bytes) {
  const int64_t n = static_cast<int64_t>(x.size());
  bytes->assign(static_cast<size_t>(*GgmlRowBytes(type, n)), 0);
  EXPECT_TRUE(QuantizeRow(type, x.data(), bytes->data(), n).ok());
  std::vector<float> y(x.size());
  EXPECT_TRUE(DequantizeRow(type, bytes->data(), y.data(), n).ok());
  return y;
}

// Q8_0: |err| <= 0.501 * d + 127 * |d16 - d|, d = amax / 127 (exact), d16 its
// fp16 rounding (the stored scale).
TEST(QuantizeTest, Q8_0ErrorBound) {
  for (int kind = 0; kind < 3; ++kind) {
    const auto x = RandomRow(kind, 32 * 64, 100 + kind);
    std::vector<uint8_t> bytes;
    const auto y = RoundTrip(GgmlType::kQ8_0, x, &bytes);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
      const float d = amax / 127, d16 = Fp16ToFloat(FloatToFp16(d));
      const float bound = 0.501f * d + 127 * std::fabs(d16 - d);
      for (int j = 0; j < 32; ++j) {
        ASSERT_LE(std::fabs(y[32 * b + j] - x[32 * b + j]), bound) << kind << " " << b << " " << j;
      }
    }
  }
}

// Q4_0: |err| <= 1.001 * |d| + 8 * |d16 - d| with d = max / -8 (the value of
// largest magnitude maps exactly to -8; the opposite extreme can clamp at 7,
// hence a full step); all but clamped elements are within half a step.
TEST(QuantizeTest, Q4_0ErrorBound) {
  for (int kind = 0; kind < 3; ++kind) {
    const auto x = RandomRow(kind, 32 * 64, 200 + kind);
    std::vector<uint8_t> bytes;
    const auto y = RoundTrip(GgmlType::kQ4_0, x, &bytes);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      float amax = 0, max = 0;
      for (int j = 0; j < 32; ++j) {
        if (std::fabs(x[32 * b + j]) > amax) {
          amax = std::fabs(x[32 * b + j]);
          max = x[32 * b + j];
        }
      }
      const float d = std::fabs(max / 8), d16 = Fp16ToFloat(FloatToFp16(d));
      for (int j = 0; j < 32; ++j) {
        const float err = std::fabs(y[32 * b + j] - x[32 * b + j]);
        ASSERT_LE(err, 1.001f * d + 8 * std::fabs(d16 - d)) << kind << " " << b << " " << j;
        // Only values beyond 7.5 steps on the far side of zero may clamp.
        if (std::fabs(x[32 * b + j]) < 7.4f * d) {
          ASSERT_LE(err, 0.501f * d + 8 * std::fabs(d16 - d)) << kind << " " << b << " " << j;
        }
      }
    }
  }
}

// K-quants. (1) Every element is reconstructed by the grid point nearest to
// it: with the stored step D and offset of its sub-block, |err| <= |D| / 2 +
// 1e-6 inside the grid's range, and the distance to the range outside it.
// (2) The scale search does its job: rms(err) / rms(x) stays below the stated
// level for each kind of data (gaussian, uniform, gaussian with 1% outliers x40).
struct KCase {
  GgmlType type;
  float rel_rms[3];
};

// Grid of element e of a K block: values D * q + off for q in [0, nmax].
struct Grid {
  float step, offset;
  int nmax;
};

Grid GridOf(GgmlType type, const uint8_t* blk, int e) {
  if (type == GgmlType::kQ6_K) {
    const auto* b = reinterpret_cast<const BlockQ6K*>(blk);
    const float D = Fp16ToFloat(b->d) * b->scales[e / 16];
    return {D, -32 * D, 63};
  }
  const uint16_t* dd = reinterpret_cast<const uint16_t*>(blk);
  const uint8_t* scales = blk + 4;
  uint8_t sc, m;
  GetScaleMinK4(e / 32, scales, &sc, &m);
  return {Fp16ToFloat(dd[0]) * sc, -Fp16ToFloat(dd[1]) * m, type == GgmlType::kQ4_K ? 15 : 31};
}

TEST(QuantizeTest, KQuantErrorBounds) {
  const KCase cases[] = {
      // Measured with this (ggml's) algorithm: 0.0721 0.0413 0.0843 / 0.0367 0.0211
      // 0.0515 / 0.0182 0.0147 0.0329; the bounds leave ~10% room.
      {GgmlType::kQ4_K, {0.080f, 0.046f, 0.093f}},
      {GgmlType::kQ5_K, {0.041f, 0.024f, 0.057f}},
      {GgmlType::kQ6_K, {0.020f, 0.0165f, 0.036f}},
  };
  for (const KCase& kc : cases) {
    const int64_t bs = TraitsOf(kc.type).type_size;
    for (int kind = 0; kind < 3; ++kind) {
      const auto x = RandomRow(kind, 256 * 32, 300 + kind);
      std::vector<uint8_t> bytes;
      const auto y = RoundTrip(kc.type, x, &bytes);
      double se = 0, sx = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const Grid g = GridOf(kc.type, bytes.data() + (i / 256) * bs, static_cast<int>(i % 256));
        const float lo = std::min(g.offset, g.offset + g.nmax * g.step);
        const float hi = std::max(g.offset, g.offset + g.nmax * g.step);
        const float outside = x[i] < lo ? lo - x[i] : (x[i] > hi ? x[i] - hi : 0.0f);
        const float bound = std::max(std::fabs(g.step) * 0.5f, outside) * 1.0001f + 1e-6f;
        ASSERT_LE(std::fabs(y[i] - x[i]), bound)
            << GgmlTypeName(kc.type) << " kind " << kind << " element " << i;
        se += (y[i] - x[i]) * (y[i] - x[i]);
        sx += x[i] * x[i];
      }
      EXPECT_LE(std::sqrt(se / sx), kc.rel_rms[kind]) << GgmlTypeName(kc.type) << " kind " << kind;
    }
  }
}

// Q8_K (activations): q in [-127, 127], |err| <= 0.5001 * amax / 127, bsums exact.
TEST(QuantizeTest, Q8KBoundAndBsums) {
  for (int kind = 0; kind < 3; ++kind) {
    const auto x = RandomRow(kind, 256 * 8, 400 + kind);
    std::vector<BlockQ8K> q(8);
    QuantizeRowQ8K(x.data(), q.data(), 256 * 8);
    for (int b = 0; b < 8; ++b) {
      float amax = 0;
      for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[256 * b + j]));
      for (int j = 0; j < 256; ++j) {
        ASSERT_GE(q[b].qs[j], -127);
        ASSERT_LE(std::fabs(q[b].d * q[b].qs[j] - x[256 * b + j]), 0.5001f * amax / 127);
      }
      for (int g = 0; g < 16; ++g) {
        int s = 0;
        for (int j = 0; j < 16; ++j) s += q[b].qs[16 * g + j];
        EXPECT_EQ(q[b].bsums[g], s);
      }
    }
  }
}

TEST(QuantizeTest, ZeroAndNonFiniteRowsAreSafe) {
  for (GgmlType t : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_K, GgmlType::kQ5_K,
                     GgmlType::kQ6_K, GgmlType::kQ8_K}) {
    std::vector<float> zeros(256, 0.0f);
    std::vector<uint8_t> bytes;
    const auto y = RoundTrip(t, zeros, &bytes);
    for (float v : y) EXPECT_EQ(v, 0.0f) << GgmlTypeName(t);
    std::vector<float> bad(256, 1.0f);
    bad[3] = std::nanf("");
    bad[7] = INFINITY;
    RoundTrip(t, bad, &bytes);  // must not trip UBSan; values unspecified
  }
}

TEST(QuantizeTest, F16AndBf16RoundToNearest) {
  const float x[3] = {1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), 3.14159f};
  uint16_t h[3];
  ASSERT_TRUE(QuantizeRow(GgmlType::kF16, x, h, 3).ok());
  EXPECT_EQ(h[0], 0x3C00);  // tie -> even
  EXPECT_EQ(h[1], 0x3C02);  // tie -> even (up)
  EXPECT_EQ(h[2], 0x4248);
  ASSERT_TRUE(QuantizeRow(GgmlType::kBF16, x, h, 3).ok());
  EXPECT_EQ(h[2], 0x4049);
}

}  // namespace
}  // namespace cellar
