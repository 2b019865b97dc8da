#include "kernels/activations.h"

#include <cmath>

namespace cellar {
namespace {

using SiluFn = void (*)(const float*, float*, int64_t);
using SwiGluFn = void (*)(const float*, const float*, float*, int64_t);

SiluFn PickSilu(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAvx512:
      return internal::SiluAvx512;
    case IsaLevel::kAvx2:
      return internal::SiluAvx2;
    case IsaLevel::kScalar:
      break;
  }
  return SiluReference;
}

SwiGluFn PickSwiGlu(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAvx512:
      return internal::SwiGluAvx512;
    case IsaLevel::kAvx2:
      return internal::SwiGluAvx2;
    case IsaLevel::kScalar:
      break;
  }
  return SwiGluReference;
}

}  // namespace

void SiluReference(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void SwiGluReference(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void Silu(const float* x, float* y, int64_t n) {
  static const SiluFn fn = PickSilu(ActiveIsa());
  fn(x, y, n);
}

void SiluWithIsa(IsaLevel isa, const float* x, float* y, int64_t n) { PickSilu(isa)(x, y, n); }

void SwiGlu(const float* gate, const float* up, float* y, int64_t n) {
  static const SwiGluFn fn = PickSwiGlu(ActiveIsa());
  fn(gate, up, y, n);
}

void SwiGluWithIsa(IsaLevel isa, const float* gate, const float* up, float* y, int64_t n) {
  PickSwiGlu(isa)(gate, up, y, n);
}

}  // namespace cellar
