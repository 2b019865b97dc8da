// The avx2 MatMul level. (SIMD kernels land here; until then it runs the scalar level.)
#include "kernels/matmul_kernels.h"

namespace cellar::matmul_internal {

void MatMulAvx2(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                int64_t ldy, ThreadPool& pool) {
  MatMulScalar(w, x, ldx, n_tokens, y, ldy, pool);
}

}  // namespace cellar::matmul_internal
