#include "base/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace cellar {
namespace {

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(FloatToFp16(0.0f), 0x0000);
  EXPECT_EQ(FloatToFp16(-0.0f), 0x8000);
  EXPECT_EQ(FloatToFp16(1.0f), 0x3c00);
  EXPECT_EQ(FloatToFp16(-2.0f), 0xc000);
  EXPECT_EQ(FloatToFp16(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToFp16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(FloatToFp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(FloatToFp16(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToFp16(1.0f + 1.0f / 2048.0f), 0x3c00);   // tie -> even
  EXPECT_EQ(FloatToFp16(1.0f + 3.0f / 2048.0f), 0x3c02);   // tie -> even (up)
  EXPECT_TRUE(std::isnan(Fp16ToFloat(FloatToFp16(std::nanf("")))));
}

TEST(Fp16Test, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t v = static_cast<uint16_t>(h);
    const float f = Fp16ToFloat(v);
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToFp16(f), v) << std::hex << h;
  }
}

TEST(Fp16Test, RoundsToNearest) {
  // Every float between two adjacent halves must round to the nearer one.
  for (uint16_t h = 0x0001; h < 0x7bff; h += 37) {
    const float a = Fp16ToFloat(h), b = Fp16ToFloat(static_cast<uint16_t>(h + 1));
    const float q = a + (b - a) * 0.25f, t = a + (b - a) * 0.75f;
    EXPECT_EQ(FloatToFp16(q), h);
    EXPECT_EQ(FloatToFp16(t), h + 1);
  }
}

TEST(Bf16Test, RoundTripAndRounding) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x3f808000u)), 0x3f80);  // tie -> even
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(FloatToBf16(BitsToFloat(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::nanf("")))));
}

}  // namespace
}  // namespace cellar
