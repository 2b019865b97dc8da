// The AVX2 MatMul kernels (AVX2 + FMA + F16C): register-blocked R rows x T
// tokens, unpacking the weight blocks in registers (no repacking buffer), so
// the same code serves decode (T = 1) and prefill. Activations come packed by
// PackActivationsPortable. vpmaddubsw needs one unsigned operand: Q8_0-family
// dots use the sign trick (|w| times x with w's sign), K-quants have unsigned
// weights and fold their offsets into a float correction (see gemm_avx512.cc).
#if defined(__clang__)  // clang's _cvtsh_ss/_cvtss_sh macros use compound literals
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/gemm_packed.h"
#include "kernels/matmul_kernels.h"
#include "kernels/quant_blocks.h"

namespace cellar::matmul_internal::avx2 {
namespace {

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ------------------------------------------------------------------ float

template <GgmlType kType>
inline __m256 LoadW8(const uint8_t* row, int64_t i) {
  if constexpr (kType == GgmlType::kF32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
  } else if constexpr (kType == GgmlType::kF16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(
        reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + i)));
  } else {
    const __m128i h = _mm_loadu_si128(
        reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
}

template <GgmlType kType>
inline float LoadW1(const uint8_t* row, int64_t i) {
  if constexpr (kType == GgmlType::kF32) {
    return reinterpret_cast<const float*>(row)[i];
  } else if constexpr (kType == GgmlType::kF16) {
    return HalfToFloat(reinterpret_cast<const uint16_t*>(row)[i]);
  } else {
    uint32_t u = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[i]) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
}

template <GgmlType kType, int R, int T>
void MicroFloat(const uint8_t* w, int64_t row_bytes, const PackedActs& a, int64_t t0, int64_t k,
                float* y, int64_t ldy) {
  __m256 acc[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const float* x[T];
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) x[t] = reinterpret_cast<const float*>(a.q + (t0 + t) * a.q_stride);
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 wv[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) wv[r] = LoadW8<kType>(w + r * row_bytes, i);
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(x[t] + i);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) {
      float v = HSum(acc[r][t]);
      for (int64_t j = i; j < k; ++j) v += LoadW1<kType>(w + r * row_bytes, j) * x[t][j];
      y[(t0 + t) * ldy + r] = v;
    }
  }
}

// ------------------------------------------------------------------ q8 (32-blocks)

// 32 set bits of `bits` as bytes 0xFF / 0x00.
inline __m256i BytesFromBits(uint32_t bits) {
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000LL, 0x0101010101010101LL,
                                          0x0202020202020202LL, 0x0303030303030303LL);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  const __m256i mask = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL);
  v = _mm256_or_si256(v, mask);
  return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

// Nibbles of 16 bytes as 32 u8: low nibbles first, then high nibbles.
inline __m256i Nibbles32(const uint8_t* p) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

// Block b of a Q8_0/Q4_0/Q5_0 row as 32 s8 weights, and its scale.
template <GgmlType kType>
inline __m256i LoadBlock32(const uint8_t* row, int64_t b, float* d) {
  if constexpr (kType == GgmlType::kQ8_0) {
    const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
    *d = HalfToFloat(blk->d);
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qs));
  } else if constexpr (kType == GgmlType::kQ4_0) {
    const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
    *d = HalfToFloat(blk->d);
    return _mm256_sub_epi8(Nibbles32(blk->qs), _mm256_set1_epi8(8));
  } else {
    const auto* blk = reinterpret_cast<const BlockQ5_0*>(row) + b;
    *d = HalfToFloat(blk->d);
    uint32_t qh;
    std::memcpy(&qh, blk->qh, 4);
    const __m256i hi = _mm256_and_si256(BytesFromBits(qh), _mm256_set1_epi8(0x10));
    return _mm256_sub_epi8(_mm256_or_si256(Nibbles32(blk->qs), hi), _mm256_set1_epi8(16));
  }
}

template <GgmlType kType, int R, int T>
void MicroQ8S(const uint8_t* w, int64_t row_bytes, const PackedActs& a, int64_t t0, int64_t k,
              float* y, int64_t ldy) {
  __m256 acc[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < k / 32; ++b) {
    __m256i wv[R], aw[R];
    float dw[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) {
      wv[r] = LoadBlock32<kType>(w + r * row_bytes, b, &dw[r]);
      aw[r] = _mm256_sign_epi8(wv[r], wv[r]);
    }
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const __m256i xv = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(a.q + (t0 + t) * a.q_stride + 32 * b));
      const float dx = a.d[(t0 + t) * a.d_stride + b];
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        const __m256i p = _mm256_maddubs_epi16(aw[r], _mm256_sign_epi8(xv, wv[r]));
        const __m256 s = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones));
        acc[r][t] = _mm256_fmadd_ps(s, _mm256_set1_ps(dw[r] * dx), acc[r][t]);
      }
    }
  }
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) y[(t0 + t) * ldy + r] = HSum(acc[r][t]);
  }
}

