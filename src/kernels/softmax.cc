#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>

namespace cellar {
namespace {

using ExpFn = float (*)(const float*, float, float*, int64_t);
using MaxFn = float (*)(const float*, int64_t);
using ScaleFn = void (*)(float*, float, int64_t);

float MaxOfScalar(const float* x, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

void ScaleScalar(float* x, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

struct Kernels {
  ExpFn exp_sum;
  MaxFn max;
  ScaleFn scale;
};

Kernels Pick(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAvx512:
      return {internal::ExpShiftSumAvx512, internal::MaxOfAvx512, internal::ScaleAvx512};
    case IsaLevel::kAvx2:
      return {internal::ExpShiftSumAvx2, internal::MaxOfAvx2, internal::ScaleAvx2};
    case IsaLevel::kScalar:
      break;
  }
  return {ExpShiftSumReference, MaxOfScalar, ScaleScalar};
}

const Kernels& Active() {
  static const Kernels k = Pick(ActiveIsa());
  return k;
}

void SoftmaxWith(const Kernels& k, float* x, int64_t n) {
  const float max = k.max(x, n);
  const float sum = k.exp_sum(x, max, x, n);
  k.scale(x, 1.0f / sum, n);
}

}  // namespace

float ExpShiftSumReference(const float* x, float shift, float* y, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += static_cast<double>(y[i]);
  }
  return static_cast<float>(sum);
}

float ExpShiftSum(const float* x, float shift, float* y, int64_t n) {
  return Active().exp_sum(x, shift, y, n);
}

float ExpShiftSumWithIsa(IsaLevel isa, const float* x, float shift, float* y, int64_t n) {
  return Pick(isa).exp_sum(x, shift, y, n);
}

float MaxOf(const float* x, int64_t n) { return Active().max(x, n); }

void Softmax(float* x, int64_t n) { SoftmaxWith(Active(), x, n); }

void SoftmaxReference(float* x, int64_t n) { SoftmaxWith(Pick(IsaLevel::kScalar), x, n); }

void SoftmaxWithIsa(IsaLevel isa, float* x, int64_t n) { SoftmaxWith(Pick(isa), x, n); }

}  // namespace cellar
