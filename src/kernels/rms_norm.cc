#include "kernels/rms_norm.h"

#include <cmath>

namespace cellar {
namespace {

using RmsNormFn = void (*)(const float*, const float*, float*, int64_t, float);

RmsNormFn Pick(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAvx512:
      return internal::RmsNormAvx512;
    case IsaLevel::kAvx2:
      return internal::RmsNormAvx2;
    case IsaLevel::kScalar:
      break;
  }
  return RmsNormReference;
}

}  // namespace

void RmsNormReference(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * (w != nullptr ? w[i] : 1.0f);
}

void RmsNormWithIsa(IsaLevel isa, const float* x, const float* w, float* y, int64_t n, float eps) {
  Pick(isa)(x, w, y, n, eps);
}

void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  static const RmsNormFn fn = Pick(ActiveIsa());
  fn(x, w, y, n, eps);
}

}  // namespace cellar
