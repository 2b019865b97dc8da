// Test helper: builds a small random-weight llama/qwen2 GGUF in memory, with
// knobs to break it (missing or mis-shaped tensors, odd metadata), so loader and
// forward-pass tests need no shared files.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "kernels/quantize.h"

namespace cellar::testing {

struct TestModelSpec {
  std::string arch = "llama";
  int32_t n_vocab = 64;
  int32_t n_embd = 64;
  int32_t n_layer = 2;
  int32_t n_head = 4;
  int32_t n_head_kv = 2;
  int32_t n_ff = 96;
  int32_t n_ctx = 256;
  int32_t key_length = 0;  // 0: not written (head_dim = n_embd / n_head)
  GgmlType matrix_type = GgmlType::kF32;
  bool tied = false;         // no output.weight
  bool qkv_bias = false;     // write attn_{q,k,v}.bias
  bool rope_freqs = false;   // write rope_freqs.weight
  std::string rope_scaling;  // written as <arch>.rope.scaling.type if non-empty
  float rope_scaling_factor = 0.0f;
  float weight_std = 0.08f;
  uint64_t seed = 42;
  std::set<std::string> skip_tensors;  // tensors left out
  std::string bad_shape_tensor;        // this tensor gets one row too many
};

inline int32_t HeadDim(const TestModelSpec& s) {
  return s.key_length > 0 ? s.key_length : s.n_embd / s.n_head;
}

// The GGUF bytes of the model described by `spec`.
inline std::vector<uint8_t> BuildTestModel(const TestModelSpec& s) {
  GgufWriter w;
  const std::string a = s.arch;
  w.SetString("general.architecture", a);
  w.SetString("general.name", "test-" + a);
  w.SetUint32(a + ".context_length", static_cast<uint32_t>(s.n_ctx));
  w.SetUint32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.SetUint32(a + ".block_count", static_cast<uint32_t>(s.n_layer));
  w.SetUint32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.SetUint32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.SetUint32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.SetFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  w.SetFloat32(a + ".rope.freq_base", 10000.0f);
  w.SetUint32(a + ".vocab_size", static_cast<uint32_t>(s.n_vocab));
  if (s.key_length > 0) {
    w.SetUint32(a + ".attention.key_length", static_cast<uint32_t>(s.key_length));
    w.SetUint32(a + ".attention.value_length", static_cast<uint32_t>(s.key_length));
  }
  if (!s.rope_scaling.empty()) w.SetString(a + ".rope.scaling.type", s.rope_scaling);
  if (s.rope_scaling_factor != 0.0f)
    w.SetFloat32(a + ".rope.scaling.factor", s.rope_scaling_factor);

  std::mt19937_64 rng(s.seed);
  std::normal_distribution<float> dist(0.0f, s.weight_std);
  const int64_t hd = HeadDim(s), n_q = s.n_head * hd, n_kv = s.n_head_kv * hd;
  auto add = [&](const std::string& name, std::vector<int64_t> dims, bool is_norm) {
    if (s.skip_tensors.count(name) != 0) return;
    if (name == s.bad_shape_tensor) dims.back() += 1;
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::vector<float> f(static_cast<size_t>(n));
    for (auto& x : f) x = is_norm ? 1.0f + dist(rng) : dist(rng);
    const GgmlType type = dims.size() == 2 ? s.matrix_type : GgmlType::kF32;
    std::vector<uint8_t> bytes(static_cast<size_t>(*GgmlRowBytes(type, dims[0]) * (n / dims[0])));
    const int64_t row_bytes = *GgmlRowBytes(type, dims[0]);
    for (int64_t r = 0; r < n / dims[0]; ++r) {
      QuantizeRow(type, f.data() + r * dims[0], bytes.data() + r * row_bytes, dims[0])
          .IgnoreError();
    }
    w.AddTensor(name, type, dims, bytes).IgnoreError();
  };
  add("token_embd.weight", {s.n_embd, s.n_vocab}, false);
  add("output_norm.weight", {s.n_embd}, true);
  if (!s.tied) add("output.weight", {s.n_embd, s.n_vocab}, false);
  if (s.rope_freqs) add("rope_freqs.weight", {hd / 2}, true);
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {s.n_embd}, true);
    add(p + "attn_q.weight", {s.n_embd, n_q}, false);
    add(p + "attn_k.weight", {s.n_embd, n_kv}, false);
    add(p + "attn_v.weight", {s.n_embd, n_kv}, false);
    add(p + "attn_output.weight", {n_q, s.n_embd}, false);
    if (s.qkv_bias) {
      add(p + "attn_q.bias", {n_q}, false);
      add(p + "attn_k.bias", {n_kv}, false);
      add(p + "attn_v.bias", {n_kv}, false);
    }
    add(p + "ffn_norm.weight", {s.n_embd}, true);
    add(p + "ffn_gate.weight", {s.n_embd, s.n_ff}, false);
    add(p + "ffn_up.weight", {s.n_embd, s.n_ff}, false);
    add(p + "ffn_down.weight", {s.n_ff, s.n_embd}, false);
  }
  auto bytes = w.WriteToBytes();
  return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>();
}

}  // namespace cellar::testing
