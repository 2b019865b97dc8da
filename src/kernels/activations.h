// Activation functions of the feed-forward block, over rows of floats:
// SiLU(x) = x / (1 + exp(-x)) and SwiGLU(gate, up) = SiLU(gate) * up.
//
// The plain names use the CPU's best kernel level (chosen once); *Reference()
// are the scalar oracles (std::exp); *WithIsa() run one level, for tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "kernels/cpu_features.h"

namespace cellar {

// y[i] = silu(x[i]). y may alias x.
void Silu(const float* x, float* y, int64_t n);
void SiluReference(const float* x, float* y, int64_t n);
void SiluWithIsa(IsaLevel isa, const float* x, float* y, int64_t n);

// y[i] = silu(gate[i]) * up[i]. y may alias gate or up.
void SwiGlu(const float* gate, const float* up, float* y, int64_t n);
void SwiGluReference(const float* gate, const float* up, float* y, int64_t n);
void SwiGluWithIsa(IsaLevel isa, const float* gate, const float* up, float* y, int64_t n);

namespace internal {
void SiluAvx2(const float* x, float* y, int64_t n);
void SiluAvx512(const float* x, float* y, int64_t n);
void SwiGluAvx2(const float* gate, const float* up, float* y, int64_t n);
void SwiGluAvx512(const float* gate, const float* up, float* y, int64_t n);
}  // namespace internal

}  // namespace cellar
