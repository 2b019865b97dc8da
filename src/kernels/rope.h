// RoPE (rotary position embedding) as llama.cpp's ggml_rope_ext computes it,
// including linear scaling (freq_scale), YaRN (ext_factor, attn_factor,
// beta_fast/slow, n_ctx_orig) and per-dimension frequency divisors (Llama 3's
// rope_freqs tensor).
//
// For pair i < n_rot/2 of a head at position p:
//   theta_i = p * freq_base^(-2i/n_rot) / freq_factors[i]   (computed, as ggml
//   does, by repeated float multiplication), then scaled/mixed by YaRN.
// Layouts: kNormal rotates adjacent pairs (x[2i], x[2i+1]) (llama);
//          kNeox rotates halves (x[i], x[i + n_rot/2]) (qwen2, gpt-neox).
// Dimensions at and past n_rot are left as they are.
//
// The pool stores keys after RoPE; the store keeps them before. A loader that
// moves stored keys back into the pool rotates them with RopeRotate() (or
// RopeCosSin + RopeApply for many heads of one position).
// Thread-safety: pure functions; RopeParams is a plain value (freq_factors
// points into the model, which must outlive it).
#pragma once

#include <cstdint>

namespace cellar {

enum class RopeStyle : uint8_t { kNormal = 0, kNeox = 1 };

struct RopeParams {
  RopeStyle style = RopeStyle::kNormal;
  int32_t n_rot = 0;     // rotated dimensions per head (even, <= head_dim)
  int32_t head_dim = 0;  // floats per head
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;   // 1 / scaling factor (linear and YaRN); 1 = none
  float ext_factor = 0.0f;   // YaRN extrapolation mix: 1 for YaRN, else 0
  float attn_factor = 1.0f;  // magnitude scale of cos/sin
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  int32_t n_ctx_orig = 0;               // YaRN: original training context
  const float* freq_factors = nullptr;  // [n_rot / 2] divisors of theta, or null
};

// cos_sin[2i] = cos(theta_i) * mscale, cos_sin[2i + 1] = sin(theta_i) * mscale for
// i < n_rot / 2 (n_rot floats).
void RopeCosSin(const RopeParams& p, int32_t pos, float* cos_sin);

// Rotates `n_heads` consecutive heads (head_dim floats each) of x in place with a
// row from RopeCosSin().
void RopeApply(const RopeParams& p, const float* cos_sin, float* x, int32_t n_heads);

// RopeCosSin + RopeApply for one position.
void RopeRotate(const RopeParams& p, int32_t pos, float* x, int32_t n_heads);

// The scalar oracle: the same rotation computed independently in double
// precision (theta from pow(), not repeated multiplication). For tests.
void RopeRotateReference(const RopeParams& p, int32_t pos, float* x, int32_t n_heads);

}  // namespace cellar
