// The AVX-512 MatMul level (AVX-512 F/BW/VL/DQ/VNNI/BF16): activation packing
// and the split of the work across the thread pool. The kernels are in
// gemm_avx512.cc (many tokens: repacked row tiles, register-blocked) and
// gemv_avx512.cc (few tokens: weights streamed once).
// GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_*) as maybe-uninitialized.
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"

#if defined(__clang__)  // clang's _cvtsh_ss/_cvtss_sh macros use compound literals
#pragma clang diagnostic ignored "-Wc99-extensions"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/gemm_packed.h"
#include "kernels/matmul_kernels.h"

namespace cellar::matmul_internal {
namespace avx512 {
namespace {

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Horizontal max of 16 floats.
inline float HMax(__m512 v) { return _mm512_reduce_max_ps(v); }

void PackF16Rounded(const float* x, float* out, int64_t k, int64_t kp) {
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(h));
  }
  if (i < k) {
    const __mmask16 m = static_cast<__mmask16>((1u << (k - i)) - 1);
    const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(h));
    i += 16;
  }
  for (; i < kp; ++i) out[i] = 0.0f;
}

void PackBF16(const float* x, uint16_t* out, int64_t k, int64_t kp) {
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(x + i));
    _mm512_storeu_si512(out + i, reinterpret_cast<const __m512i&>(v));
  }
  for (; i < k; i += 16) {
    const int64_t n = k - i < 16 ? k - i : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1);
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i));
    _mm256_mask_storeu_epi16(out + i, m, reinterpret_cast<const __m256i&>(v));
  }
  for (int64_t j = k; j < kp; ++j) out[j] = 0;
}

// One Q8_0 activation block of 32 (two halves of 16): u8 = q + 128 and the
// fp16-rounded scale, as QuantizeActivationQ8_0.
inline float QuantBlockQ8A(const float* x, uint8_t* out, float* s_out) {
  const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
  const float amax = HMax(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
  const float d = _cvtsh_ss(_cvtss_sh(amax / 127.f, _MM_FROUND_TO_NEAREST_INT));
  const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
  const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));
  const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
  const __m128i b0 = _mm512_cvtsepi32_epi8(q0), b1 = _mm512_cvtsepi32_epi8(q1);
  const __m128i off = _mm_set1_epi8(static_cast<char>(0x80));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_xor_si128(b0, off));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_xor_si128(b1, off));
  if (s_out != nullptr) {
    const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    *s_out =
        _cvtsh_ss(_cvtss_sh((amax / 127.f) * static_cast<float>(sum), _MM_FROUND_TO_NEAREST_INT));
  }
  return d;
}

void PackQ8A(const float* x, uint8_t* q, float* dvec, float* svec, int64_t k, int64_t kp) {
  float d[2], sums[2];
  for (int64_t i = 0; i < kp; i += 64) {
    for (int h = 0; h < 2; ++h) {
      const int64_t b = i + 32 * h;
      sums[h] = 0.0f;
      if (b < k) {
        d[h] = QuantBlockQ8A(x + b, q + b, svec != nullptr ? &sums[h] : nullptr);
      } else {
        std::memset(q + b, 0x80, 32);
        d[h] = 0.0f;
      }
    }
    if (svec != nullptr) {
      float* sv = svec + (i / 64) * 16;
      std::memset(sv, 0, 64);
      sv[0] = sums[0];
      sv[1] = sums[1];
    }
    const __m512 dv = _mm512_insertf32x8(_mm512_set1_ps(d[0]), _mm256_set1_ps(d[1]), 1);
    _mm512_storeu_ps(dvec + (i / 64) * 16, dv);
  }
}

