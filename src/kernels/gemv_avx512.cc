// AVX-512 GEMV kernels: few tokens (decode), so each weight row is streamed
// once from memory and unpacked in registers, never stored. Float types use
// the GEMM micro-kernels, which already read the weights in place.
// GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_*) as maybe-uninitialized.
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include <array>
#include <utility>

#include "kernels/gemm_avx512_inl.h"
#include "kernels/gemm_packed.h"
#include "kernels/matmul_kernels.h"

namespace cellar::matmul_internal::avx512 {
namespace {

// `kType` is a template argument so that the block loader's type dispatch
// folds away in the inner loop.
template <GgmlType kType, int T>
void GemvQ8A(const uint8_t* wdata, int64_t row_bytes, int64_t n_blocks, const PackedActs& a,
             int64_t r0, int64_t r1, float* y, int64_t ldy) {
  const uint8_t* u[T];
  const float* dx[T];
  CELLAR_UNROLL
  for (int t = 0; t < T; ++t) {
    u[t] = a.q + t * a.q_stride;
    dx[t] = a.d + t * a.d_stride;
  }
  const int64_t n_pairs = n_blocks / 2;
  const int64_t block_bytes = TraitsOf(kType).type_size;
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = wdata + r * row_bytes;
    __m512 acc[T];
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    auto step = [&](int64_t s, __m512i v, float d0, float d1, float m0, float m1) CELLAR_INLINE {
      const __m512i init = Q8AInit(v);
      const __m512 dw = PairScales(d0, d1);
      CELLAR_UNROLL
      for (int t = 0; t < T; ++t) {
        const __m512i i = _mm512_dpbusd_epi32(init, _mm512_loadu_si512(u[t] + 64 * s), v);
        const __m512 sc = _mm512_mul_ps(dw, _mm512_loadu_ps(dx[t] + 16 * s));
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, acc[t]);
        if constexpr (kType == GgmlType::kQ5_1) {  // m_w * s_x
          acc[t] = _mm512_fmadd_ps(PairMins(m0, m1), _mm512_loadu_ps(a.c + t * a.c_stride + 16 * s),
                                   acc[t]);
        }
      }
    };
    for (int64_t s = 0; s < n_pairs; ++s) {
      _mm_prefetch(reinterpret_cast<const char*>(row + 2 * s * block_bytes) + 512, _MM_HINT_T0);
      float d0, d1, m0 = 0.0f, m1 = 0.0f;
      const __m512i v = LoadQ8APair(kType, row, 2 * s, true, &d0, &d1, &m0, &m1);
      step(s, v, d0, d1, m0, m1);
    }
    if (n_blocks & 1) {
      float d0, d1, m0 = 0.0f, m1 = 0.0f;
      const __m512i v = LoadQ8APair(kType, row, n_blocks - 1, false, &d0, &d1, &m0, &m1);
      step(n_pairs, v, d0, d1, m0, m1);
    }
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[t]);
  }
}

template <int T, typename Block, void (*Unpack)(const Block&, KBlock*)>
void GemvK(const uint8_t* wdata, int64_t row_bytes, int64_t n_sb, const PackedActs& a, int64_t r0,
           int64_t r1, float* y, int64_t ldy) {
  for (int64_t r = r0; r < r1; ++r) {
    const auto* blocks = reinterpret_cast<const Block*>(wdata + r * row_bytes);
    __m512 acc[T];
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < n_sb; ++b) {
      _mm_prefetch(reinterpret_cast<const char*>(blocks + b) + 1024, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(blocks + b) + 1088, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(blocks + b) + 1152, _MM_HINT_T0);
      KBlock k;
      Unpack(blocks[b], &k);
      CELLAR_UNROLL
      for (int t = 0; t < T; ++t) {
        const int8_t* x = reinterpret_cast<const int8_t*>(a.q + t * a.q_stride) + 256 * b;
        const __m512i i = KDot(k, x);
        const __m512 sc = _mm512_set1_ps(k.d * a.d[t * a.d_stride + b]);
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, acc[t]);
        acc[t] = _mm512_fmadd_ps(k.corr, _mm512_loadu_ps(a.c + t * a.c_stride + 16 * b), acc[t]);
      }
    }
    CELLAR_UNROLL
    for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[t]);
  }
}

template <int T>
void GemvT(const WeightMatrix& w, const PackedActs& a, int64_t r0, int64_t r1, float* y,
           int64_t ldy) {
  const int64_t row_bytes = RowBytes(w);
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  switch (w.type) {
    case GgmlType::kQ8_0:
      GemvQ8A<GgmlType::kQ8_0, T>(wdata, row_bytes, w.cols / 32, a, r0, r1, y, ldy);
      return;
    case GgmlType::kQ4_0:
      GemvQ8A<GgmlType::kQ4_0, T>(wdata, row_bytes, w.cols / 32, a, r0, r1, y, ldy);
      return;
    case GgmlType::kQ5_0:
      GemvQ8A<GgmlType::kQ5_0, T>(wdata, row_bytes, w.cols / 32, a, r0, r1, y, ldy);
      return;
    case GgmlType::kQ5_1:
      GemvQ8A<GgmlType::kQ5_1, T>(wdata, row_bytes, w.cols / 32, a, r0, r1, y, ldy);
      return;
    case GgmlType::kQ4_K:
      GemvK<T, BlockQ4K, UnpackQ4K>(wdata, row_bytes, w.cols / 256, a, r0, r1, y, ldy);
      return;
    case GgmlType::kQ5_K:
      GemvK<T, BlockQ5K, UnpackQ5K>(wdata, row_bytes, w.cols / 256, a, r0, r1, y, ldy);
      return;
    case GgmlType::kQ6_K:
      GemvK<T, BlockQ6K, UnpackQ6K>(wdata, row_bytes, w.cols / 256, a, r0, r1, y, ldy);
      return;
    default:
      return;
  }
}

// GemvT<1> .. GemvT<kGemvGroup>, indexed by token count - 1.
constexpr int64_t kGemvGroup = 8;
using GemvFn = void (*)(const WeightMatrix&, const PackedActs&, int64_t, int64_t, float*, int64_t);
template <size_t... I>
constexpr std::array<GemvFn, sizeof...(I)> MakeGemvTable(std::index_sequence<I...>) {
  return {&GemvT<static_cast<int>(I) + 1>...};
}
constexpr auto kGemvByTokens = MakeGemvTable(std::make_index_sequence<kGemvGroup>{});

}  // namespace

void GemvRows(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end, float* y,
              int64_t ldy) {
  if (!TraitsOf(w.type).quantized) {
    GemvRowsFloat(w, a, r_begin, r_end, y, ldy);
    return;
  }
  // Up to kGemvGroup tokens share one pass over the weights; more go in
  // groups of that many, then the rest.
  if (a.n_tokens > kGemvGroup) {
    for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kGemvGroup) {
      PackedActs sub = a;
      sub.q += t0 * a.q_stride;
      if (sub.d != nullptr) sub.d += t0 * a.d_stride;
      if (sub.c != nullptr) sub.c += t0 * a.c_stride;
      sub.n_tokens = a.n_tokens - t0 < kGemvGroup ? a.n_tokens - t0 : kGemvGroup;
      GemvRows(w, sub, r_begin, r_end, y + t0 * ldy, ldy);
    }
    return;
  }
  if (a.n_tokens <= 0) return;
  kGemvByTokens[a.n_tokens - 1](w, a, r_begin, r_end, y, ldy);
}

}  // namespace cellar::matmul_internal::avx512
