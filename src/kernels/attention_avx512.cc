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

// Head dims up to this use the transposed-tile score kernel (16 KiB of stack).
constexpr int kMaxHeadDim = 256;

// Transposes the 16x16 floats in r in place: r[i][j] becomes r[j][i].
__attribute__((always_inline)) inline void Transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + k], 128-bit lane L: column 4L + k of rows 4i .. 4i + 3.
  __m512 u[16];
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), e = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
  }
  for (int k = 0; k < 4; ++k) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x88);
    const __m512 v1 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x88);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xDD);
    r[k] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[4 + k] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[8 + k] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[12 + k] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// scores[h][j] = scale * q[h] . K[j] for every head, 16 keys at a time: the 16
// keys' K rows are converted and transposed once (kt[c] = dimension c of the
// 16 keys), so each head's 16 scores are d broadcast multiply-adds into one
// vector, with no horizontal sums; the transpose is shared by the group's heads.
template <bool kF16>
void Scores(const PagedKvView& kv, const AttentionArgs& a, float* kt) {
  const int d = kv.head_dim;
  constexpr int64_t kElem = kF16 ? 2 : 4;
  const int64_t head_off = static_cast<int64_t>(a.kv_head) * kv.block_size * d * kElem;
  const int64_t row_bytes = d * kElem;
  const __m512 scale = _mm512_set1_ps(a.scale);
  for (int32_t j0 = 0, b = 0; j0 < a.n_keys; j0 += kv.block_size, ++b) {
    const uint8_t* block =
        kv.k + static_cast<int64_t>(a.block_table[b]) * kv.block_stride + head_off;
    const int32_t n_block = a.n_keys - j0 < kv.block_size ? a.n_keys - j0 : kv.block_size;
    for (int32_t s0 = 0; s0 < n_block; s0 += 16) {
      const int32_t n = n_block - s0 < 16 ? n_block - s0 : 16;
      const uint8_t* rows = block + static_cast<int64_t>(s0) * row_bytes;
      for (int c = 0; c < d; c += 16) {
        const __mmask16 m = TailMask16(d - c);
        __m512 r[16];
#pragma GCC unroll 16
        for (int s = 0; s < 16; ++s) {
          r[s] = s < n ? LoadChunk<kF16>(rows + s * row_bytes, c, m) : _mm512_setzero_ps();
        }
        Transpose16x16(r);
        const int n_dims = d - c < 16 ? d - c : 16;
        if (n_dims == 16) {
#pragma GCC unroll 16
          for (int i = 0; i < 16; ++i) _mm512_store_ps(kt + (c + i) * 16, r[i]);
        } else {
          for (int i = 0; i < n_dims; ++i) _mm512_store_ps(kt + (c + i) * 16, r[i]);
        }
      }
      const __mmask16 key_mask = TailMask16(n);
      int h = 0;
      auto heads = [&](auto nh_const) {
        constexpr int NH = decltype(nh_const)::value;
        const float* q = a.q + static_cast<int64_t>(h) * d;
        __m512 acc[NH];
#pragma GCC unroll 8
        for (int g = 0; g < NH; ++g) acc[g] = _mm512_setzero_ps();
        for (int c = 0; c < d; ++c) {
          const __m512 k = _mm512_load_ps(kt + c * 16);
#pragma GCC unroll 8
          for (int g = 0; g < NH; ++g) {
            acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[g * d + c]), k, acc[g]);
          }
        }
#pragma GCC unroll 8
        for (int g = 0; g < NH; ++g) {
          _mm512_mask_storeu_ps(a.scratch + static_cast<int64_t>(h + g) * a.n_keys + j0 + s0,
                                key_mask, _mm512_mul_ps(acc[g], scale));
        }
        h += NH;
      };
      while (a.n_group - h >= 8) heads(std::integral_constant<int, 8>{});
      if (a.n_group - h >= 4) heads(std::integral_constant<int, 4>{});
      if (a.n_group - h >= 2) heads(std::integral_constant<int, 2>{});
      if (a.n_group - h >= 1) heads(std::integral_constant<int, 1>{});
    }
  }
}

// scores[h][j] = scale * q[h] . K[j] for the NH heads starting at h0, one key at
// a time (head_dim > kMaxHeadDim, where the transposed tile does not fit).
template <bool kF16, int NH>
void ScoresPerKey(const PagedKvView& kv, const AttentionArgs& a, int h0) {
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
#pragma GCC unroll 8
      for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
      for (int c = 0; c < d; c += 16) {
        const __mmask16 m = TailMask16(d - c);
        const __m512 k = LoadChunk<kF16>(row, c, m);
#pragma GCC unroll 8
        for (int h = 0; h < NH; ++h) {
          acc[h] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + h * d + c), k, acc[h]);
        }
      }
#pragma GCC unroll 8
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
#pragma GCC unroll 8
    for (int h = 0; h < NH; ++h) acc[h] = _mm512_setzero_ps();
    for (int32_t j0 = 0, b = 0; j0 < a.n_keys; j0 += kv.block_size, ++b) {
      const uint8_t* row =
          kv.v + static_cast<int64_t>(a.block_table[b]) * kv.block_stride + head_off;
      const int32_t n = a.n_keys - j0 < kv.block_size ? a.n_keys - j0 : kv.block_size;
      const float* p = probs + j0;
      for (int32_t s = 0; s < n; ++s, row += row_bytes) {
        const __m512 v = LoadChunk<kF16>(row, c, m);
#pragma GCC unroll 8
        for (int h = 0; h < NH; ++h) {
          acc[h] =
              _mm512_fmadd_ps(_mm512_set1_ps(p[static_cast<int64_t>(h) * a.n_keys + s]), v, acc[h]);
        }
      }
    }
#pragma GCC unroll 8
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
  if (kv.head_dim <= kMaxHeadDim) {
    alignas(64) float kt[kMaxHeadDim * 16];
    Scores<kF16>(kv, a, kt);
  } else {
    for_groups([&](auto nh, int h0) { ScoresPerKey<kF16, decltype(nh)::value>(kv, a, h0); });
  }
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