// One Q8_K super-block, as QuantizeRowQ8K: s8 q, d, and d * bsum16.
void QuantBlockQ8K(const float* x, int8_t* q, float* d_out, float* c_out) {
  __m512 vmax = _mm512_setzero_ps();
  for (int i = 0; i < 256; i += 16)
    vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  const float amax = HMax(vmax);
  if (amax == 0.0f || !std::isfinite(amax)) {
    std::memset(q, 0, 256);
    *d_out = 0.0f;
    _mm512_storeu_ps(c_out, _mm512_setzero_ps());
    return;
  }
  // The signed value of the first element of largest magnitude.
  float max = amax;
  const __m512 va = _mm512_set1_ps(amax);
  for (int i = 0; i < 256; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 m = _mm512_cmp_ps_mask(_mm512_abs_ps(v), va, _CMP_EQ_OQ);
    if (m != 0) {
      max = x[i + __builtin_ctz(m)];
      break;
    }
  }
  const float iscale = -127.f / max;
  const float d = 1.0f / iscale;
  const __m512 vs = _mm512_set1_ps(iscale);
  const __m512i v127 = _mm512_set1_epi32(127);
  alignas(64) int32_t sums[16];
  for (int g = 0; g < 16; ++g) {
    __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 16 * g), vs));
    qi = _mm512_min_epi32(qi, v127);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * g), _mm512_cvtsepi32_epi8(qi));
    sums[g] = _mm512_reduce_add_epi32(qi);
  }
  *d_out = d;
  _mm512_storeu_ps(c_out,
                   _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(sums)), _mm512_set1_ps(d)));
}

}  // namespace

PackedActs PackActivations(ActLayout layout, const float* x, int64_t ldx, int64_t n_tokens,
                           int64_t k, ThreadPool& pool) {
  PackedActs a;
  a.layout = layout;
  a.n_tokens = n_tokens;
  a.k = k;
  switch (layout) {
    case ActLayout::kF32: {  // f16-rounded copy (F32 weights use x directly)
      const int64_t kp = RoundUp(k, 16);
      a.q_stride = kp * 4;
      auto* buf = static_cast<uint8_t*>(CallerScratch(0, n_tokens * a.q_stride));
      ForTokens(pool, n_tokens, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          PackF16Rounded(x + t * ldx, reinterpret_cast<float*>(buf + t * a.q_stride), k, kp);
        }
      });
      a.q = buf;
      break;
    }
    case ActLayout::kBF16: {
      const int64_t kp = RoundUp(k, 32);
      a.q_stride = kp * 2;
      auto* buf = static_cast<uint8_t*>(CallerScratch(0, n_tokens * a.q_stride));
      ForTokens(pool, n_tokens, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          PackBF16(x + t * ldx, reinterpret_cast<uint16_t*>(buf + t * a.q_stride), k, kp);
        }
      });
      a.q = buf;
      break;
    }
    case ActLayout::kQ8A:
    case ActLayout::kQ8A1: {
      const int64_t kp = RoundUp(k, 64);
      a.q_stride = kp;
      a.d_stride = kp / 64 * 16;
      auto* buf = static_cast<uint8_t*>(CallerScratch(0, n_tokens * a.q_stride));
      auto* dbuf = static_cast<float*>(CallerScratch(1, n_tokens * a.d_stride * 4));
      float* sbuf = nullptr;
      if (layout == ActLayout::kQ8A1) {
        a.c_stride = a.d_stride;
        sbuf = static_cast<float*>(CallerScratch(2, n_tokens * a.c_stride * 4));
      }
      ForTokens(pool, n_tokens, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          PackQ8A(x + t * ldx, buf + t * a.q_stride, dbuf + t * a.d_stride,
                  sbuf != nullptr ? sbuf + t * a.c_stride : nullptr, k, kp);
        }
      });
      a.q = buf;
      a.d = dbuf;
      a.c = sbuf;
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
        for (int64_t t = t0; t < t1; ++t) {
          for (int64_t sb = 0; sb < nsb; ++sb) {
            QuantBlockQ8K(x + t * ldx + sb * 256,
                          reinterpret_cast<int8_t*>(buf + t * a.q_stride + sb * 256),
                          dbuf + t * a.d_stride + sb, cbuf + t * a.c_stride + sb * 16);
          }
        }
      });
      a.q = buf;
      a.d = dbuf;
      a.c = cbuf;
      break;
    }
    case ActLayout::kQ8S:  // not used at this level
      break;
  }
  return a;
}

}  // namespace avx512

namespace {

// The activation layout of a weight type at this level; false for the types
// this level has no kernel for.
bool LayoutOf(GgmlType type, ActLayout* layout) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
      *layout = ActLayout::kF32;
      return true;
    case GgmlType::kBF16:
      *layout = ActLayout::kBF16;
      return true;
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
      *layout = ActLayout::kQ8A;
      return true;
    case GgmlType::kQ5_1:
      *layout = ActLayout::kQ8A1;
      return true;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      *layout = ActLayout::kQ8K;
      return true;
    default:
      return false;
  }
}

