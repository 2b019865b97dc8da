// MatMul: y = W x for the weight matrices of a model, in every weight type the
// forward pass supports (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K,
// Q6_K; Q5_0/Q5_1 appear where llama-quantize falls back from K-quants, e.g. in
// Qwen2.5-0.5B's 896-wide rows).
//
// Numerics follow llama.cpp's CPU backend: activations are first converted to
// the weight type's "dot type" (F16 weights: f16-rounded activations; BF16:
// bf16-rounded; Q8_0/Q4_0/Q5_0: Q8_0 blocks; Q5_1: Q8_1; K-quants: Q8_K) and the products
// use integer dot products per block. The result therefore differs from the
// exact product of the dequantized weights with the f32 activations
// (MatMulReference) by the activation rounding error, and the SIMD levels
// differ from the scalar level only by float summation order.
//
// The implementation is chosen once from the CPU (kernels/cpu_features.h);
// CELLAR_ISA=scalar|avx2|avx512 lowers it.
//
// Thread-safety: MatMul may be called by one thread at a time per ThreadPool
// (the pool's owner); it runs its work on that pool. Calls from different
// threads with different pools may run concurrently.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "base/thread_pool.h"
#include "gguf/ggml_type.h"
#include "kernels/cpu_features.h"

namespace cellar {

// A row-major weight matrix as stored in GGUF: `rows` rows (n_out) of `cols`
// elements (n_in), each row GgmlRowBytes(type, cols) bytes, rows back to back.
// `data` is not owned (e.g. a zero-copy view into the mmapped file).
struct WeightMatrix {
  GgmlType type = GgmlType::kF32;
  int64_t rows = 0;  // n_out
  int64_t cols = 0;  // n_in
  const void* data = nullptr;
};

// True for the types MatMul handles.
bool MatMulSupports(GgmlType type);

// Checks that the type is supported, rows >= 0, cols > 0 is a multiple of the
// type's block size, data is non-null (when rows > 0) and the byte size does
// not overflow.
Status ValidateWeight(const WeightMatrix& w);

// y[t * ldy + r] = sum_c W[r][c] * x[t * ldx + c] for t < n_tokens, r < w.rows.
// REQUIRES: ValidateWeight(w).ok(); ldx >= w.cols; ldy >= w.rows; x and y do
// not overlap. n_tokens == 0 does nothing.
void MatMul(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool);

// One output of MatMulShared: y[t * ldy + r] = sum_c w[r][c] * x[t * ldx + c].
struct MatMulOutput {
  const WeightMatrix* w = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;
};

// MatMul for several weights that share one input x (e.g. the Q, K and V
// projections, or the FFN gate and up): every y equals, bit for bit, what
// MatMul(*out.w, x, ldx, n_tokens, out.y, out.ldy, pool) gives. For a few
// tokens (decode) the activations are packed once and the rows of all the
// weights are spread over the pool in one job, one dispatch and one wait
// instead of one per weight; otherwise it is one MatMul per output.
// REQUIRES: every w has the same cols; MatMul's requirements for each output;
// no y overlaps x or another y.
void MatMulShared(std::span<const MatMulOutput> outs, const float* x, int64_t ldx, int64_t n_tokens,
                  ThreadPool& pool);

// The oracle: dequantizes each row with the reference dequantizer and takes
// its dot product with the f32 activations (accumulated in double), on the
// calling thread only (`pool` is unused). Slow; for tests.
void MatMulReference(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                     int64_t ldy, ThreadPool& pool);

// MatMul at an explicit kernel level, for tests and benchmarks.
// REQUIRES: IsaSupported(isa), plus MatMul's requirements.
void MatMulWithIsa(IsaLevel isa, const WeightMatrix& w, const float* x, int64_t ldx,
                   int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool);

// MatMulShared at an explicit kernel level, for tests and benchmarks.
void MatMulSharedWithIsa(IsaLevel isa, std::span<const MatMulOutput> outs, const float* x,
                         int64_t ldx, int64_t n_tokens, ThreadPool& pool);

}  // namespace cellar
