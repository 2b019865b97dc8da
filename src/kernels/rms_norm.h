// RMSNorm: y = x / sqrt(mean(x^2) + eps) * w, over one row of n floats.
//
// RmsNorm() uses the best kernel level of the CPU (kernels/cpu_features.h,
// chosen once); RmsNormReference() is the scalar oracle (sum of squares in
// double, as ggml does); RmsNormWithIsa() runs one level, for tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "kernels/cpu_features.h"

namespace cellar {

// `w` may be null (no scale). `y` may alias `x`. REQUIRES: n > 0.
void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps);
void RmsNormReference(const float* x, const float* w, float* y, int64_t n, float eps);
// REQUIRES: IsaSupported(isa).
void RmsNormWithIsa(IsaLevel isa, const float* x, const float* w, float* y, int64_t n, float eps);

namespace internal {
void RmsNormAvx2(const float* x, const float* w, float* y, int64_t n, float eps);
void RmsNormAvx512(const float* x, const float* w, float* y, int64_t n, float eps);
}  // namespace internal

}  // namespace cellar