// ------------------------------------------------------------------ K-quants

// Unpacked K super-block: 8 chunks of 32 u8 weights (element order) with their
// int16 scale vectors (one per maddubs pair), d, and the 16-lane correction.
struct KChunks {
  __m256i w[8];
  __m256i s[8];
  float d;
  __m256 corr[2];
};

inline void ScalesMinsK4(const uint8_t* q, uint8_t* sc, uint8_t* mn) {
  CELLAR_UNROLL
  for (int j = 0; j < 8; ++j) GetScaleMinK4(j, q, &sc[j], &mn[j]);
}

inline void MinCorr(const uint8_t* mn, float dmin, __m256* corr) {
  alignas(32) float c[16];
  for (int k = 0; k < 16; ++k) c[k] = -dmin * mn[k / 2];
  corr[0] = _mm256_load_ps(c);
  corr[1] = _mm256_load_ps(c + 8);
}

template <GgmlType kType>
inline void UnpackK(const uint8_t* row, int64_t b, KChunks* k) {
  if constexpr (kType == GgmlType::kQ4_K || kType == GgmlType::kQ5_K) {
    const uint8_t* qs;
    const uint8_t* scales;
    uint16_t d, dmin;
    __m256i qh = _mm256_setzero_si256();
    if constexpr (kType == GgmlType::kQ4_K) {
      const auto& blk = reinterpret_cast<const BlockQ4K*>(row)[b];
      qs = blk.qs;
      scales = blk.scales;
      d = blk.d;
      dmin = blk.dmin;
    } else {
      const auto& blk = reinterpret_cast<const BlockQ5K*>(row)[b];
      qs = blk.qs;
      scales = blk.scales;
      d = blk.d;
      dmin = blk.dmin;
      qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh));
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    CELLAR_UNROLL
    for (int g = 0; g < 4; ++g) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * g));
      k->w[2 * g] = _mm256_and_si256(v, m4);
      k->w[2 * g + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      if constexpr (kType == GgmlType::kQ5_K) {
        const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one);
        const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one);
        k->w[2 * g] = _mm256_or_si256(k->w[2 * g], _mm256_slli_epi16(h0, 4));
        k->w[2 * g + 1] = _mm256_or_si256(k->w[2 * g + 1], _mm256_slli_epi16(h1, 4));
      }
    }
    uint8_t sc[8], mn[8];
    ScalesMinsK4(scales, sc, mn);
    CELLAR_UNROLL
    for (int j = 0; j < 8; ++j) k->s[j] = _mm256_set1_epi16(sc[j]);
    k->d = HalfToFloat(d);
    MinCorr(mn, HalfToFloat(dmin), k->corr);
  } else {
    const auto& blk = reinterpret_cast<const BlockQ6K*>(row)[b];
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    CELLAR_UNROLL
    for (int h = 0; h < 2; ++h) {
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
      auto hi = [&](int shift) CELLAR_INLINE {
        return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, shift), m2), 4);
      };
      k->w[4 * h] = _mm256_or_si256(_mm256_and_si256(l0, m4), hi(0));
      k->w[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), hi(2));
      k->w[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), hi(4));
      k->w[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), hi(6));
    }
    CELLAR_UNROLL
    for (int j = 0; j < 8; ++j) {
      k->s[j] = _mm256_set_m128i(_mm_set1_epi16(blk.scales[2 * j + 1]),
                                 _mm_set1_epi16(blk.scales[2 * j]));
    }
    k->d = HalfToFloat(blk.d);
    alignas(32) float c[16];
    CELLAR_UNROLL
    for (int j = 0; j < 16; ++j) c[j] = -32.0f * k->d * blk.scales[j];
    k->corr[0] = _mm256_load_ps(c);
    k->corr[1] = _mm256_load_ps(c + 8);
  }
}

