#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "base/fp16.h"
#include "kernels/attention.h"
#include "kernels/softmax.h"
#include "kernels/softmax_exp_avx2.h"

namespace cellar::internal {
namespace {

inline __m256i TailMask8(int remaining) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(remaining),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// 8 elements (or the `remaining` < 8 last ones, zero-padded) of a K/V row at float offset c.
template <bool kF16>
inline __m256 LoadChunk(const uint8_t* row, int c, int remaining) {
  if constexpr (kF16) {
    if (remaining >= 8) {
      return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
    }
    uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tmp, row + 2 * c, static_cast<size_t>(remaining) * 2);
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tmp)));
  } else {
    const float* f = reinterpret_cast<const float*>(row) + c;
    if (remaining >= 8) return _mm256_loadu_ps(f);
    return _mm256_maskload_ps(f, TailMask8(remaining));
  }
}

inline __m256 LoadQ(const float* q, int remaining) {
  return remaining >= 8 ? _mm256_loadu_ps(q) : _mm256_maskload_ps(q, TailMask8(remaining));
}

template <bool kF16, int NH>
void Scores(const PagedKvView& kv, const AttentionArgs& a, int h0) {
  const int d = kv.head_dim;
  constexpr int64_t kElem = kF16 ? 2 : 4;
  const int64_t head_off = static_cast<int64_t>(a.kv_head) * kv.block_size * d * kElem;
  const int64_t row_bytes = d * kElem;
  const float* q = a.q + static_cast<int64_t>(h0) * d;
  float* scores = a.scratch + static_cast<int64_t>(h0) * a.n_keys;
  for (int32_t j0 = 0, b = 0; j0 < a.n_keys; j0 += kv.block_size, ++b) {
    const uint8_t* row = kv.k + static_cast<int64_t>(a.block_table[b]) * kv.block_stride + head_off;
    const int32_t n = a.n_keys - j0 < kv.block_size ? a.n_keys - j0 : kv.block_size;
    for (int32_t s = 0; s < n; ++s, row += row_bytes) {
      __m256 acc[NH];
#pragma GCC unroll 8
      for (int h = 0; h < NH; ++h) acc[h] = _mm256_setzero_ps();
      for (int c = 0; c < d; c += 8) {
        const __m256 k = LoadChunk<kF16>(row, c, d - c);
#pragma GCC unroll 8
        for (int h = 0; h < NH; ++h)
          acc[h] = _mm256_fmadd_ps(LoadQ(q + h * d + c, d - c), k, acc[h]);
      }
#pragma GCC unroll 8
      for (int h = 0; h < NH; ++h) {
        scores[static_cast<int64_t>(h) * a.n_keys + j0 + s] = HorizontalSumAvx2(acc[h]) * a.scale;
      }
    }
  }
}

template <bool kF16, int NH>
void Values(const PagedKvView& kv, const AttentionArgs& a, int h0) {
  const int d = kv.head_dim;
  constexpr int64_t kElem = kF16 ? 2 : 4;
  const int64_t head_off = static_cast<int64_t>(a.kv_head) * kv.block_size * d * kElem;
  const int64_t row_bytes = d * kElem;
  const float* probs = a.scratch + static_cast<int64_t>(h0) * a.n_keys;
  const float* inv_sum = a.scratch + static_cast<int64_t>(a.n_group) * a.n_keys + h0;
  float* out = a.out + static_cast<int64_t>(h0) * d;
  for (int c = 0; c < d; c += 8) {
    __m256 acc[NH];
#pragma GCC unroll 8
    for (int h = 0; h < NH; ++h) acc[h] = _mm256_setzero_ps();
    for (int32_t j0 = 0, b = 0; j0 < a.n_keys; j0 += kv.block_size, ++b) {
      const uint8_t* row =
          kv.v + static_cast<int64_t>(a.block_table[b]) * kv.block_stride + head_off;
      const int32_t n = a.n_keys - j0 < kv.block_size ? a.n_keys - j0 : kv.block_size;
      const float* p = probs + j0;
      for (int32_t s = 0; s < n; ++s, row += row_bytes) {
        const __m256 v = LoadChunk<kF16>(row, c, d - c);
#pragma GCC unroll 8
        for (int h = 0; h < NH; ++h) {
          acc[h] =
              _mm256_fmadd_ps(_mm256_set1_ps(p[static_cast<int64_t>(h) * a.n_keys + s]), v, acc[h]);
        }
      }
    }
#pragma GCC unroll 8
    for (int h = 0; h < NH; ++h) {
      const __m256 r = _mm256_mul_ps(acc[h], _mm256_set1_ps(inv_sum[h]));
      if (d - c >= 8) {
        _mm256_storeu_ps(out + h * d + c, r);
      } else {
        _mm256_maskstore_ps(out + h * d + c, TailMask8(d - c), r);
      }
    }
  }
}

template <bool kF16>
void Run(const PagedKvView& kv, const AttentionArgs& a) {
  auto for_groups = [&](auto fn) {
    int h = 0;
    while (h < a.n_group) {
      const int left = a.n_group - h;
      if (left >= 4) {
        fn(std::integral_constant<int, 4>{}, h);
        h += 4;
      } else if (left >= 2) {
        fn(std::integral_constant<int, 2>{}, h);
        h += 2;
      } else {
        fn(std::integral_constant<int, 1>{}, h);
        h += 1;
      }
    }
  };
  for_groups([&](auto nh, int h0) { Scores<kF16, decltype(nh)::value>(kv, a, h0); });
  float* inv_sum = a.scratch + static_cast<int64_t>(a.n_group) * a.n_keys;
  for (int h = 0; h < a.n_group; ++h) {
    float* s = a.scratch + static_cast<int64_t>(h) * a.n_keys;
    const float max = MaxOfAvx2(s, a.n_keys);
    inv_sum[h] = 1.0f / ExpShiftSumAvx2(s, max, s, a.n_keys);
  }
  for_groups([&](auto nh, int h0) { Values<kF16, decltype(nh)::value>(kv, a, h0); });
}

}  // namespace

void PagedAttentionAvx2(const PagedKvView& kv, const AttentionArgs& args) {
  if (kv.type == GgmlType::kF16) {
    Run<true>(kv, args);
  } else {
    Run<false>(kv, args);
  }
}

void StoreKvRowF16Avx2(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) dst[i] = FloatToFp16(src[i]);
}

void LoadKvRowF16Avx2(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) dst[i] = Fp16ToFloat(src[i]);
}

}  // namespace cellar::internal
