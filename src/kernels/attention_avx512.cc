// GCC 12 reports its own _mm512_undefined_ps() inside max/min/scalef/roundscale
// as (maybe-)uninitialized (a known false positive); silence it for this file.
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <type_traits>

#include "kernels/attention.h"
#include "kernels/softmax.h"
#include "kernels/softmax_exp_avx512.h"

namespace cellar::internal {
namespace {

template <bool kF16>
inline __m512 LoadChunk(const uint8_t* row, int c, __mmask16 m) {
  if constexpr (kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * c));
  } else {
    return _mm512_maskz_loadu_ps(m, row + 4 * c);
  }
}

// scores[h][j] = scale * q[h] . K[j] for the NH heads starting at h0.
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
      __m512 acc[NH];
      for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
      for (int c = 0; c < d; c += 16) {
        const __mmask16 m = TailMask16(d - c);
        const __m512 k = LoadChunk<kF16>(row, c, m);
        for (int h = 0; h < NH; ++h) {
          acc[h] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + h * d + c), k, acc[h]);
        }
      }
      for (int h = 0; h < NH; ++h) {
        scores[static_cast<int64_t>(h) * a.n_keys + j0 + s] =
            _mm512_reduce_add_ps(acc[h]) * a.scale;
      }
    }
  }
}

// out[h] = sum_j p[h][j] V[j] * inv_sum[h] for the NH heads starting at h0.
template <bool kF16, int NH>
void Values(const PagedKvView& kv, const AttentionArgs& a, int h0) {
  const int d = kv.head_dim;
  constexpr int64_t kElem = kF16 ? 2 : 4;
  const int64_t head_off = static_cast<int64_t>(a.kv_head) * kv.block_size * d * kElem;
  const int64_t row_bytes = d * kElem;
  const float* probs = a.scratch + static_cast<int64_t>(h0) * a.n_keys;
  const float* inv_sum = a.scratch + static_cast<int64_t>(a.n_group) * a.n_keys + h0;
  float* out = a.out + static_cast<int64_t>(h0) * d;
  for (int c = 0; c < d; c += 16) {
    const __mmask16 m = TailMask16(d - c);
    __m512 acc[NH];
    for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
    for (int32_t j0 = 0, b = 0; j0 < a.n_keys; j0 += kv.block_size, ++b) {
      const uint8_t* row =
          kv.v + static_cast<int64_t>(a.block_table[b]) * kv.block_stride + head_off;
      const int32_t n = a.n_keys - j0 < kv.block_size ? a.n_keys - j0 : kv.block_size;
      const float* p = probs + j0;
      for (int32_t s = 0; s < n; ++s, row += row_bytes) {
        const __m512 v = LoadChunk<kF16>(row, c, m);
        for (int h = 0; h < NH; ++h) {
          acc[h] =
              _mm512_fmadd_ps(_mm512_set1_ps(p[static_cast<int64_t>(h) * a.n_keys + s]), v, acc[h]);
        }
      }
    }
    for (int h = 0; h < NH; ++h) {
      _mm512_mask_storeu_ps(out + h * d + c, m, _mm512_mul_ps(acc[h], _mm512_set1_ps(inv_sum[h])));
    }
  }
}

template <bool kF16>
void Run(const PagedKvView& kv, const AttentionArgs& a) {
  auto for_groups = [&](auto scores_or_values) {
    int h = 0;
    while (h < a.n_group) {
      const int left = a.n_group - h;
      if (left >= 8) {
        scores_or_values(std::integral_constant<int, 8>{}, h);
        h += 8;
      } else if (left >= 4) {
        scores_or_values(std::integral_constant<int, 4>{}, h);
        h += 4;
      } else if (left >= 2) {
        scores_or_values(std::integral_constant<int, 2>{}, h);
        h += 2;
      } else {
        scores_or_values(std::integral_constant<int, 1>{}, h);
        h += 1;
      }
    }
  };
  for_groups([&](auto nh, int h0) { Scores<kF16, decltype(nh)::value>(kv, a, h0); });
  float* inv_sum = a.scratch + static_cast<int64_t>(a.n_group) * a.n_keys;
  for (int h = 0; h < a.n_group; ++h) {
    float* s = a.scratch + static_cast<int64_t>(h) * a.n_keys;
    const float max = MaxOfAvx512(s, a.n_keys);
    inv_sum[h] = 1.0f / ExpShiftSumAvx512(s, max, s, a.n_keys);
  }
  for_groups([&](auto nh, int h0) { Values<kF16, decltype(nh)::value>(kv, a, h0); });
}

}  // namespace

void PagedAttentionAvx512(const PagedKvView& kv, const AttentionArgs& args) {
  if (kv.type == GgmlType::kF16) {
    Run<true>(kv, args);
  } else {
    Run<false>(kv, args);
  }
}

}  // namespace cellar::internal