template <GgmlType kType, int R, int T>
void MicroK(const uint8_t* w, int64_t row_bytes, const PackedActs& a, int64_t t0, int64_t k,
            float* y, int64_t ldy) {
  __m256 acc[R][T];
  CELLAR_UNROLL
  for (int r = 0; r < R; ++r) {
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < k / 256; ++b) {
    KChunks kc[R];
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) UnpackK<kType>(w + r * row_bytes, b, &kc[r]);
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) {
      const uint8_t* x = a.q + (t0 + t) * a.q_stride + 256 * b;
      __m256i acci[R];
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) acci[r] = _mm256_setzero_si256();
      CELLAR_UNROLL
      for (int j = 0; j < 8; ++j) {
        const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * j));
        CELLAR_UNROLL
        for (int r = 0; r < R; ++r) {
          const __m256i p = _mm256_maddubs_epi16(kc[r].w[j], xv);
          acci[r] = _mm256_add_epi32(acci[r], _mm256_madd_epi16(p, kc[r].s[j]));
        }
      }
      const float dx = a.d[(t0 + t) * a.d_stride + b];
      const float* c = a.c + (t0 + t) * a.c_stride + 16 * b;
      const __m256 c0 = _mm256_loadu_ps(c), c1 = _mm256_loadu_ps(c + 8);
      CELLAR_UNROLL
      for (int r = 0; r < R; ++r) {
        acc[r][t] =
            _mm256_fmadd_ps(_mm256_cvtepi32_ps(acci[r]), _mm256_set1_ps(kc[r].d * dx), acc[r][t]);
        acc[r][t] = _mm256_fmadd_ps(kc[r].corr[0], c0, acc[r][t]);
        acc[r][t] = _mm256_fmadd_ps(kc[r].corr[1], c1, acc[r][t]);
      }
    }
  }
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    CELLAR_UNROLL
    for (int r = 0; r < R; ++r) y[(t0 + t) * ldy + r] = HSum(acc[r][t]);
  }
}

// ------------------------------------------------------------------ driver

using MicroFn = void (*)(const uint8_t*, int64_t, const PackedActs&, int64_t, int64_t, float*,
                         int64_t);

constexpr int kR = 2;  // rows per micro-tile
constexpr int kT = 4;  // tokens per micro-tile

template <template <GgmlType, int, int> class M, GgmlType kType>
struct Table {
  static MicroFn Get(int r, int t) {
    static const MicroFn fns[kR][kT] = {
        {M<kType, 1, 1>::F, M<kType, 1, 2>::F, M<kType, 1, 3>::F, M<kType, 1, 4>::F},
        {M<kType, 2, 1>::F, M<kType, 2, 2>::F, M<kType, 2, 3>::F, M<kType, 2, 4>::F}};
    return fns[r - 1][t - 1];
  }
};

template <GgmlType kType, int R, int T>
struct FloatM {
  static void F(const uint8_t* w, int64_t rb, const PackedActs& a, int64_t t0, int64_t k, float* y,
                int64_t ldy) {
    MicroFloat<kType, R, T>(w, rb, a, t0, k, y, ldy);
  }
};
template <GgmlType kType, int R, int T>
struct Q8SM {
  static void F(const uint8_t* w, int64_t rb, const PackedActs& a, int64_t t0, int64_t k, float* y,
                int64_t ldy) {
    MicroQ8S<kType, R, T>(w, rb, a, t0, k, y, ldy);
  }
};
template <GgmlType kType, int R, int T>
struct KM {
  static void F(const uint8_t* w, int64_t rb, const PackedActs& a, int64_t t0, int64_t k, float* y,
                int64_t ldy) {
    MicroK<kType, R, T>(w, rb, a, t0, k, y, ldy);
  }
};

MicroFn Pick(GgmlType type, int r, int t) {
  switch (type) {
    case GgmlType::kF32:
      return Table<FloatM, GgmlType::kF32>::Get(r, t);
    case GgmlType::kF16:
      return Table<FloatM, GgmlType::kF16>::Get(r, t);
    case GgmlType::kBF16:
      return Table<FloatM, GgmlType::kBF16>::Get(r, t);
    case GgmlType::kQ8_0:
      return Table<Q8SM, GgmlType::kQ8_0>::Get(r, t);
    case GgmlType::kQ4_0:
      return Table<Q8SM, GgmlType::kQ4_0>::Get(r, t);
    case GgmlType::kQ5_0:
      return Table<Q8SM, GgmlType::kQ5_0>::Get(r, t);
    case GgmlType::kQ4_K:
      return Table<KM, GgmlType::kQ4_K>::Get(r, t);
    case GgmlType::kQ5_K:
      return Table<KM, GgmlType::kQ5_K>::Get(r, t);
    case GgmlType::kQ6_K:
      return Table<KM, GgmlType::kQ6_K>::Get(r, t);
    default:
      return nullptr;
  }
}

}  // namespace

void MatMulRows(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end,
                float* y, int64_t ldy) {
  const int64_t row_bytes = RowBytes(w);
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  for (int64_t r0 = r_begin; r0 < r_end; r0 += kR) {
    const int nr = static_cast<int>(std::min<int64_t>(kR, r_end - r0));
    for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kT) {
      const int nt = static_cast<int>(std::min<int64_t>(kT, a.n_tokens - t0));
      Pick(w.type, nr, nt)(wdata + r0 * row_bytes, row_bytes, a, t0, w.cols, y + r0, ldy);
    }
  }
}

}  // namespace cellar::matmul_internal::avx2
