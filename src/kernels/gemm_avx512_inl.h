// Internal to kernels/, include ONLY from *_avx512.cc files (needs the AVX-512
// compiler flags): register-level unpacking of weight blocks shared by the
// AVX-512 GEMM (which stores the unpacked form in a row tile) and GEMV (which
// uses it directly).
#pragma once

#if defined(__clang__)  // clang's _cvtsh_ss/_cvtss_sh macros use compound literals
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gguf/ggml_type.h"
#include "kernels/gemm_packed.h"
#include "kernels/quant_blocks.h"

namespace cellar::matmul_internal::avx512 {

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// Two Q8_0 blocks as 64 s8 weights.
inline __m512i LoadQ8_0Pair(const BlockQ8_0* b) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// Two Q4_0 blocks as 64 s8 weights (q - 8), in element order.
inline __m512i LoadQ4_0Pair(const BlockQ4_0* b) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs));
  const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs));
  const __m256i q01 = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
  // [q0, q0, q1, q1]; the 2nd and 4th 16-byte lanes take the high nibbles.
  __m512i z = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3),
                                       _mm512_castsi256_si512(q01));
  z = _mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4);
  z = _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
  return _mm512_sub_epi8(z, _mm512_set1_epi8(8));
}

// 5-bit quants of two Q5_0/Q5_1 blocks (qs, qh) as 64 u8 in element order.
inline __m512i Q5Pair(const uint8_t* qs0, const uint8_t* qh0, const uint8_t* qs1,
                      const uint8_t* qh1) {
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0));
  const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1));
  const __m256i q01 = _mm256_inserti128_si256(_mm256_castsi128_si256(q0), q1, 1);
  __m512i z = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3),
                                       _mm512_castsi256_si512(q01));
  z = _mm512_mask_srli_epi16(z, 0xFF00FF00u, z, 4);
  z = _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
  // Bit j of each block's qh is the 5th bit of its element j.
  uint32_t h0, h1;
  std::memcpy(&h0, qh0, 4);
  std::memcpy(&h1, qh1, 4);
  const __mmask64 hm = static_cast<__mmask64>(h0) | (static_cast<__mmask64>(h1) << 32);
  return _mm512_mask_add_epi8(z, hm, z, _mm512_set1_epi8(16));
}

// Two Q5_0 blocks as 64 s8 weights (q - 16), in element order.
inline __m512i LoadQ5_0Pair(const BlockQ5_0* b) {
  return _mm512_sub_epi8(Q5Pair(b[0].qs, b[0].qh, b[1].qs, b[1].qh), _mm512_set1_epi8(16));
}

// Two Q5_1 blocks as 64 weights q (0..31, usable as s8), in element order.
inline __m512i LoadQ5_1Pair(const BlockQ5_1* b) {
  return Q5Pair(b[0].qs, b[0].qh, b[1].qs, b[1].qh);
}

// Q8_0 / Q4_0 / Q5_0 / Q5_1 block pair (b, b + 1) of a row as 64 s8 weights,
// the two scales (and for Q5_1 the two mins); when `second` is false block
// b + 1 does not exist (zeros).
// Always inlined: in the GEMV loop `type` and `second` are constants and the
// scales stay in registers (out of line, this call took a third of decode time).
CELLAR_INLINE inline __m512i LoadQ8APair(GgmlType type, const uint8_t* row, int64_t b, bool second,
                                         float* d0, float* d1, float* m0 = nullptr,
                                         float* m1 = nullptr) {
  __m512i v;
  *d1 = 0.0f;
  if (type == GgmlType::kQ5_1) {
    const auto* blk = reinterpret_cast<const BlockQ5_1*>(row) + b;
    *d0 = HalfToFloat(blk[0].d);
    *m0 = HalfToFloat(blk[0].m);
    *m1 = 0.0f;
    if (second) {
      *d1 = HalfToFloat(blk[1].d);
      *m1 = HalfToFloat(blk[1].m);
      return LoadQ5_1Pair(blk);
    }
    const BlockQ5_1 pair[2] = {blk[0], blk[0]};
    return _mm512_inserti64x4(LoadQ5_1Pair(pair), _mm256_setzero_si256(), 1);
  }
  if (type == GgmlType::kQ8_0) {
    const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
    *d0 = HalfToFloat(blk[0].d);
    if (second) {
      *d1 = HalfToFloat(blk[1].d);
      return LoadQ8_0Pair(blk);
    }
    v = _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[0].qs)));
  } else if (type == GgmlType::kQ4_0) {
    const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
    *d0 = HalfToFloat(blk[0].d);
    if (second) {
      *d1 = HalfToFloat(blk[1].d);
      return LoadQ4_0Pair(blk);
    }
    const BlockQ4_0 pair[2] = {blk[0], blk[0]};
    v = LoadQ4_0Pair(pair);
  } else {
    const auto* blk = reinterpret_cast<const BlockQ5_0*>(row) + b;
    *d0 = HalfToFloat(blk[0].d);
    if (second) {
      *d1 = HalfToFloat(blk[1].d);
      return LoadQ5_0Pair(blk);
    }
    const BlockQ5_0 pair[2] = {blk[0], blk[0]};
    v = LoadQ5_0Pair(pair);
  }
  return _mm512_inserti64x4(v, _mm256_setzero_si256(), 1);
}

