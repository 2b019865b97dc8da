// The scalar MatMul level: portable C++ with llama.cpp's numerics (activations
// converted to the weight type's dot type, integer block dot products). It is
// the fallback on CPUs without AVX2 and the reference the SIMD levels are
// tested against.
#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/matmul_kernels.h"
#include "kernels/quantize.h"

namespace cellar::matmul_internal {
namespace {

float DotF32(const float* w, const float* x, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += w[i] * x[i];
  return sum;
}

float DotF16(const uint16_t* w, const float* x, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Fp16ToFloat(w[i]) * x[i];
  return sum;
}

float DotBF16(const uint16_t* w, const float* x, int64_t n) {
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += Bf16ToFloat(w[i]) * x[i];
  return sum;
}

float DotQ8_0(const BlockQ8_0* w, const BlockQ8_0* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int isum = 0;
    for (int j = 0; j < kQK8_0; ++j) isum += w[b].qs[j] * x[b].qs[j];
    sum += isum * (Fp16ToFloat(w[b].d) * Fp16ToFloat(x[b].d));
  }
  return sum;
}

float DotQ4_0(const BlockQ4_0* w, const BlockQ8_0* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int isum = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      isum += ((w[b].qs[j] & 0xF) - 8) * x[b].qs[j];
      isum += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + kQK8_0 / 2];
    }
    sum += isum * (Fp16ToFloat(w[b].d) * Fp16ToFloat(x[b].d));
  }
  return sum;
}

float DotQ5_0(const BlockQ5_0* w, const BlockQ8_0* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    uint32_t qh;
    std::memcpy(&qh, w[b].qh, 4);
    int isum = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int q0 = (w[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (w[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += (q0 - 16) * x[b].qs[j] + (q1 - 16) * x[b].qs[j + kQK8_0 / 2];
    }
    sum += isum * (Fp16ToFloat(w[b].d) * Fp16ToFloat(x[b].d));
  }
  return sum;
}

// Q5_1 x Q8_1: d_w d_x sum(q_w q_x) + m_w * s_x.
float DotQ5_1(const BlockQ5_1* w, const BlockQ8_1* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    uint32_t qh;
    std::memcpy(&qh, w[b].qh, 4);
    int isum = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int q0 = (w[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (w[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      isum += q0 * x[b].qs[j] + q1 * x[b].qs[j + kQK8_0 / 2];
    }
    sum += isum * (Fp16ToFloat(w[b].d) * Fp16ToFloat(x[b].d)) +
           Fp16ToFloat(w[b].m) * Fp16ToFloat(x[b].s);
  }
  return sum;
}

// sum_j sc_j * dot_j - correction with the mins, per super-block:
// result += x.d * (d * sum_j sc_j dot_j - dmin * sum_j m_j bsum_j).
float DotQ4K(const BlockQ4K* w, const BlockQ8K* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ4K& wb = w[b];
    const BlockQ8K& xb = x[b];
    int32_t isum = 0, imin = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      GetScaleMinK4(j, wb.scales, &sc, &m);
      const uint8_t* q = wb.qs + 32 * (j / 2);
      const int shift = (j & 1) * 4;
      int32_t dot = 0;
      for (int l = 0; l < 32; ++l) dot += ((q[l] >> shift) & 0xF) * xb.qs[32 * j + l];
      isum += sc * dot;
      imin += m * (xb.bsums[2 * j] + xb.bsums[2 * j + 1]);
    }
    sum += xb.d * (Fp16ToFloat(wb.d) * static_cast<float>(isum) -
                   Fp16ToFloat(wb.dmin) * static_cast<float>(imin));
  }
  return sum;
}

float DotQ5K(const BlockQ5K* w, const BlockQ8K* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ5K& wb = w[b];
    const BlockQ8K& xb = x[b];
    int32_t isum = 0, imin = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      GetScaleMinK4(j, wb.scales, &sc, &m);
      const uint8_t* q = wb.qs + 32 * (j / 2);
      const int shift = (j & 1) * 4;
      int32_t dot = 0;
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> shift) & 0xF) | (((wb.qh[l] >> j) & 1) << 4);
        dot += v * xb.qs[32 * j + l];
      }
      isum += sc * dot;
      imin += m * (xb.bsums[2 * j] + xb.bsums[2 * j + 1]);
    }
    sum += xb.d * (Fp16ToFloat(wb.d) * static_cast<float>(isum) -
                   Fp16ToFloat(wb.dmin) * static_cast<float>(imin));
  }
  return sum;
}

float DotQ6K(const BlockQ6K* w, const BlockQ8K* x, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6K& wb = w[b];
    const BlockQ8K& xb = x[b];
    int32_t isum = 0;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = wb.ql + 64 * h;
      const uint8_t* qh = wb.qh + 32 * h;
      for (int k = 0; k < 4; ++k) {  // quarter k: elements 128h + 32k + l
        const uint8_t* lo = ql + (k & 1) * 32;
        const int lo_shift = (k >> 1) * 4;
        for (int half = 0; half < 2; ++half) {  // 16-element sub-blocks
          int32_t dot = 0;
          for (int l = 16 * half; l < 16 * half + 16; ++l) {
            const int q = ((lo[l] >> lo_shift) & 0xF) | (((qh[l] >> (2 * k)) & 3) << 4);
            dot += (q - 32) * xb.qs[128 * h + 32 * k + l];
          }
          isum += wb.scales[8 * h + 2 * k + half] * dot;
        }
      }
    }
    sum += xb.d * Fp16ToFloat(wb.d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

void QuantizeActivationQ8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    y[b].d = FloatToFp16(amax / 127.f);
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    for (int j = 0; j < kQK8_0; ++j) {
      const float v = std::nearbyint(xb[j] * id);  // ties to even
      y[b].qs[j] = static_cast<int8_t>(v > 127.f ? 127 : (v < -127.f ? -127 : (v == v ? v : 0)));
    }
  }
}

