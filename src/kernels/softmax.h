// Softmax pieces in f32: the exp-and-sum pass used by attention and sampling,
// and a whole in-place softmax.
//
// Softmax()/ExpShiftSum() use the CPU's best kernel level (chosen once); the
// *Reference() functions are the scalar oracles (std::exp, sums in double);
// *WithIsa() run one level, for tests. Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "kernels/cpu_features.h"

namespace cellar {

// y[i] = exp(x[i] - shift) for i < n; returns the sum of the y[i]. y may alias x.
float ExpShiftSum(const float* x, float shift, float* y, int64_t n);
float ExpShiftSumReference(const float* x, float shift, float* y, int64_t n);
float ExpShiftSumWithIsa(IsaLevel isa, const float* x, float shift, float* y, int64_t n);

// Largest of x[0..n). REQUIRES: n > 0.
float MaxOf(const float* x, int64_t n);

// In place: x[i] = exp(x[i] - max) / sum. REQUIRES: n > 0.
void Softmax(float* x, int64_t n);
void SoftmaxReference(float* x, int64_t n);
void SoftmaxWithIsa(IsaLevel isa, float* x, int64_t n);

namespace internal {
float ExpShiftSumAvx2(const float* x, float shift, float* y, int64_t n);
float ExpShiftSumAvx512(const float* x, float shift, float* y, int64_t n);
float MaxOfAvx2(const float* x, int64_t n);
float MaxOfAvx512(const float* x, int64_t n);
void ScaleAvx2(float* x, float s, int64_t n);
void ScaleAvx512(float* x, float s, int64_t n);
}  // namespace internal

}  // namespace cellar