// -128 * (sum of each int32 lane's 4 weights): the vpdpbusd start value that
// turns a dot product with u8 = q + 128 activations into one with q.
inline __m512i Q8AInit(__m512i w) {
  const __m512i s =
      _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(0x80)), w);
  return _mm512_sub_epi32(_mm512_setzero_si512(), s);
}

// [m0, m1, 0 x14]: dotted with the activations' [s0, s1, 0 x14] (Q5_1).
inline __m512 PairMins(float m0, float m1) {
  return _mm512_zextps128_ps512(_mm_setr_ps(m0, m1, 0.0f, 0.0f));
}

// [d0 x8, d1 x8].
inline __m512 PairScales(float d0, float d1) {
  return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

// Unpacked K-quant super-block: 4 k-steps of 64 u8 weights (element order),
// their int16 scale vectors (one per maddubs pair), the float scale d and the
// 16-lane offset correction (per 16-element group) to dot with d_x * bsum16.
struct KBlock {
  __m512i w[4];
  __m512i s[4];
  float d;
  __m512 corr;
};

// The 8 six-bit scales and mins of a Q4_K/Q5_K block as two 8-byte arrays.
inline void DecodeScalesK4(const uint8_t* q, uint64_t* sc, uint64_t* mn) {
  uint32_t u[3];
  std::memcpy(u, q, 12);
  const uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
  const uint32_t sc_lo = u[0] & k6, mn_lo = u[1] & k6;
  const uint32_t sc_hi = (u[2] & k4) | (((u[0] >> 6) & k2) << 4);
  const uint32_t mn_hi = ((u[2] >> 4) & k4) | (((u[1] >> 6) & k2) << 4);
  *sc = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  *mn = mn_lo | (static_cast<uint64_t>(mn_hi) << 32);
}

// Scale vectors for 32-element sub-blocks: k-step g = [sc[2g] x16, sc[2g+1] x16].
inline void ScaleVectors32(uint64_t sc8, __m512i s[4]) {
  const __m512i v =
      _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(sc8))));
  CELLAR_UNROLL
  for (int g = 0; g < 4; ++g) {
    const __m512i idx = _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(2 * g)),
                                           _mm256_set1_epi16(static_cast<short>(2 * g + 1)), 1);
    s[g] = _mm512_permutexvar_epi16(idx, v);
  }
}

// Offset correction of Q4_K/Q5_K: lane k = -dmin * m[k / 2].
inline __m512 MinCorrection(uint64_t mn8, float dmin) {
  const __m256i m32 = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(mn8)));
  const __m512i dup =
      _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                               _mm512_castsi256_si512(m32));
  return _mm512_mul_ps(_mm512_cvtepi32_ps(dup), _mm512_set1_ps(-dmin));
}

// [v, v >> 4] & 0x0F: 32 bytes of nibbles as 64 u8 in element order.
inline __m512i Nibbles64(__m256i v) {
  __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(v), v, 1);
  z = _mm512_mask_srli_epi16(z, 0xFFFF0000u, z, 4);
  return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}

