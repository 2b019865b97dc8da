// Internal to kernels/: activations prepared once per MatMul call for the SIMD
// GEMM/GEMV kernels, and the kernel entry points of each SIMD level.
//
// Activation layouts (one row per token, rows `stride` bytes apart, each row
// padded with zeros to a whole k-step):
//   kF32   floats (F32 weights: the caller's x; F16 weights: f16-rounded x).
//   kBF16  bf16 values (BF16 weights).
//   kQ8A   for Q8_0/Q4_0 weights: u8 = q + 128 where q is the Q8_0 activation
//          quant (QuantizeActivationQ8_0); per 64 elements a 16-float vector
//          [d0 x8, d1 x8] of the two blocks' (fp16-rounded) scales.
//   kQ8K   for K-quant weights: s8 q of the Q8_K activation quant; per 256
//          elements the f32 scale d and the 16 floats d * bsum16.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/matmul.h"

namespace cellar::matmul_internal {

enum class ActLayout { kF32, kBF16, kQ8A, kQ8K };

struct PackedActs {
  ActLayout layout = ActLayout::kF32;
  int64_t n_tokens = 0;
  int64_t k = 0;               // logical elements per token (= weight cols)
  const uint8_t* q = nullptr;  // token t's values at q + t * q_stride
  int64_t q_stride = 0;        // bytes
  const float* d = nullptr;    // kQ8A: 16 floats per 64 elements; kQ8K: 1 float per 256
  int64_t d_stride = 0;        // floats per token
  const float* c = nullptr;    // kQ8K: 16 floats (d * bsum16) per 256 elements
  int64_t c_stride = 0;        // floats per token
};

// AVX-512 level (gemm_avx512.cc, gemv_avx512.cc, matmul_avx512.cc).
namespace avx512 {
// Packs x (n_tokens rows, ldx apart) into `layout`, parallel over tokens.
PackedActs PackActivations(ActLayout layout, const float* x, int64_t ldx, int64_t n_tokens,
                           int64_t k, ThreadPool& pool);
// y rows [r_begin, r_end) for all tokens; called on one thread.
void GemmRows(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end, float* y,
              int64_t ldy);
// Same contract; for few tokens (memory-bound, no repacking of weight rows).
void GemvRows(const WeightMatrix& w, const PackedActs& a, int64_t r_begin, int64_t r_end, float* y,
              int64_t ldy);
}  // namespace avx512

}  // namespace cellar::matmul_internal