// x as the kernels of `type` read it (type has a layout).
PackedActs PackFor(GgmlType type, const float* x, int64_t ldx, int64_t n_tokens, int64_t k,
                   ThreadPool& pool) {
  ActLayout layout = ActLayout::kF32;
  LayoutOf(type, &layout);
  if (type == GgmlType::kF32) {  // F32 weights read x in place
    PackedActs a;
    a.layout = ActLayout::kF32;
    a.n_tokens = n_tokens;
    a.k = k;
    a.q = reinterpret_cast<const uint8_t*>(x);
    a.q_stride = ldx * 4;
    return a;
  }
  return avx512::PackActivations(layout, x, ldx, n_tokens, k, pool);
}

// GEMV up to this many tokens (weights streamed once per row, each row's
// blocks multiplied with up to 8 tokens in registers): for the small batches of
// decoding several requests it beats the GEMM tiles (TinyLlama Q8_0, 2 threads:
// 4 tokens 45 -> 72 tok/s, 8 tokens 70 -> 80 tok/s).
constexpr int64_t kGemvMaxTokens = 8;
// Rows per work item: GEMM one 32-row macro tile, GEMV 64 rows.
constexpr int64_t kGemmChunkRows = 32;
constexpr int64_t kGemvChunkRows = 64;

}  // namespace

void MatMulAvx512(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                  int64_t ldy, ThreadPool& pool) {
  ActLayout layout;
  if (!LayoutOf(w.type, &layout)) {
    MatMulScalar(w, x, ldx, n_tokens, y, ldy, pool);
    return;
  }
  const PackedActs a = PackFor(w.type, x, ldx, n_tokens, w.cols, pool);
  const bool gemv = n_tokens <= kGemvMaxTokens;
  ParallelChunks(pool, w.rows, gemv ? kGemvChunkRows : kGemmChunkRows, [&](int64_t r0, int64_t r1) {
    if (gemv) {
      avx512::GemvRows(w, a, r0, r1, y, ldy);
    } else {
      avx512::GemmRows(w, a, r0, r1, y, ldy);
    }
  });
}

bool MatMulSharedAvx512(std::span<const MatMulOutput> outs, const float* x, int64_t ldx,
                        int64_t n_tokens, ThreadPool& pool) {
  constexpr size_t kMaxOutputs = 8;
  if (n_tokens > kGemvMaxTokens || outs.size() < 2 || outs.size() > kMaxOutputs) return false;
  const WeightMatrix& w0 = *outs[0].w;
  ActLayout layout0;
  if (!LayoutOf(w0.type, &layout0)) return false;
  // Chunks of output i are [first[i], first[i + 1]) of one combined range.
  int64_t first[kMaxOutputs + 1] = {0};
  for (size_t i = 0; i < outs.size(); ++i) {
    const WeightMatrix& w = *outs[i].w;
    ActLayout layout;
    if (!LayoutOf(w.type, &layout) || layout != layout0 || w.cols != w0.cols) return false;
    // F32 reads x in place, F16 an f16-rounded copy: same layout, different values.
    if ((w.type == GgmlType::kF32) != (w0.type == GgmlType::kF32)) return false;
    first[i + 1] = first[i] + (w.rows + kGemvChunkRows - 1) / kGemvChunkRows;
  }
  const PackedActs a = PackFor(w0.type, x, ldx, n_tokens, w0.cols, pool);
  const size_t n_outs = outs.size();
  ParallelChunks(pool, first[n_outs], 1, [&](int64_t c0, int64_t c1) {
    size_t i = 0;
    for (int64_t c = c0; c < c1; ++c) {
      while (c >= first[i + 1]) ++i;
      const MatMulOutput& o = outs[i];
      const int64_t r0 = (c - first[i]) * kGemvChunkRows;
      const int64_t r1 = r0 + kGemvChunkRows < o.w->rows ? r0 + kGemvChunkRows : o.w->rows;
      avx512::GemvRows(*o.w, a, r0, r1, o.y, o.ldy);
    }
  });
  return true;
}

}  // namespace cellar::matmul_internal
