#include "kernels/dequantize.h"

#include <cstring>
#include <string>

#include "base/fp16.h"
#include "kernels/quantize.h"

namespace cellar {

void DequantizeRowF16(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFloat(src[i]);
}

void DequantizeRowBF16(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToFloat(src[i]);
}

void DequantizeRowQ8_0(const BlockQ8_0* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = Fp16ToFloat(src[b].d);
    for (int j = 0; j < kQK8_0; ++j) dst[b * kQK8_0 + j] = d * src[b].qs[j];
  }
}

void DequantizeRowQ4_0(const BlockQ4_0* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = Fp16ToFloat(src[b].d);
    float* y = dst + b * kQK8_0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      y[j] = d * ((src[b].qs[j] & 0xF) - 8);
      y[j + kQK8_0 / 2] = d * ((src[b].qs[j] >> 4) - 8);
    }
  }
}

void DequantizeRowQ5_0(const BlockQ5_0* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = Fp16ToFloat(src[b].d);
    uint32_t qh;
    std::memcpy(&qh, src[b].qh, 4);
    float* y = dst + b * kQK8_0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int q0 = (src[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (src[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = (q0 - 16) * d;
      y[j + kQK8_0 / 2] = (q1 - 16) * d;
    }
  }
}

void DequantizeRowQ5_1(const BlockQ5_1* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const float d = Fp16ToFloat(src[b].d), m = Fp16ToFloat(src[b].m);
    uint32_t qh;
    std::memcpy(&qh, src[b].qh, 4);
    float* y = dst + b * kQK8_0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int q0 = (src[b].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int q1 = (src[b].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = q0 * d + m;
      y[j + kQK8_0 / 2] = q1 * d + m;
    }
  }
}

void DequantizeRowQ4K(const BlockQ4K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ4K& x = src[b];
    const float d = Fp16ToFloat(x.d);
    const float dmin = Fp16ToFloat(x.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 4; ++g) {  // 64-element groups: sub-blocks 2g, 2g+1
      const uint8_t* q = x.qs + 32 * g;
      uint8_t sc, m;
      GetScaleMinK4(2 * g, x.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      GetScaleMinK4(2 * g + 1, x.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) y[64 * g + l] = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) y[64 * g + 32 + l] = d2 * (q[l] >> 4) - m2;
    }
  }
}

void DequantizeRowQ5K(const BlockQ5K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ5K& x = src[b];
    const float d = Fp16ToFloat(x.d);
    const float dmin = Fp16ToFloat(x.dmin);
    float* y = dst + b * kQK_K;
    for (int g = 0; g < 4; ++g) {
      const uint8_t* ql = x.qs + 32 * g;
      const uint8_t u1 = static_cast<uint8_t>(1u << (2 * g));
      const uint8_t u2 = static_cast<uint8_t>(2u << (2 * g));
      uint8_t sc, m;
      GetScaleMinK4(2 * g, x.scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      GetScaleMinK4(2 * g + 1, x.scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) {
        y[64 * g + l] = d1 * ((ql[l] & 0xF) + (x.qh[l] & u1 ? 16 : 0)) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        y[64 * g + 32 + l] = d2 * ((ql[l] >> 4) + (x.qh[l] & u2 ? 16 : 0)) - m2;
      }
    }
  }
}

void DequantizeRowQ6K(const BlockQ6K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockQ6K& x = src[b];
    const float d = Fp16ToFloat(x.d);
    float* y = dst + b * kQK_K;
    for (int h = 0; h < 2; ++h) {  // 128-element halves
      const uint8_t* ql = x.ql + 64 * h;
      const uint8_t* qh = x.qh + 32 * h;
      const int8_t* sc = x.scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[128 * h + l] = d * sc[is] * q1;
        y[128 * h + l + 32] = d * sc[is + 2] * q2;
        y[128 * h + l + 64] = d * sc[is + 4] * q3;
        y[128 * h + l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

void DequantizeRowQ8K(const BlockQ8K* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    for (int j = 0; j < kQK_K; ++j) dst[b * kQK_K + j] = src[b].d * src[b].qs[j];
  }
}

Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n) {
  if (!QuantizeSupports(type)) {
    return Unimplemented("DequantizeRow: type " + std::string(GgmlTypeName(type)) +
                         " is not supported");
  }
  const int64_t bs = TraitsOf(type).block_size;
  if (n < 0 || n % bs != 0) {
    return InvalidArgument("DequantizeRow: " + std::to_string(n) +
                           " elements is not a multiple of " + std::to_string(bs) + " for " +
                           std::string(GgmlTypeName(type)));
  }
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      break;
    case GgmlType::kF16:
      DequantizeRowF16(static_cast<const uint16_t*>(src), dst, n);
      break;
    case GgmlType::kBF16:
      DequantizeRowBF16(static_cast<const uint16_t*>(src), dst, n);
      break;
    case GgmlType::kQ8_0:
      DequantizeRowQ8_0(static_cast<const BlockQ8_0*>(src), dst, n);
      break;
    case GgmlType::kQ4_0:
      DequantizeRowQ4_0(static_cast<const BlockQ4_0*>(src), dst, n);
      break;
    case GgmlType::kQ5_0:
      DequantizeRowQ5_0(static_cast<const BlockQ5_0*>(src), dst, n);
      break;
    case GgmlType::kQ5_1:
      DequantizeRowQ5_1(static_cast<const BlockQ5_1*>(src), dst, n);
      break;
    case GgmlType::kQ4_K:
      DequantizeRowQ4K(static_cast<const BlockQ4K*>(src), dst, n);
      break;
    case GgmlType::kQ5_K:
      DequantizeRowQ5K(static_cast<const BlockQ5K*>(src), dst, n);
      break;
    case GgmlType::kQ6_K:
      DequantizeRowQ6K(static_cast<const BlockQ6K*>(src), dst, n);
      break;
    case GgmlType::kQ8_K:
      DequantizeRowQ8K(static_cast<const BlockQ8K*>(src), dst, n);
      break;
    default:
      break;
  }
  return OkStatus();
}

}  // namespace cellar
