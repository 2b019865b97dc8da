#include "store/chunk_accumulator.h"

#include <algorithm>
#include <cstring>

#include "base/fp16.h"

namespace cellar {

ChunkAccumulator::ChunkAccumulator(const KvShape& shape, int chunk_tokens, int first_position)
    : shape_(shape),
      chunk_tokens_(chunk_tokens),
      first_position_(first_position),
      next_chunk_(first_position / chunk_tokens) {}

ChunkAccumulator::Building& ChunkAccumulator::ChunkAt(int index) {
  auto it = building_.find(index);
  if (it != building_.end()) return it->second;
  Building& b = building_[index];
  b.chunk.meta.first_token = static_cast<uint32_t>(index * chunk_tokens_);
  b.chunk.meta.tokens.resize(static_cast<size_t>(chunk_tokens_));
  b.chunk.data.resize(shape_.RawBytes(chunk_tokens_));
  b.filled.assign(static_cast<size_t>(shape_.n_layers), 0);
  return b;
}

void ChunkAccumulator::Append(int layer, int pos, int n, const float* k, const float* v) {
  const int H = shape_.n_kv_heads, D = shape_.head_dim, T = chunk_tokens_;
  const size_t row = static_cast<size_t>(H) * static_cast<size_t>(D);
  const size_t esize = KvTypeBytes(shape_.type);
  for (int i = 0; i < n; ++i) {
    const int p = pos + i;
    if (p < first_position_) continue;
    const int index = p / T;
    if (index < next_chunk_) continue;  // already taken
    Building& b = ChunkAt(index);
    const int slot = p % T;
    uint8_t* dk = b.chunk.K(shape_, layer);
    uint8_t* dv = b.chunk.V(shape_, layer);
    const float* sk = k + static_cast<size_t>(i) * row;
    const float* sv = v + static_cast<size_t>(i) * row;
    for (int h = 0; h < H; ++h) {
      // Head-major inside the chunk: [h][slot][d].
      const size_t dst = (static_cast<size_t>(h) * T + static_cast<size_t>(slot)) * D;
      const float* src_k = sk + static_cast<size_t>(h) * D;
      const float* src_v = sv + static_cast<size_t>(h) * D;
      if (shape_.type == KvType::kF32) {
        std::memcpy(dk + dst * esize, src_k, D * esize);
        std::memcpy(dv + dst * esize, src_v, D * esize);
      } else {
        auto* hk = reinterpret_cast<uint16_t*>(dk) + dst;
        auto* hv = reinterpret_cast<uint16_t*>(dv) + dst;
        for (int d = 0; d < D; ++d) {
          hk[d] = FloatToFp16(src_k[d]);
          hv[d] = FloatToFp16(src_v[d]);
        }
      }
    }
    ++b.filled[static_cast<size_t>(layer)];
  }
}

std::vector<RawChunk> ChunkAccumulator::TakeComplete() {
  std::vector<RawChunk> out;
  for (;;) {
    auto it = building_.find(next_chunk_);
    if (it == building_.end()) break;
    const auto& f = it->second.filled;
    if (!std::all_of(f.begin(), f.end(), [&](int x) { return x >= chunk_tokens_; })) break;
    out.push_back(std::move(it->second.chunk));
    building_.erase(it);
    ++next_chunk_;
  }
  return out;
}

}  // namespace cellar
