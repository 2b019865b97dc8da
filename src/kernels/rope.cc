#include "kernels/rope.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cellar {
namespace {

// YaRN correction dimension: the dimension whose wavelength fits `n_rot_turns`
// turns into the original context.
float CorrDim(int n_dims, int n_ctx_orig, float n_rot_turns, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) / (n_rot_turns * 2.0f * 3.14159265358979f)) /
         (2.0f * std::log(base));
}

void CorrDims(const RopeParams& p, float dims[2]) {
  const float start = std::floor(CorrDim(p.n_rot, p.n_ctx_orig, p.beta_fast, p.freq_base));
  const float end = std::ceil(CorrDim(p.n_rot, p.n_ctx_orig, p.beta_slow, p.freq_base));
  dims[0] = std::max(0.0f, start);
  dims[1] = std::min(static_cast<float>(p.n_rot - 1), end);
}

float Ramp(float low, float high, int i0) {
  const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void RopeCosSin(const RopeParams& p, int32_t pos, float* cos_sin) {
  const float theta_scale = std::pow(p.freq_base, -2.0f / static_cast<float>(p.n_rot));
  float corr[2] = {0.0f, 0.0f};
  if (p.ext_factor != 0.0f) CorrDims(p, corr);
  float theta = static_cast<float>(pos);
  for (int i0 = 0; i0 < p.n_rot; i0 += 2) {
    const float ff = p.freq_factors != nullptr ? p.freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    float t = p.freq_scale * theta_extrap;
    float mscale = p.attn_factor;
    if (p.ext_factor != 0.0f) {
      const float mix = Ramp(corr[0], corr[1], i0) * p.ext_factor;
      t = t * (1.0f - mix) + theta_extrap * mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
    }
    cos_sin[i0] = std::cos(t) * mscale;
    cos_sin[i0 + 1] = std::sin(t) * mscale;
    theta *= theta_scale;
  }
}

void RopeApply(const RopeParams& p, const float* cos_sin, float* x, int32_t n_heads) {
  const int half = p.n_rot / 2;
  for (int32_t h = 0; h < n_heads; ++h) {
    float* head = x + static_cast<int64_t>(h) * p.head_dim;
    if (p.style == RopeStyle::kNormal) {
      for (int i = 0; i < half; ++i) {
        const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
        const float x0 = head[2 * i], x1 = head[2 * i + 1];
        head[2 * i] = x0 * c - x1 * s;
        head[2 * i + 1] = x0 * s + x1 * c;
      }
    } else {
      for (int i = 0; i < half; ++i) {
        const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
        const float x0 = head[i], x1 = head[i + half];
        head[i] = x0 * c - x1 * s;
        head[i + half] = x0 * s + x1 * c;
      }
    }
  }
}

void RopeRotate(const RopeParams& p, int32_t pos, float* x, int32_t n_heads) {
  float stack[1024];
  std::vector<float> heap;
  float* cos_sin = stack;
  if (p.n_rot > 1024) {
    heap.resize(static_cast<size_t>(p.n_rot));
    cos_sin = heap.data();
  }
  RopeCosSin(p, pos, cos_sin);
  RopeApply(p, cos_sin, x, n_heads);
}

void RopeRotateReference(const RopeParams& p, int32_t pos, float* x, int32_t n_heads) {
  const int half = p.n_rot / 2;
  float corr[2] = {0.0f, 0.0f};
  if (p.ext_factor != 0.0f) CorrDims(p, corr);
  for (int32_t h = 0; h < n_heads; ++h) {
    float* head = x + static_cast<int64_t>(h) * p.head_dim;
    for (int i = 0; i < half; ++i) {
      const double ff = p.freq_factors != nullptr ? p.freq_factors[i] : 1.0;
      const double theta_extrap =
          pos * std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_rot) / ff;
      double t = p.freq_scale * theta_extrap;
      double mscale = p.attn_factor;
      if (p.ext_factor != 0.0f) {
        const double mix = Ramp(corr[0], corr[1], 2 * i) * p.ext_factor;
        t = t * (1.0 - mix) + theta_extrap * mix;
        mscale *= 1.0 + 0.1 * std::log(1.0 / p.freq_scale);
      }
      const double c = std::cos(t) * mscale, s = std::sin(t) * mscale;
      const int a = p.style == RopeStyle::kNormal ? 2 * i : i;
      const int b = p.style == RopeStyle::kNormal ? 2 * i + 1 : i + half;
      const double x0 = head[a], x1 = head[b];
      head[a] = static_cast<float>(x0 * c - x1 * s);
      head[b] = static_cast<float>(x0 * s + x1 * c);
    }
  }
}

}  // namespace cellar
