// The AVX2 MatMul level: portable activation packing, then the AVX2 kernels
// of gemm_avx2.cc on contiguous row ranges, one per thread.
#include "kernels/gemm_packed.h"
#include "kernels/matmul_kernels.h"

namespace cellar::matmul_internal {

void MatMulAvx2(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                int64_t ldy, ThreadPool& pool) {
  PackedActs a;
  switch (w.type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
      a = PackActivationsPortable(ActLayout::kF32, w.type, x, ldx, n_tokens, w.cols, pool);
      break;
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
      a = PackActivationsPortable(ActLayout::kQ8S, w.type, x, ldx, n_tokens, w.cols, pool);
      break;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
    case GgmlType::kQ6_K:
      a = PackActivationsPortable(ActLayout::kQ8K, w.type, x, ldx, n_tokens, w.cols, pool);
      break;
    default:
      MatMulScalar(w, x, ldx, n_tokens, y, ldy, pool);
      return;
  }
  ParallelChunks(pool, w.rows, 32,
                 [&](int64_t r0, int64_t r1) { avx2::MatMulRows(w, a, r0, r1, y, ldy); });
}

}  // namespace cellar::matmul_internal
