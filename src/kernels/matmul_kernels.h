// Internal to kernels/: the per-level MatMul implementations that matmul.cc
// dispatches to, and the helpers they share. Not for use outside kernels/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
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

// MatMulShared at the AVX-512 level when it can do better than one MatMul per
// output (few tokens, weights whose activations pack alike): computes every
// output and returns true. Otherwise does nothing and returns false.
bool MatMulSharedAvx512(std::span<const MatMulOutput> outs, const float* x, int64_t ldx,
                        int64_t n_tokens, ThreadPool& pool);

// Bytes of one weight row.
inline int64_t RowBytes(const WeightMatrix& w) { return *GgmlRowBytes(w.type, w.cols); }

// A 64-byte aligned scratch buffer owned by the calling thread, reused across
// calls (the activations quantized once per MatMul call live here). Grows, never
// shrinks. `slot` selects one of a few independent buffers.
void* CallerScratch(int slot, size_t bytes);

// Runs fn(begin, end) over [0, n) in chunks of `chunk` items handed out
// dynamically (an atomic counter) with ThreadPool::RunOptional, so a thread
// that is descheduled on a busy machine does not hold the others up. Each item is computed by
// exactly one call; results must not depend on the chunking.
void ParallelChunks(ThreadPool& pool, int64_t n, int64_t chunk,
                    const std::function<void(int64_t begin, int64_t end)>& fn);

// fn(begin, end) over the tokens [0, n): on the calling thread for a few
// tokens (decode: no extra pool dispatch), else ParallelFor on the pool.
inline void ForTokens(ThreadPool& pool, int64_t n,
                      const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (n <= 8 || pool.size() == 1) {
    if (n > 0) fn(0, n);
  } else {
    pool.ParallelFor(n, fn);
  }
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
