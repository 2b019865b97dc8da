#include "engine/kv_store_sink.h"

#include <cstring>

#include "engine/kv_access.h"
#include "kernels/attention.h"

namespace cellar {

PoolLoadSink::PoolLoadSink(Options options) : o_(std::move(options)) {}

void PoolLoadSink::OnLayer(int chunk_index, int layer, const uint8_t* k, const uint8_t* v) {
  const KvLayout& layout = o_.kv->layout();
  const int H = layout.n_kv_heads, D = layout.head_dim, T = o_.chunk_tokens;
  const int n_rot = o_.rope.n_rot;
  const GgmlType type = KvElementType(layout.type);
  const size_t esize = KvTypeBytes(layout.type);
  if (cos_sin_.empty() && o_.end > o_.begin) {
    // The rotation of every destination position, once per load.
    cos_sin_.resize(static_cast<size_t>(o_.end - o_.begin) * static_cast<size_t>(n_rot));
    for (int p = o_.begin; p < o_.end; ++p) {
      RopeCosSin(o_.rope, p, cos_sin_.data() + static_cast<size_t>(p - o_.begin) * n_rot);
    }
    row_.resize(static_cast<size_t>(H) * static_cast<size_t>(D));
  }
  const int first = o_.chunk_first[static_cast<size_t>(chunk_index)];
  for (int t = 0; t < T; ++t) {
    const int p = o_.map(first + t);
    if (p < o_.begin || p >= o_.end) continue;
    const int32_t block = o_.block_table[static_cast<size_t>(p / layout.block_size)];
    const int slot = p % layout.block_size;
    auto* kt = static_cast<uint8_t*>(o_.kv->K(layer, block));
    auto* vt = static_cast<uint8_t*>(o_.kv->V(layer, block));
    // Stored: [h][t][d]. Pool tile: [h][slot][d].
    for (int h = 0; h < H; ++h) {
      const size_t src = (static_cast<size_t>(h) * T + static_cast<size_t>(t)) * D * esize;
      LoadKvRow(type, k + src, row_.data() + static_cast<size_t>(h) * D, D);
      std::memcpy(vt + layout.TileOffset(h, slot) * esize, v + src, static_cast<size_t>(D) * esize);
    }
    RopeApply(o_.rope, cos_sin_.data() + static_cast<size_t>(p - o_.begin) * n_rot, row_.data(), H);
    for (int h = 0; h < H; ++h) {
      StoreKvRow(type, row_.data() + static_cast<size_t>(h) * D,
                 kt + layout.TileOffset(h, slot) * esize, D);
    }
  }
}

void ReadPreRopeKv(const KvStorage& kv, const RopeParams& rope, int layer,
                   std::span<const int32_t> block_table, int begin, int end, float* k, float* v) {
  const KvLayout& layout = kv.layout();
  const int64_t row = static_cast<int64_t>(layout.n_kv_heads) * layout.head_dim;
  std::vector<float> cs(static_cast<size_t>(rope.n_rot));
  for (int p = begin; p < end; ++p) {
    float* kr = k + (p - begin) * row;
    ReadTokenKv(kv, layer, block_table, p, kr, v + (p - begin) * row);
    // The rotation (with YaRN's magnitude scale) is [[c, -s], [s, c]] per pair;
    // its inverse is [[c, s], [-s, c]] / (c^2 + s^2).
    RopeCosSin(rope, p, cs.data());
    for (int i = 0; i + 1 < rope.n_rot; i += 2) {
      const float c = cs[static_cast<size_t>(i)], s = cs[static_cast<size_t>(i) + 1];
      const float n = c * c + s * s;
      cs[static_cast<size_t>(i)] = c / n;
      cs[static_cast<size_t>(i) + 1] = -s / n;
    }
    RopeApply(rope, cs.data(), kr, layout.n_kv_heads);
  }
}

}  // namespace cellar
