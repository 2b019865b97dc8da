// The ggml type table, pinned entry by entry against ggml's type_traits (ggml.c,
// ggml-common.h block structs) and gguf-py's GGML_QUANT_SIZES.
#include "gguf/ggml_type.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

namespace cellar {
namespace {

TEST(GgmlTypeTest, TableMatchesGgml) {
  // id, name, elements per block, bytes per block, quantized
  const std::vector<std::tuple<uint32_t, const char*, int64_t, int64_t, bool>> expected = {
      {0, "f32", 1, 4, false},        {1, "f16", 1, 2, false},
      {2, "q4_0", 32, 18, true},      {3, "q4_1", 32, 20, true},
      {6, "q5_0", 32, 22, true},      {7, "q5_1", 32, 24, true},
      {8, "q8_0", 32, 34, true},      {9, "q8_1", 32, 36, true},
      {10, "q2_K", 256, 84, true},    {11, "q3_K", 256, 110, true},
      {12, "q4_K", 256, 144, true},   {13, "q5_K", 256, 176, true},
      {14, "q6_K", 256, 210, true},   {15, "q8_K", 256, 292, true},
      {16, "iq2_xxs", 256, 66, true}, {17, "iq2_xs", 256, 74, true},
      {18, "iq3_xxs", 256, 98, true}, {19, "iq1_s", 256, 50, true},
      {20, "iq4_nl", 32, 18, true},   {21, "iq3_s", 256, 110, true},
      {22, "iq2_s", 256, 82, true},   {23, "iq4_xs", 256, 136, true},
      {24, "i8", 1, 1, false},        {25, "i16", 1, 2, false},
      {26, "i32", 1, 4, false},       {27, "i64", 1, 8, false},
      {28, "f64", 1, 8, false},       {29, "iq1_m", 256, 56, true},
      {30, "bf16", 1, 2, false},      {34, "tq1_0", 256, 54, true},
      {35, "tq2_0", 256, 66, true},   {39, "mxfp4", 32, 17, true},
      {40, "nvfp4", 64, 36, true},    {41, "q1_0", 128, 18, true},
  };
  size_t n_known = 0;
  for (uint32_t id = 0; id < 64; ++id) {
    if (GetGgmlTypeTraits(id)) ++n_known;
  }
  EXPECT_EQ(n_known, expected.size());
  for (const auto& [id, name, bs, ts, q] : expected) {
    auto t = GetGgmlTypeTraits(id);
    ASSERT_TRUE(t.has_value()) << id;
    EXPECT_EQ(t->name, name) << id;
    EXPECT_EQ(t->block_size, bs) << name;
    EXPECT_EQ(t->type_size, ts) << name;
    EXPECT_EQ(t->quantized, q) << name;
  }
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u}) {
    EXPECT_FALSE(GetGgmlTypeTraits(removed).has_value()) << removed;
  }
}

TEST(GgmlTypeTest, RowBytes) {
  EXPECT_EQ(GgmlRowBytes(GgmlType::kQ4_K, 512), 288);
  EXPECT_EQ(GgmlRowBytes(GgmlType::kF16, 3), 6);
  EXPECT_EQ(GgmlRowBytes(GgmlType::kQ8_0, 0), 0);
  EXPECT_FALSE(GgmlRowBytes(GgmlType::kQ8_0, 33).has_value());
  EXPECT_FALSE(GgmlRowBytes(GgmlType::kF32, -4).has_value());
  EXPECT_FALSE(GgmlRowBytes(GgmlType::kF64, int64_t{1} << 61).has_value());
  EXPECT_EQ(GgmlTypeName(GgmlType::kQ6_K), "q6_K");
}

}  // namespace
}  // namespace cellar