CELLAR_INLINE inline void UnpackQ4K(const BlockQ4K& b, KBlock* k) {
  CELLAR_UNROLL
  for (int g = 0; g < 4; ++g) {
    k->w[g] = Nibbles64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * g)));
  }
  uint64_t sc, mn;
  DecodeScalesK4(b.scales, &sc, &mn);
  ScaleVectors32(sc, k->s);
  k->d = HalfToFloat(b.d);
  k->corr = MinCorrection(mn, HalfToFloat(b.dmin));
}

CELLAR_INLINE inline void UnpackQ5K(const BlockQ5K& b, KBlock* k) {
  const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh));
  const __m512i qh2 = _mm512_inserti64x4(_mm512_castsi256_si512(qh), qh, 1);
  const __m512i one = _mm512_set1_epi8(1);
  CELLAR_UNROLL
  for (int g = 0; g < 4; ++g) {
    const __m512i lo =
        Nibbles64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * g)));
    // Bit 2g of qh for the first 32 elements, bit 2g+1 for the next 32.
    __m512i h = _mm512_srli_epi16(qh2, 2 * g);
    h = _mm512_mask_srli_epi16(h, 0xFFFF0000u, h, 1);
    h = _mm512_slli_epi16(_mm512_and_si512(h, one), 4);
    k->w[g] = _mm512_or_si512(lo, h);
  }
  uint64_t sc, mn;
  DecodeScalesK4(b.scales, &sc, &mn);
  ScaleVectors32(sc, k->s);
  k->d = HalfToFloat(b.d);
  k->corr = MinCorrection(mn, HalfToFloat(b.dmin));
}

CELLAR_INLINE inline void UnpackQ6K(const BlockQ6K& b, KBlock* k) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(3);
  CELLAR_UNROLL
  for (int h = 0; h < 2; ++h) {
    // ql bytes [64h, 64h + 64): low nibbles are elements 128h + 0..63, high
    // nibbles 128h + 64..127. qh[32h + l]: 2 bits each for +0, +32, +64, +96.
    const __m512i ql = _mm512_loadu_si512(b.ql + 64 * h);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h));
    __m512i qh2 = _mm512_inserti64x4(_mm512_castsi256_si512(qh), qh, 1);
    qh2 = _mm512_mask_srli_epi16(qh2, 0xFFFF0000u, qh2, 2);  // upper half: bits 2-3
    const __m512i hi_lo = _mm512_slli_epi16(_mm512_and_si512(qh2, m2), 4);
    const __m512i hi_hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh2, 4), m2), 4);
    k->w[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4), hi_lo);
    k->w[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), hi_hi);
  }
  const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
  const __m512i s16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(s8));
  CELLAR_UNROLL
  for (int g = 0; g < 4; ++g) {
    // [sc[4g] x8, sc[4g+1] x8, sc[4g+2] x8, sc[4g+3] x8]
    const __m512i idx =
        _mm512_setr_epi64(0x0001000100010001LL * (4 * g), 0x0001000100010001LL * (4 * g),
                          0x0001000100010001LL * (4 * g + 1), 0x0001000100010001LL * (4 * g + 1),
                          0x0001000100010001LL * (4 * g + 2), 0x0001000100010001LL * (4 * g + 2),
                          0x0001000100010001LL * (4 * g + 3), 0x0001000100010001LL * (4 * g + 3));
    k->s[g] = _mm512_permutexvar_epi16(idx, s16);
  }
  k->d = HalfToFloat(b.d);
  k->corr =
      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s8)), _mm512_set1_ps(-32.0f * k->d));
}

// sum_k w[k] * x[k] over one 256-element super-block: the int32 lanes of
// sum_g dpwssd(maddubs(w_g, x_g), s_g).
CELLAR_INLINE inline __m512i KDot(const KBlock& k, const int8_t* x) {
  __m512i acc = _mm512_setzero_si512();
  CELLAR_UNROLL
  for (int g = 0; g < 4; ++g) {
    const __m512i xv = _mm512_loadu_si512(x + 64 * g);
    acc = _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(k.w[g], xv), k.s[g]);
  }
  return acc;
}

}  // namespace cellar::matmul_internal::avx512
