// Internal to kernels/: the per-level MatMul implementations that matmul.cc
// dispatches to, and the helpers they share. Not for use outside kernels/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/quant_blocks.h"

namespace cellar::matmul_internal {

// Each level handles every MatMulSupports() type (falling back to a lower level
// for types it has no kernel for). Same contract as MatMul.
void MatMulScalar(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                  int64_t ldy, ThreadPool& pool);
void MatMulAvx2(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                int64_t ldy, ThreadPool& pool);
void MatMulAvx512(const WeightMatrix& w, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                  int64_t ldy, ThreadPool& pool);

// Bytes of one weight row.
inline int64_t RowBytes(const WeightMatrix& w) { return *GgmlRowBytes(w.type, w.cols); }

// A 64-byte aligned scratch buffer owned by the calling thread, reused across
// calls (the activations quantized once per MatMul call live here). Grows, never
// shrinks. `slot` selects one of a few independent buffers.
void* CallerScratch(int slot, size_t bytes);

// Splits [0, n) into `nth` contiguous ranges whose boundaries are multiples of
// `align` (except the end) and returns range `ith` as [*begin, *end).
inline void SplitRange(int64_t n, int64_t align, int ith, int nth, int64_t* begin, int64_t* end) {
  const int64_t units = (n + align - 1) / align;
  const int64_t per = units / nth, extra = units % nth;
  const int64_t u0 = ith * per + (ith < extra ? ith : extra);
  const int64_t u1 = u0 + per + (ith < extra ? 1 : 0);
  *begin = u0 * align < n ? u0 * align : n;
  *end = u1 * align < n ? u1 * align : n;
}

}  // namespace cellar::matmul_internal

namespace cellar::matmul_internal {

// The activation quantizer for Q8_0/Q4_0 weights, as llama.cpp's CPU backend
// quantizes activations: d = fp16(amax / 127), q = round-half-even(x * 127 /
// amax). (The weight quantizer QuantizeRowQ8_0 rounds ties away from zero.)
// Every level must produce exactly these values. REQUIRES: n % 32 == 0.
void QuantizeActivationQ8_0(const float* x, BlockQ8_0* y, int64_t n);

// The activation quantizer for Q5_1 weights (llama.cpp's Q8_1): as
// QuantizeActivationQ8_0 plus s = fp16((amax / 127) * sum(q)).
void QuantizeActivationQ8_1(const float* x, BlockQ8_1* y, int64_t n);

}  // namespace cellar::matmul_internal
