// MatMul: every kernel level available on this CPU against the scalar level
// (same quantized activations: float summation order is the only difference),
// and the scalar level against MatMulReference (the exact product) within the
// activation rounding error. Odd shapes, tails, strides, 1 and 2 threads.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/dequantize.h"
#include "kernels/quant_blocks.h"
#include "kernels/quantize.h"

namespace cellar {
namespace {

const GgmlType kTypes[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ8_0,
                           GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ4_K,
                           GgmlType::kQ5_K, GgmlType::kQ6_K};

std::vector<IsaLevel> SupportedLevels() {
  std::vector<IsaLevel> out;
  for (IsaLevel l : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    if (IsaSupported(l)) out.push_back(l);
  }
  return out;
}

bool IsKQuant(GgmlType t) {
  return t == GgmlType::kQ4_K || t == GgmlType::kQ5_K || t == GgmlType::kQ6_K;
}

// A weight matrix with its bytes. mode 0: quantized gaussian rows; mode 1:
// random bytes in the quant fields with sane scales (reaches extreme quants
// and scales such as 63 or -128 that quantizing smooth data rarely produces).
struct TestWeights {
  WeightMatrix w;
  std::vector<uint8_t> bytes;
  std::vector<float> dequant;  // rows x cols
};

TestWeights MakeWeights(GgmlType type, int64_t rows, int64_t cols, int mode, uint32_t seed) {
  TestWeights tw;
  const int64_t row_bytes = *GgmlRowBytes(type, cols);
  tw.bytes.resize(static_cast<size_t>(row_bytes * rows) + 1);  // +1: odd end address
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* dst = tw.bytes.data() + r * row_bytes;
    for (auto& v : row) v = normal(rng);
    EXPECT_TRUE(QuantizeRow(type, row.data(), dst, cols).ok());
    if (mode == 1 && TraitsOf(type).quantized) {
      for (int64_t i = 0; i < row_bytes; ++i) dst[i] = static_cast<uint8_t>(rng());
      // Rewrite the fp16 scale fields with sane values.
      auto half = [&](uint8_t* p) {
        const uint16_t h = FloatToFp16(std::uniform_real_distribution<float>(0.001f, 0.1f)(rng));
        std::memcpy(p, &h, 2);
      };
      const int64_t bs = TraitsOf(type).type_size;
      for (int64_t b = 0; b < row_bytes / bs; ++b) {
        uint8_t* blk = dst + b * bs;
        switch (type) {
          case GgmlType::kQ8_0:
          case GgmlType::kQ4_0:
          case GgmlType::kQ5_0:
            half(blk);
            break;
          case GgmlType::kQ5_1:
            half(blk);
            half(blk + 2);
            break;
          case GgmlType::kQ4_K:
          case GgmlType::kQ5_K:
            half(blk);
            half(blk + 2);
            break;
          case GgmlType::kQ6_K:
            half(blk + 208);
            break;
          default:
            break;
        }
        if (type == GgmlType::kQ8_0) {  // q = -128 never occurs in ggml files
          for (int j = 0; j < 32; ++j) {
            if (blk[2 + j] == 0x80) blk[2 + j] = 0x81;
          }
        }
      }
    }
  }
  tw.w = WeightMatrix{type, rows, cols, tw.bytes.data()};
  tw.dequant.resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    EXPECT_TRUE(
        DequantizeRow(type, tw.bytes.data() + r * row_bytes, tw.dequant.data() + r * cols, cols)
            .ok());
  }
  return tw;
}

std::vector<float> MakeActs(int64_t n_tokens, int64_t ldx, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * ldx));
  for (auto& v : x) v = normal(rng) * ((rng() % 61 == 0) ? 8.0f : 1.0f);
  return x;
}

