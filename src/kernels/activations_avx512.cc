// GCC 12 reports its own _mm512_undefined_ps() inside max/min/scalef/roundscale
// as (maybe-)uninitialized (a known false positive); silence it for this file.
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <immintrin.h>

#include "kernels/activations.h"
#include "kernels/softmax_exp_avx512.h"

namespace cellar::internal {
namespace {

inline __m512 SiluVec(__m512 x) {
  const __m512 e = ExpAvx512(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

}  // namespace

void SiluAvx512(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask16(n - i);
    _mm512_mask_storeu_ps(y + i, m, SiluVec(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

void SwiGluAvx512(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask16(n - i);
    const __m512 g = SiluVec(_mm512_maskz_loadu_ps(m, gate + i));
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(g, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace cellar::internal
