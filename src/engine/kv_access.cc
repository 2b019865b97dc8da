#include "engine/kv_access.h"

#include <vector>

#include "kernels/attention.h"

namespace cellar {
namespace {

size_t SlotOffsetBytes(const KvLayout& layout, int kv_head, int32_t slot) {
  return layout.TileOffset(kv_head, slot) * KvTypeBytes(layout.type);
}

}  // namespace

void WriteTokenKv(KvStorage& kv, int layer, std::span<const int32_t> block_table, int32_t pos,
                  const float* k, const float* v) {
  const KvLayout& layout = kv.layout();
  const int32_t block = block_table[static_cast<size_t>(pos / layout.block_size)];
  const int32_t slot = pos % layout.block_size;
  auto* kt = static_cast<uint8_t*>(kv.K(layer, block));
  auto* vt = static_cast<uint8_t*>(kv.V(layer, block));
  const GgmlType type = KvElementType(layout.type);
  for (int h = 0; h < layout.n_kv_heads; ++h) {
    const size_t off = SlotOffsetBytes(layout, h, slot);
    StoreKvRow(type, k + static_cast<int64_t>(h) * layout.head_dim, kt + off, layout.head_dim);
    StoreKvRow(type, v + static_cast<int64_t>(h) * layout.head_dim, vt + off, layout.head_dim);
  }
}

void ReadTokenKv(const KvStorage& kv, int layer, std::span<const int32_t> block_table, int32_t pos,
                 float* k, float* v) {
  const KvLayout& layout = kv.layout();
  const int32_t block = block_table[static_cast<size_t>(pos / layout.block_size)];
  const int32_t slot = pos % layout.block_size;
  const auto* kt = static_cast<const uint8_t*>(kv.K(layer, block));
  const auto* vt = static_cast<const uint8_t*>(kv.V(layer, block));
  const GgmlType type = KvElementType(layout.type);
  for (int h = 0; h < layout.n_kv_heads; ++h) {
    const size_t off = SlotOffsetBytes(layout, h, slot);
    LoadKvRow(type, kt + off, k + static_cast<int64_t>(h) * layout.head_dim, layout.head_dim);
    LoadKvRow(type, vt + off, v + static_cast<int64_t>(h) * layout.head_dim, layout.head_dim);
  }
}

void RotateKeys(const RopeParams& rope, int32_t n_kv_heads, float* k,
                std::span<const int32_t> positions) {
  std::vector<float> cos_sin(static_cast<size_t>(rope.n_rot));
  const int64_t row = static_cast<int64_t>(n_kv_heads) * rope.head_dim;
  for (size_t i = 0; i < positions.size(); ++i) {
    RopeCosSin(rope, positions[i], cos_sin.data());
    RopeApply(rope, cos_sin.data(), k + static_cast<int64_t>(i) * row, n_kv_heads);
  }
}

}  // namespace cellar