// Largest possible |rounding error| of activation element c when converted to
// the dot type of `type` (see matmul.h).
std::vector<float> ActErrorBound(GgmlType type, const float* x, int64_t n) {
  std::vector<float> e(static_cast<size_t>(n), 0.0f);
  if (type == GgmlType::kF16 || type == GgmlType::kBF16) {
    const float rel = type == GgmlType::kF16 ? std::ldexp(1.0f, -11) : std::ldexp(1.0f, -8);
    for (int64_t c = 0; c < n; ++c) e[c] = std::fabs(x[c]) * rel * 1.0001f;
  } else if (type == GgmlType::kQ8_0 || type == GgmlType::kQ4_0 || type == GgmlType::kQ5_0 ||
             type == GgmlType::kQ5_1) {
    for (int64_t b = 0; b < n / 32; ++b) {
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
      const float d = amax / 127, d16 = Fp16ToFloat(FloatToFp16(d));
      for (int j = 0; j < 32; ++j) e[32 * b + j] = 0.5001f * d + 127.0f * std::fabs(d16 - d);
    }
  } else if (IsKQuant(type)) {
    for (int64_t b = 0; b < n / 256; ++b) {
      float amax = 0;
      for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[256 * b + j]));
      for (int j = 0; j < 256; ++j) e[256 * b + j] = 0.5001f * amax / 127;
    }
  }
  return e;
}

struct Shape {
  int64_t rows, cols, n_tokens;
};

void CheckShape(GgmlType type, const Shape& s, int mode, ThreadPool& pool1, ThreadPool& pool2) {
  SCOPED_TRACE(std::string(GgmlTypeName(type)) + " rows=" + std::to_string(s.rows) +
               " cols=" + std::to_string(s.cols) + " tokens=" + std::to_string(s.n_tokens) +
               " mode=" + std::to_string(mode));
  const uint32_t seed = static_cast<uint32_t>(s.rows * 131 + s.cols * 7 + s.n_tokens + mode);
  TestWeights tw = MakeWeights(type, s.rows, s.cols, mode, seed);
  const int64_t ldx = s.cols + 3, ldy = s.rows + 2;
  const auto x = MakeActs(s.n_tokens, ldx, seed + 1);
  const size_t ysize = static_cast<size_t>(s.n_tokens * ldy);
  std::vector<float> y_ref(ysize), y_scalar(ysize, -7.0f);
  MatMulReference(tw.w, x.data(), ldx, s.n_tokens, y_ref.data(), ldy, pool1);
  MatMulWithIsa(IsaLevel::kScalar, tw.w, x.data(), ldx, s.n_tokens, y_scalar.data(), ldy, pool2);

  // sum_c |W||x| and sum_c |W| e_c per output.
  std::vector<double> abs_sum(ysize), act_err(ysize);
  for (int64_t t = 0; t < s.n_tokens; ++t) {
    const float* xt = x.data() + t * ldx;
    const auto e = ActErrorBound(type, xt, s.cols);
    for (int64_t r = 0; r < s.rows; ++r) {
      double a = 0, b = 0;
      const float* wr = tw.dequant.data() + r * s.cols;
      for (int64_t c = 0; c < s.cols; ++c) {
        a += std::fabs(static_cast<double>(wr[c]) * xt[c]);
        b += std::fabs(wr[c]) * static_cast<double>(e[c]);
      }
      if (type == GgmlType::kQ5_1) {
        // The m * s_x term: s_x = fp16(d * sum(q)) stands for sum(x) of the block;
        // |d q| <= |W| + |m| covers the rest.
        const auto* blocks =
            reinterpret_cast<const BlockQ5_1*>(tw.bytes.data() + r * *GgmlRowBytes(type, s.cols));
        for (int64_t blk = 0; blk < s.cols / 32; ++blk) {
          double se = 0, sx = 0;
          for (int j = 0; j < 32; ++j) {
            se += e[32 * blk + j];
            sx += std::fabs(xt[32 * blk + j]);
          }
          b += std::fabs(Fp16ToFloat(blocks[blk].m)) * (2 * se + sx * std::ldexp(1.0, -10));
        }
      }
      abs_sum[t * ldy + r] = a;
      act_err[t * ldy + r] = b;
    }
  }
  for (int64_t t = 0; t < s.n_tokens; ++t) {
    for (int64_t r = 0; r < s.rows; ++r) {
      const size_t i = static_cast<size_t>(t * ldy + r);
      const double tol = act_err[i] * 1.001 + 2e-5 * abs_sum[i] + 1e-6;
      ASSERT_LE(std::fabs(y_scalar[i] - y_ref[i]), tol)
          << "scalar vs reference t=" << t << " r=" << r;
    }
    for (int64_t r = s.rows; r < ldy; ++r) {
      ASSERT_EQ(y_scalar[t * ldy + r], -7.0f) << "wrote outside the rows";
    }
  }
  for (IsaLevel isa : SupportedLevels()) {
    for (ThreadPool* pool : {&pool1, &pool2}) {
      std::vector<float> y(ysize, -7.0f);
      MatMulWithIsa(isa, tw.w, x.data(), ldx, s.n_tokens, y.data(), ldy, *pool);
      for (int64_t t = 0; t < s.n_tokens; ++t) {
        for (int64_t r = 0; r < s.rows; ++r) {
          const size_t i = static_cast<size_t>(t * ldy + r);
          ASSERT_LE(std::fabs(y[i] - y_scalar[i]), 2e-5 * abs_sum[i] + 1e-6)
              << IsaName(isa) << " threads=" << pool->size() << " t=" << t << " r=" << r;
        }
        for (int64_t r = s.rows; r < ldy; ++r) ASSERT_EQ(y[t * ldy + r], -7.0f);
      }
    }
  }
}

