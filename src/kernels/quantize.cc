#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "base/fp16.h"

namespace cellar {

bool QuantizeSupports(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
    case GgmlType::kQ8_K:
      return true;
    default:
      return false;
  }
}

void QuantizeRowF16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = FloatToFp16(src[i]);
}

void QuantizeRowBF16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = FloatToBf16(src[i]);
}

void QuantizeRowQ8_0(const float* src, BlockQ8_0* dst, int64_t n) {
  const int64_t nb = n / kQK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = FloatToFp16(d);
    for (int j = 0; j < kQK8_0; ++j) {
      // roundf: ties away from zero, as ggml's reference. |x * id| <= 127 for
      // finite input; the clamp only guards non-finite input.
      const float v = std::roundf(x[j] * id);
      dst[b].qs[j] =
          static_cast<int8_t>(v >= 127.0f ? 127 : (v <= -127.0f ? -127 : (v == v ? v : 0)));
    }
  }
}

void QuantizeRowQ4_0(const float* src, BlockQ4_0* dst, int64_t n) {
  const int64_t nb = n / kQK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK8_0;
    float amax = 0.0f, max = 0.0f;  // max: the signed value of largest magnitude
    for (int j = 0; j < kQK8_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = FloatToFp16(d);
    auto q = [id](float v) -> uint8_t {
      // Truncation of v * id + 8.5 (in [0.5, 16.5] for finite input), capped at 15.
      const float t = v * id + 8.5f;
      if (!(t >= 0.0f)) return 0;
      return static_cast<uint8_t>(std::min(15, static_cast<int>(std::min(t, 16.0f))));
    };
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      dst[b].qs[j] = static_cast<uint8_t>(q(x[j]) | (q(x[j + kQK8_0 / 2]) << 4));
    }
  }
}

void QuantizeRowQ5_0(const float* src, BlockQ5_0* dst, int64_t n) {
  const int64_t nb = n / kQK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK8_0;
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = FloatToFp16(d);
    auto q = [id](float v) -> int {
      // Truncation of v * id + 16.5 (in [0.5, 32.5] for finite input), capped at 31.
      const float t = v * id + 16.5f;
      if (!(t >= 0.0f)) return 0;
      return std::min(31, static_cast<int>(std::min(t, 32.0f)));
    };
    uint32_t qh = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int q0 = q(x[j]), q1 = q(x[j + kQK8_0 / 2]);
      dst[b].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK8_0 / 2);
    }
    std::memcpy(dst[b].qh, &qh, 4);
  }
}

void QuantizeRowQ5_1(const float* src, BlockQ5_1* dst, int64_t n) {
  const int64_t nb = n / kQK8_0;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK8_0;
    float min = x[0], max = x[0];
    for (int j = 1; j < kQK8_0; ++j) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = FloatToFp16(d);
    dst[b].m = FloatToFp16(min);
    auto q = [id, min](float v) -> int {
      const float t = (v - min) * id + 0.5f;  // in [0.5, 31.5] for finite input
      if (!(t >= 0.0f)) return 0;
      return std::min(31, static_cast<int>(t));
    };
    uint32_t qh = 0;
    for (int j = 0; j < kQK8_0 / 2; ++j) {
      const int q0 = q(x[j]), q1 = q(x[j + kQK8_0 / 2]);
      dst[b].qs[j] = static_cast<uint8_t>((q0 & 0x0F) | ((q1 & 0x0F) << 4));
      qh |= static_cast<uint32_t>(q0 >> 4) << j;
      qh |= static_cast<uint32_t>(q1 >> 4) << (j + kQK8_0 / 2);
    }
    std::memcpy(dst[b].qh, &qh, 4);
  }
}

void QuantizeRowQ8K(const float* src, BlockQ8K* dst, int64_t n) {
  const int64_t nb = n / kQK_K;
  for (int64_t b = 0; b < nb; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8K& y = dst[b];
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f || !std::isfinite(amax)) {
      y.d = 0.0f;
      std::memset(y.qs, 0, sizeof(y.qs));
      std::memset(y.bsums, 0, sizeof(y.bsums));
      continue;
    }
    // ggml scales by -127/max (max signed), so values lie in [-127, 127].
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      y.qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y.qs[16 * j + i];
      y.bsums[j] = static_cast<int16_t>(sum);
    }
    y.d = 1.0f / iscale;
  }
}

Status QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n) {
  if (!QuantizeSupports(type)) {
    return Unimplemented("QuantizeRow: type " + std::string(GgmlTypeName(type)) +
                         " is not supported");
  }
  const int64_t bs = TraitsOf(type).block_size;
  if (n < 0 || n % bs != 0) {
    return InvalidArgument("QuantizeRow: " + std::to_string(n) + " elements is not a multiple of " +
                           std::to_string(bs) + " for " + std::string(GgmlTypeName(type)));
  }
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      break;
    case GgmlType::kF16:
      QuantizeRowF16(src, static_cast<uint16_t*>(dst), n);
      break;
    case GgmlType::kBF16:
      QuantizeRowBF16(src, static_cast<uint16_t*>(dst), n);
      break;
    case GgmlType::kQ8_0:
      QuantizeRowQ8_0(src, static_cast<BlockQ8_0*>(dst), n);
      break;
    case GgmlType::kQ4_0:
      QuantizeRowQ4_0(src, static_cast<BlockQ4_0*>(dst), n);
      break;
    case GgmlType::kQ5_0:
      QuantizeRowQ5_0(src, static_cast<BlockQ5_0*>(dst), n);
      break;
    case GgmlType::kQ5_1:
      QuantizeRowQ5_1(src, static_cast<BlockQ5_1*>(dst), n);
      break;
    case GgmlType::kQ4_K:
      QuantizeRowQ4K(src, static_cast<BlockQ4K*>(dst), n);
      break;
    case GgmlType::kQ5_K:
      QuantizeRowQ5K(src, static_cast<BlockQ5K*>(dst), n);
      break;
    case GgmlType::kQ6_K:
      QuantizeRowQ6K(src, static_cast<BlockQ6K*>(dst), n);
      break;
    case GgmlType::kQ8_K:
      QuantizeRowQ8K(src, static_cast<BlockQ8K*>(dst), n);
      break;
    default:
      break;
  }
  return OkStatus();
}

}  // namespace cellar
