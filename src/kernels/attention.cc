#include "kernels/attention.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "base/fp16.h"

namespace cellar {
namespace {

using AttentionFn = void (*)(const PagedKvView&, const AttentionArgs&);

AttentionFn Pick(IsaLevel isa) {
  switch (isa) {
    case IsaLevel::kAvx512:
      return internal::PagedAttentionAvx512;
    case IsaLevel::kAvx2:
      return internal::PagedAttentionAvx2;
    case IsaLevel::kScalar:
      break;
  }
  return PagedAttentionReference;
}

// Row of head `kv_head` at position j in a K or V region.
const uint8_t* RowAt(const PagedKvView& kv, const uint8_t* base, const int32_t* table,
                     int32_t kv_head, int32_t j) {
  const size_t elem = kv.type == GgmlType::kF16 ? 2 : 4;
  const int32_t block = table[j / kv.block_size];
  const int32_t slot = j % kv.block_size;
  return base + static_cast<int64_t>(block) * kv.block_stride +
         ((static_cast<int64_t>(kv_head) * kv.block_size + slot) * kv.head_dim) *
             static_cast<int64_t>(elem);
}

float ElemAt(GgmlType type, const uint8_t* row, int i) {
  if (type == GgmlType::kF16) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    return Fp16ToFloat(h);
  }
  float f;
  std::memcpy(&f, row + 4 * i, 4);
  return f;
}

}  // namespace

void PagedAttentionReference(const PagedKvView& kv, const AttentionArgs& a) {
  const int d = kv.head_dim;
  std::vector<double> scores(static_cast<size_t>(a.n_keys));
  for (int h = 0; h < a.n_group; ++h) {
    const float* q = a.q + static_cast<int64_t>(h) * d;
    double max = -INFINITY;
    for (int32_t j = 0; j < a.n_keys; ++j) {
      const uint8_t* k = RowAt(kv, kv.k, a.block_table, a.kv_head, j);
      double dot = 0.0;
      for (int i = 0; i < d; ++i) dot += static_cast<double>(q[i]) * ElemAt(kv.type, k, i);
      scores[static_cast<size_t>(j)] = dot * a.scale;
      max = std::max(max, scores[static_cast<size_t>(j)]);
    }
    double sum = 0.0;
    for (auto& s : scores) {
      s = std::exp(s - max);
      sum += s;
    }
    float* out = a.out + static_cast<int64_t>(h) * d;
    for (int i = 0; i < d; ++i) {
      double acc = 0.0;
      for (int32_t j = 0; j < a.n_keys; ++j) {
        const uint8_t* v = RowAt(kv, kv.v, a.block_table, a.kv_head, j);
        acc += scores[static_cast<size_t>(j)] * ElemAt(kv.type, v, i);
      }
      out[i] = static_cast<float>(acc / sum);
    }
  }
}

void PagedAttention(const PagedKvView& kv, const AttentionArgs& args) {
  static const AttentionFn fn = Pick(ActiveIsa());
  fn(kv, args);
}

void PagedAttentionWithIsa(IsaLevel isa, const PagedKvView& kv, const AttentionArgs& args) {
  Pick(isa)(kv, args);
}

void StoreKvRow(GgmlType type, const float* src, void* dst, int64_t n) {
  if (type == GgmlType::kF32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  static const bool simd = ActiveIsa() != IsaLevel::kScalar;
  auto* out = static_cast<uint16_t*>(dst);
  if (simd) {
    internal::StoreKvRowF16Avx2(src, out, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = FloatToFp16(src[i]);
}

void LoadKvRow(GgmlType type, const void* src, float* dst, int64_t n) {
  if (type == GgmlType::kF32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  static const bool simd = ActiveIsa() != IsaLevel::kScalar;
  const auto* in = static_cast<const uint16_t*>(src);
  if (simd) {
    internal::LoadKvRowF16Avx2(in, dst, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = Fp16ToFloat(in[i]);
}

}  // namespace cellar
