// KvShape (the model-side shape of stored KV) and Codec (how a tier encodes it).
// Plain values; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "kv/kv_layout.h"

namespace cellar {

// The model-side shape of stored KV.
struct KvShape {
  int n_layers = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  KvType type = KvType::kF16;

  friend bool operator==(const KvShape&, const KvShape&) = default;
  bool valid() const { return n_layers > 0 && n_kv_heads > 0 && head_dim > 0; }
  // Elements of one layer's K (or V) for n tokens.
  size_t LayerElems(int n_tokens) const {
    return static_cast<size_t>(n_kv_heads) * static_cast<size_t>(n_tokens) *
           static_cast<size_t>(head_dim);
  }
  // Bytes of one layer's K (or V) in the raw layout.
  size_t HalfLayerBytes(int n_tokens) const { return LayerElems(n_tokens) * KvTypeBytes(type); }
  // Bytes of one layer's K and V in the raw layout.
  size_t RawLayerBytes(int n_tokens) const { return 2 * HalfLayerBytes(n_tokens); }
  size_t RawBytes(int n_tokens) const {
    return RawLayerBytes(n_tokens) * static_cast<size_t>(n_layers);
  }
};

// How a chunk's layers are encoded in a tier (see codec.h and docs/STORE.md).
// The numeric values are part of the disk format.
enum class Codec : uint8_t {
  kRaw = 0,       // the KV type (f16/f32) as is
  kInt8 = 1,      // 8-bit: per-channel K, per-token V (min/scale per group)
  kRawZstd = 2,   // raw, each layer compressed by zstd
  kInt8Zstd = 3,  // int8, each layer compressed by zstd
};

inline bool CodecIsValid(uint8_t v) { return v <= 3; }
inline bool CodecIsInt8(Codec c) { return c == Codec::kInt8 || c == Codec::kInt8Zstd; }
inline bool CodecIsZstd(Codec c) { return c == Codec::kRawZstd || c == Codec::kInt8Zstd; }
// "raw", "int8", "raw+zstd", "int8+zstd".
std::string_view CodecName(Codec c);
Result<Codec> ParseCodec(std::string_view name);

}  // namespace cellar
