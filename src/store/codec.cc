#include "store/codec.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "base/fp16.h"

namespace cellar {

static_assert(std::endian::native == std::endian::little, "the store format is little-endian");

std::string_view CodecName(Codec c) {
  switch (c) {
    case Codec::kRaw:
      return "raw";
    case Codec::kInt8:
      return "int8";
    case Codec::kRawZstd:
      return "raw+zstd";
    case Codec::kInt8Zstd:
      return "int8+zstd";
  }
  return "?";
}

Result<Codec> ParseCodec(std::string_view name) {
  for (Codec c : {Codec::kRaw, Codec::kInt8, Codec::kRawZstd, Codec::kInt8Zstd}) {
    if (name == CodecName(c)) return c;
  }
  return InvalidArgument("unknown store codec '" + std::string(name) +
                         "' (raw, int8, raw+zstd, int8+zstd)");
}

namespace {

float LoadElem(const uint8_t* base, KvType type, size_t i) {
  if (type == KvType::kF32) {
    float f;
    std::memcpy(&f, base + i * 4, 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, base + i * 2, 2);
  return Fp16ToFloat(h);
}

void StoreElem(uint8_t* base, KvType type, size_t i, float x) {
  if (type == KvType::kF32) {
    std::memcpy(base + i * 4, &x, 4);
    return;
  }
  const uint16_t h = FloatToFp16(x);
  std::memcpy(base + i * 2, &h, 2);
}

// Group parameters: min and scale so that x ~ min + q * scale, q in [0, 255].
struct Group {
  float min;
  float scale;
};

Group MakeGroup(float lo, float hi) {
  const float scale = (hi - lo) / 255.0f;
  return {lo, scale > 0.0f && std::isfinite(scale) ? scale : 0.0f};
}

uint8_t Quantize(float x, const Group& g) {
  if (g.scale == 0.0f) return 0;
  const float q = std::nearbyint((x - g.min) / g.scale);
  return static_cast<uint8_t>(std::clamp(q, 0.0f, 255.0f));
}

size_t Int8Bytes(const KvShape& s, int n_tokens) {
  const size_t h = static_cast<size_t>(s.n_kv_heads);
  const size_t t = static_cast<size_t>(n_tokens);
  const size_t d = static_cast<size_t>(s.head_dim);
  return 2 * (h * d * 4) + h * t * d + 2 * (h * t * 4) + h * t * d;
}

void PutFloats(uint8_t*& p, const std::vector<float>& v) {
  std::memcpy(p, v.data(), v.size() * 4);
  p += v.size() * 4;
}

void EncodeInt8(const KvShape& s, int n_tokens, const uint8_t* k, const uint8_t* v, uint8_t* out) {
  const int H = s.n_kv_heads, T = n_tokens, D = s.head_dim;
  // K: per channel (h, d) over tokens.
  std::vector<float> lo(static_cast<size_t>(H) * D), hi(lo.size());
  for (int h = 0; h < H; ++h) {
    for (int d = 0; d < D; ++d) {
      float mn = INFINITY, mx = -INFINITY;
      for (int t = 0; t < T; ++t) {
        const float x = LoadElem(k, s.type, (static_cast<size_t>(h) * T + t) * D + d);
        mn = std::min(mn, x);
        mx = std::max(mx, x);
      }
      lo[static_cast<size_t>(h) * D + d] = mn;
      hi[static_cast<size_t>(h) * D + d] = mx;
    }
  }
  std::vector<float> mins(lo.size()), scales(lo.size());
  std::vector<Group> groups(lo.size());
  for (size_t c = 0; c < lo.size(); ++c) {
    groups[c] = MakeGroup(lo[c], hi[c]);
    mins[c] = groups[c].min;
    scales[c] = groups[c].scale;
  }
  uint8_t* p = out;
  PutFloats(p, mins);
  PutFloats(p, scales);
  for (int h = 0; h < H; ++h) {
    for (int t = 0; t < T; ++t) {
      for (int d = 0; d < D; ++d) {
        const size_t i = (static_cast<size_t>(h) * T + t) * D + d;
        *p++ = Quantize(LoadElem(k, s.type, i), groups[static_cast<size_t>(h) * D + d]);
      }
    }
  }
  // V: per (head, token) over head_dim.
  std::vector<float> vmins(static_cast<size_t>(H) * T), vscales(vmins.size());
  std::vector<Group> vgroups(vmins.size());
  for (size_t g = 0; g < vmins.size(); ++g) {
    float mn = INFINITY, mx = -INFINITY;
    for (int d = 0; d < D; ++d) {
      const float x = LoadElem(v, s.type, g * D + d);
      mn = std::min(mn, x);
      mx = std::max(mx, x);
    }
    vgroups[g] = MakeGroup(mn, mx);
    vmins[g] = vgroups[g].min;
    vscales[g] = vgroups[g].scale;
  }
  PutFloats(p, vmins);
  PutFloats(p, vscales);
  for (size_t g = 0; g < vmins.size(); ++g) {
    for (int d = 0; d < D; ++d) *p++ = Quantize(LoadElem(v, s.type, g * D + d), vgroups[g]);
  }
}

void DecodeInt8(const KvShape& s, int n_tokens, const uint8_t* in, uint8_t* k, uint8_t* v) {
  const int H = s.n_kv_heads, T = n_tokens, D = s.head_dim;
  const size_t n_ch = static_cast<size_t>(H) * D;
  std::vector<float> mins(n_ch), scales(n_ch);
  std::memcpy(mins.data(), in, n_ch * 4);
  std::memcpy(scales.data(), in + n_ch * 4, n_ch * 4);
  const uint8_t* q = in + 2 * n_ch * 4;
  for (int h = 0; h < H; ++h) {
    const float* mn = mins.data() + static_cast<size_t>(h) * D;
    const float* sc = scales.data() + static_cast<size_t>(h) * D;
    for (int t = 0; t < T; ++t) {
      const size_t row = (static_cast<size_t>(h) * T + t) * D;
      for (int d = 0; d < D; ++d) StoreElem(k, s.type, row + d, mn[d] + q[row + d] * sc[d]);
    }
  }
  const uint8_t* p = q + static_cast<size_t>(H) * T * D;
  const size_t n_g = static_cast<size_t>(H) * T;
  std::vector<float> vmins(n_g), vscales(n_g);
  std::memcpy(vmins.data(), p, n_g * 4);
  std::memcpy(vscales.data(), p + n_g * 4, n_g * 4);
  const uint8_t* vq = p + 2 * n_g * 4;
  for (size_t g = 0; g < n_g; ++g) {
    for (int d = 0; d < D; ++d) {
      StoreElem(v, s.type, g * D + d, vmins[g] + vq[g * D + d] * vscales[g]);
    }
  }
}

Codec PlainOf(Codec c) { return CodecIsInt8(c) ? Codec::kInt8 : Codec::kRaw; }

}  // namespace

size_t PlainSegmentBytes(Codec codec, const KvShape& shape, int n_tokens) {
  return CodecIsInt8(codec) ? Int8Bytes(shape, n_tokens) : shape.RawLayerBytes(n_tokens);
}

std::vector<uint8_t> EncodeLayer(Codec codec, const KvShape& shape, int n_tokens, const uint8_t* k,
                                 const uint8_t* v, int zstd_level) {
  std::vector<uint8_t> plain(PlainSegmentBytes(codec, shape, n_tokens));
  if (CodecIsInt8(codec)) {
    EncodeInt8(shape, n_tokens, k, v, plain.data());
  } else {
    const size_t half = shape.HalfLayerBytes(n_tokens);
    std::memcpy(plain.data(), k, half);
    std::memcpy(plain.data() + half, v, half);
  }
  if (!CodecIsZstd(codec)) return plain;
  std::vector<uint8_t> out(ZSTD_compressBound(plain.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), zstd_level);
  // Compressing into a buffer of compressBound() bytes cannot fail for valid levels.
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

Status DecodeLayer(Codec codec, const KvShape& shape, int n_tokens,
                   std::span<const uint8_t> segment, uint8_t* k, uint8_t* v) {
  const size_t plain_bytes = PlainSegmentBytes(codec, shape, n_tokens);
  std::vector<uint8_t> unpacked;
  std::span<const uint8_t> plain = segment;
  if (CodecIsZstd(codec)) {
    unpacked.resize(plain_bytes);
    const size_t n =
        ZSTD_decompress(unpacked.data(), unpacked.size(), segment.data(), segment.size());
    if (ZSTD_isError(n)) {
      return DataLoss(std::string("bad zstd segment: ") + ZSTD_getErrorName(n));
    }
    if (n != plain_bytes) return DataLoss("zstd segment has the wrong size");
    plain = unpacked;
  }
  if (plain.size() != plain_bytes) {
    return DataLoss("segment of " + std::to_string(plain.size()) + " bytes, expected " +
                    std::to_string(plain_bytes));
  }
  if (CodecIsInt8(codec)) {
    DecodeInt8(shape, n_tokens, plain.data(), k, v);
  } else {
    const size_t half = shape.HalfLayerBytes(n_tokens);
    std::memcpy(k, plain.data(), half);
    std::memcpy(v, plain.data() + half, half);
  }
  return OkStatus();
}

EncodedChunk EncodeChunk(const RawChunk& raw, const KvShape& shape, Codec codec, int zstd_level) {
  EncodedChunk out;
  out.meta = raw.meta;
  out.codec = codec;
  out.layers.reserve(static_cast<size_t>(shape.n_layers));
  for (int l = 0; l < shape.n_layers; ++l) {
    out.layers.push_back(EncodeLayer(codec, shape, raw.meta.n_tokens(), raw.K(shape, l),
                                     raw.V(shape, l), zstd_level));
  }
  return out;
}

Result<RawChunk> DecodeChunk(const EncodedChunk& chunk, const KvShape& shape) {
  if (chunk.layers.size() != static_cast<size_t>(shape.n_layers)) {
    return DataLoss("chunk has " + std::to_string(chunk.layers.size()) + " layers, expected " +
                    std::to_string(shape.n_layers));
  }
  RawChunk raw;
  raw.meta = chunk.meta;
  raw.data.resize(shape.RawBytes(chunk.meta.n_tokens()));
  for (int l = 0; l < shape.n_layers; ++l) {
    CELLAR_RETURN_IF_ERROR(DecodeLayer(chunk.codec, shape, chunk.meta.n_tokens(),
                                       chunk.layers[static_cast<size_t>(l)], raw.K(shape, l),
                                       raw.V(shape, l)));
  }
  return raw;
}

Result<EncodedChunkPtr> Transcode(const EncodedChunkPtr& chunk, const KvShape& shape, Codec to,
                                  int zstd_level) {
  if (chunk->codec == to) return chunk;
  if (PlainOf(chunk->codec) == PlainOf(to)) {
    // Only the zstd wrapping differs: (de)compress each segment.
    auto out = std::make_shared<EncodedChunk>();
    out->meta = chunk->meta;
    out->codec = to;
    const Codec plain = PlainOf(to);
    const int n = chunk->meta.n_tokens();
    for (const auto& seg : chunk->layers) {
      if (CodecIsZstd(chunk->codec)) {
        std::vector<uint8_t> unpacked(PlainSegmentBytes(plain, shape, n));
        const size_t got =
            ZSTD_decompress(unpacked.data(), unpacked.size(), seg.data(), seg.size());
        if (ZSTD_isError(got) || got != unpacked.size()) return DataLoss("bad zstd segment");
        out->layers.push_back(std::move(unpacked));
      } else {
        std::vector<uint8_t> packed(ZSTD_compressBound(seg.size()));
        const size_t got =
            ZSTD_compress(packed.data(), packed.size(), seg.data(), seg.size(), zstd_level);
        if (ZSTD_isError(got)) return Internal("zstd compression failed");
        packed.resize(got);
        out->layers.push_back(std::move(packed));
      }
    }
    return EncodedChunkPtr(std::move(out));
  }
  CELLAR_ASSIGN_OR_RETURN(RawChunk raw, DecodeChunk(*chunk, shape));
  return EncodedChunkPtr(std::make_shared<EncodedChunk>(EncodeChunk(raw, shape, to, zstd_level)));
}

}  // namespace cellar
