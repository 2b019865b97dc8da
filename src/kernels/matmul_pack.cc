// Portable activation packing for the SIMD levels that do not pack with their
// own instructions (see gemm_packed.h). The quantized layouts reproduce the
// scalar level's activation quantizers exactly.
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/gemm_packed.h"
#include "kernels/matmul_kernels.h"
#include "kernels/quantize.h"

namespace cellar::matmul_internal {
namespace {

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace

PackedActs PackActivationsPortable(ActLayout layout, GgmlType round, const float* x, int64_t ldx,
                                   int64_t n_tokens, int64_t k, ThreadPool& pool) {
  PackedActs a;
  a.layout = layout;
  a.n_tokens = n_tokens;
  a.k = k;
  switch (layout) {
    case ActLayout::kF32: {
      const int64_t kp = RoundUp(k, 32);
      a.q_stride = kp * 4;
      auto* buf = static_cast<uint8_t*>(CallerScratch(0, n_tokens * a.q_stride));
      ForTokens(pool, n_tokens, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          float* out = reinterpret_cast<float*>(buf + t * a.q_stride);
          const float* xt = x + t * ldx;
          for (int64_t i = 0; i < k; ++i) {
            out[i] = round == GgmlType::kF16    ? Fp16ToFloat(FloatToFp16(xt[i]))
                     : round == GgmlType::kBF16 ? Bf16ToFloat(FloatToBf16(xt[i]))
                                                : xt[i];
          }
          for (int64_t i = k; i < kp; ++i) out[i] = 0.0f;
        }
      });
      a.q = buf;
      break;
    }
    case ActLayout::kQ8S: {
      const int64_t kp = RoundUp(k, 32);
      a.q_stride = kp;
      a.d_stride = kp / 32;
      auto* buf = static_cast<uint8_t*>(CallerScratch(0, n_tokens * a.q_stride));
      auto* dbuf = static_cast<float*>(CallerScratch(1, n_tokens * a.d_stride * 4));
      ForTokens(pool, n_tokens, [&](int64_t t0, int64_t t1) {
        BlockQ8_0 blk;
        for (int64_t t = t0; t < t1; ++t) {
          for (int64_t b = 0; b < k / 32; ++b) {
            QuantizeActivationQ8_0(x + t * ldx + 32 * b, &blk, 32);
            std::memcpy(buf + t * a.q_stride + 32 * b, blk.qs, 32);
            dbuf[t * a.d_stride + b] = Fp16ToFloat(blk.d);
          }
          // k is a multiple of 32 for the quantized weight types.
        }
      });
      a.q = buf;
      a.d = dbuf;
      break;
    }
    case ActLayout::kQ8K: {
      const int64_t nsb = k / 256;
      a.q_stride = k;
      a.d_stride = nsb;
      a.c_stride = nsb * 16;
      auto* buf = static_cast<uint8_t*>(CallerScratch(0, n_tokens * a.q_stride));
      auto* dbuf = static_cast<float*>(CallerScratch(1, n_tokens * a.d_stride * 4));
      auto* cbuf = static_cast<float*>(CallerScratch(2, n_tokens * a.c_stride * 4));
      ForTokens(pool, n_tokens, [&](int64_t t0, int64_t t1) {
        BlockQ8K blk;
        for (int64_t t = t0; t < t1; ++t) {
          for (int64_t sb = 0; sb < nsb; ++sb) {
            QuantizeRowQ8K(x + t * ldx + 256 * sb, &blk, 256);
            std::memcpy(buf + t * a.q_stride + 256 * sb, blk.qs, 256);
            dbuf[t * a.d_stride + sb] = blk.d;
            for (int g = 0; g < 16; ++g) cbuf[t * a.c_stride + 16 * sb + g] = blk.d * blk.bsums[g];
          }
        }
      });
      a.q = buf;
      a.d = dbuf;
      a.c = cbuf;
      break;
    }
    default:
      break;
  }
  return a;
}

}  // namespace cellar::matmul_internal