class MatMulTypeTest : public ::testing::TestWithParam<GgmlType> {
 protected:
  ThreadPool pool1_{1};
  ThreadPool pool2_{2};
};

TEST_P(MatMulTypeTest, OddShapesAllLevels) {
  const GgmlType type = GetParam();
  const int64_t block = IsKQuant(type) ? 256 : 32;
  const std::vector<Shape> shapes = {
      {1, block, 1},      {3, block, 2},      {5, 4 * block, 3},
      {17, block, 5},     {7, 8 * block, 17}, {33, 2 * block, 64 + 3},
      {67, 3 * block, 4}, {16, 2048, 1},      {13, 2048, 9},
      {70, block, 6},     {9, 2 * block, 7},  {65, block, 8},  // one GEMV pass of 6-8 tokens
  };
  for (const Shape& s : shapes) {
    for (int mode = 0; mode < (TraitsOf(type).quantized ? 2 : 1); ++mode) {
      CheckShape(type, s, mode, pool1_, pool2_);
      if (HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMulTypeTest, ::testing::ValuesIn(kTypes),
                         [](const ::testing::TestParamInfo<GgmlType>& p) {
                           return std::string(GgmlTypeName(p.param));
                         });

TEST(MatMulTest, ThreadCountsAgreeExactly) {
  ThreadPool pool1(1), pool2(2);
  for (GgmlType type : kTypes) {
    const int64_t cols = 512, rows = 37, n_tokens = 11;
    TestWeights tw = MakeWeights(type, rows, cols, 0, 5);
    const auto x = MakeActs(n_tokens, cols, 6);
    for (IsaLevel isa : SupportedLevels()) {
      std::vector<float> y1(static_cast<size_t>(rows * n_tokens)), y2(y1.size());
      MatMulWithIsa(isa, tw.w, x.data(), cols, n_tokens, y1.data(), rows, pool1);
      MatMulWithIsa(isa, tw.w, x.data(), cols, n_tokens, y2.data(), rows, pool2);
      EXPECT_EQ(y1, y2) << GgmlTypeName(type) << " " << IsaName(isa);
    }
  }
}

// MatMulShared gives, bit for bit, what one MatMul per output gives: at every
// level, 1 and 2 threads, GEMV and GEMM token counts, outputs of one type and
// of mixed types (Q4_K_M mixes Q4_K and Q6_K; F32 and F16 pack differently).
TEST(MatMulTest, SharedEqualsSeparateExactly) {
  ThreadPool pool1(1), pool2(2);
  const std::vector<std::vector<GgmlType>> groups = {
      {GgmlType::kQ8_0, GgmlType::kQ8_0, GgmlType::kQ8_0},
      {GgmlType::kQ4_K, GgmlType::kQ4_K, GgmlType::kQ6_K},
      {GgmlType::kQ4_K, GgmlType::kQ5_K},
      {GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ8_0},
      {GgmlType::kQ5_1, GgmlType::kQ5_1},
      {GgmlType::kF16, GgmlType::kF16, GgmlType::kF16},
      {GgmlType::kBF16, GgmlType::kBF16},
      {GgmlType::kF32, GgmlType::kF16},
      {GgmlType::kQ8_0, GgmlType::kQ4_K},
  };
  const int64_t cols = 512;
  const int64_t rows[] = {200, 37, 64, 1};  // several 64-row chunks, tails, one row
  for (const auto& types : groups) {
    std::vector<TestWeights> tws;
    for (size_t i = 0; i < types.size(); ++i) {
      tws.push_back(MakeWeights(types[i], rows[i % 4], cols, 0, static_cast<uint32_t>(11 + i)));
    }
    for (int64_t n_tokens : {1, 2, 3, 5, 8, 40}) {
      const int64_t ldx = cols + 5;
      const auto x = MakeActs(n_tokens, ldx, 12);
      for (IsaLevel isa : SupportedLevels()) {
        for (ThreadPool* pool : {&pool1, &pool2}) {
          SCOPED_TRACE(std::string(GgmlTypeName(types[0])) + "+" +
                       std::string(GgmlTypeName(types[1])) + " " + std::string(IsaName(isa)) +
                       " tokens=" + std::to_string(n_tokens) +
                       " threads=" + std::to_string(pool->size()));
          std::vector<std::vector<float>> y_sep, y_shared;
          std::vector<MatMulOutput> outs;
          for (const TestWeights& tw : tws) {
            const int64_t ldy = tw.w.rows + 3;
            const size_t n = static_cast<size_t>(n_tokens * ldy);
            y_sep.emplace_back(n, -7.0f);
            y_shared.emplace_back(n, -7.0f);
            MatMulWithIsa(isa, tw.w, x.data(), ldx, n_tokens, y_sep.back().data(), ldy, *pool);
          }
          for (size_t i = 0; i < tws.size(); ++i) {
            outs.push_back({&tws[i].w, y_shared[i].data(), tws[i].w.rows + 3});
          }
          MatMulSharedWithIsa(isa, outs, x.data(), ldx, n_tokens, *pool);
          for (size_t i = 0; i < tws.size(); ++i) {
            ASSERT_EQ(y_shared[i], y_sep[i]) << "output " << i;
          }
        }
      }
    }
  }
}

TEST(MatMulTest, ValidateWeight) {
  uint8_t buf[64] = {};
  EXPECT_TRUE(ValidateWeight({GgmlType::kQ8_0, 1, 32, buf}).ok());
  EXPECT_EQ(ValidateWeight({GgmlType::kQ8_0, 1, 33, buf}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateWeight({GgmlType::kQ4_K, 1, 128, buf}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateWeight({GgmlType::kQ2_K, 1, 256, buf}).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(ValidateWeight({GgmlType::kF32, 1, 0, buf}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateWeight({GgmlType::kF32, 2, 4, nullptr}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateWeight({static_cast<GgmlType>(4), 1, 32, buf}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateWeight({GgmlType::kF32, int64_t{1} << 62, 1024, buf}).code(),
            StatusCode::kInvalidArgument);
  for (GgmlType t : kTypes) EXPECT_TRUE(MatMulSupports(t));
  EXPECT_FALSE(MatMulSupports(GgmlType::kQ8_K));
}

TEST(MatMulTest, ZeroTokensAndZeroRowsDoNothing) {
  ThreadPool pool(2);
  std::vector<uint8_t> w(34 * 4, 0);
  float x[128] = {}, y[4] = {1, 2, 3, 4};
  MatMul({GgmlType::kQ8_0, 4, 32, w.data()}, x, 32, 0, y, 4, pool);
  MatMul({GgmlType::kQ8_0, 0, 32, w.data()}, x, 32, 3, y, 4, pool);
  EXPECT_EQ(y[0], 1);
  EXPECT_EQ(y[3], 4);
}

}  // namespace
}  // namespace cellar