void QuantizeActivationQ8_1(const float* x, BlockQ8_1* y, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.f;
    y[b].d = FloatToFp16(d);
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK8_0; ++j) {
      const float v = std::nearbyint(xb[j] * id);
      y[b].qs[j] = static_cast<int8_t>(v > 127.f ? 127 : (v < -127.f ? -127 : (v == v ? v : 0)));
      sum += y[b].qs[j];
    }
    y[b].s = FloatToFp16(d * static_cast<float>(sum));
  }
}

void MatMulScalar(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                  int64_t ldy, ThreadPool& pool) {
  const int64_t n = w.cols;
  const int64_t row_bytes = RowBytes(w);
  const uint8_t* wdata = static_cast<const uint8_t*>(w.data);

  // Activations in the weight type's dot type, one row per token.
  const void* acts = x;
  int64_t act_row_bytes = ldx * static_cast<int64_t>(sizeof(float));
  switch (w.type) {
    case GgmlType::kF16:
    case GgmlType::kBF16: {
      float* a = static_cast<float*>(CallerScratch(0, n_tokens * n * sizeof(float)));
      const bool f16 = w.type == GgmlType::kF16;
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t c = 0; c < n; ++c) {
          const float v = x[t * ldx + c];
          a[t * n + c] = f16 ? Fp16ToFloat(FloatToFp16(v)) : Bf16ToFloat(FloatToBf16(v));
        }
      }
      acts = a;
      act_row_bytes = n * static_cast<int64_t>(sizeof(float));
      break;
    }
    case GgmlType::kQ5_1: {
      act_row_bytes = (n / kQK8_0) * static_cast<int64_t>(sizeof(BlockQ8_1));
      auto* a = static_cast<uint8_t*>(CallerScratch(0, n_tokens * act_row_bytes));
      for (int64_t t = 0; t < n_tokens; ++t) {
        QuantizeActivationQ8_1(x + t * ldx, reinterpret_cast<BlockQ8_1*>(a + t * act_row_bytes), n);
      }
      acts = a;
      break;
    }
    case GgmlType::kQ8_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ4_0: {
      act_row_bytes = (n / kQK8_0) * static_cast<int64_t>(sizeof(BlockQ8_0));
      auto* a = static_cast<uint8_t*>(CallerScratch(0, n_tokens * act_row_bytes));
      for (int64_t t = 0; t < n_tokens; ++t) {
        QuantizeActivationQ8_0(x + t * ldx, reinterpret_cast<BlockQ8_0*>(a + t * act_row_bytes), n);
      }
      acts = a;
      break;
    }
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K: {
      act_row_bytes = (n / kQK_K) * static_cast<int64_t>(sizeof(BlockQ8K));
      auto* a = static_cast<uint8_t*>(CallerScratch(0, n_tokens * act_row_bytes));
      for (int64_t t = 0; t < n_tokens; ++t) {
        QuantizeRowQ8K(x + t * ldx, reinterpret_cast<BlockQ8K*>(a + t * act_row_bytes), n);
      }
      acts = a;
      break;
    }
    default:
      break;
  }

  const auto* act_bytes = static_cast<const uint8_t*>(acts);
  const GgmlType type = w.type;
  pool.Run([&](int ith, int nth) {
    int64_t r0, r1;
    SplitRange(w.rows, 1, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; ++r) {
      const void* wr = wdata + r * row_bytes;
      for (int64_t t = 0; t < n_tokens; ++t) {
        const void* xt = act_bytes + t * act_row_bytes;
        float v = 0;
        switch (type) {
          case GgmlType::kF32:
            v = DotF32(static_cast<const float*>(wr), static_cast<const float*>(xt), n);
            break;
          case GgmlType::kF16:
            v = DotF16(static_cast<const uint16_t*>(wr), static_cast<const float*>(xt), n);
            break;
          case GgmlType::kBF16:
            v = DotBF16(static_cast<const uint16_t*>(wr), static_cast<const float*>(xt), n);
            break;
          case GgmlType::kQ8_0:
            v = DotQ8_0(static_cast<const BlockQ8_0*>(wr), static_cast<const BlockQ8_0*>(xt), n);
            break;
          case GgmlType::kQ4_0:
            v = DotQ4_0(static_cast<const BlockQ4_0*>(wr), static_cast<const BlockQ8_0*>(xt), n);
            break;
          case GgmlType::kQ5_0:
            v = DotQ5_0(static_cast<const BlockQ5_0*>(wr), static_cast<const BlockQ8_0*>(xt), n);
            break;
          case GgmlType::kQ5_1:
            v = DotQ5_1(static_cast<const BlockQ5_1*>(wr), static_cast<const BlockQ8_1*>(xt), n);
            break;
          case GgmlType::kQ4_K:
            v = DotQ4K(static_cast<const BlockQ4K*>(wr), static_cast<const BlockQ8K*>(xt), n);
            break;
          case GgmlType::kQ5_K:
            v = DotQ5K(static_cast<const BlockQ5K*>(wr), static_cast<const BlockQ8K*>(xt), n);
            break;
          case GgmlType::kQ6_K:
            v = DotQ6K(static_cast<const BlockQ6K*>(wr), static_cast<const BlockQ8K*>(xt), n);
            break;
          default:
            break;
        }
        y[t * ldy + r] = v;
      }
    }
  });
}

}  // namespace cellar::matmul_internal
