// Codecs: how one layer of a chunk is turned into a stored segment and back.
//
//  raw        K then V in shape.type, [n_kv_heads][n_tokens][head_dim] each.
//  int8       asymmetric 8-bit. K is quantized per channel (one min/scale per
//             (head, dim) over the chunk's tokens, since keys have outlier
//             channels); V per token (one min/scale per (head, token) over
//             head_dim). Segment: k_min[H*D] f32, k_scale[H*D] f32, k_q[H][T][D]
//             u8, v_min[H*T] f32, v_scale[H*T] f32, v_q[H][T][D] u8.
//             x' = min + q * scale, so |x - x'| <= scale / 2 with
//             scale = (max - min) / 255 of the group (plus the rounding of x' to
//             f16 when the KV type is f16).
//  +zstd      the raw or int8 segment compressed by zstd as one frame.
//
// Every segment decodes on its own, so a loader can finish layer 0 while later
// layers are still being read. All numbers are little-endian.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "store/chunk.h"
#include "store/kv_shape.h"

namespace cellar {

// Bytes of an uncompressed segment (raw or int8; the zstd variants compress it).
size_t PlainSegmentBytes(Codec codec, const KvShape& shape, int n_tokens);

// Encodes one layer: `k` and `v` are shape.HalfLayerBytes(n_tokens) each.
std::vector<uint8_t> EncodeLayer(Codec codec, const KvShape& shape, int n_tokens, const uint8_t* k,
                                 const uint8_t* v, int zstd_level = 1);

// Decodes a segment into `k` and `v` (shape.HalfLayerBytes(n_tokens) each).
// kDataLoss when the segment is malformed (wrong size, bad zstd frame).
Status DecodeLayer(Codec codec, const KvShape& shape, int n_tokens,
                   std::span<const uint8_t> segment, uint8_t* k, uint8_t* v);

// Whole chunks.
EncodedChunk EncodeChunk(const RawChunk& raw, const KvShape& shape, Codec codec,
                         int zstd_level = 1);
Result<RawChunk> DecodeChunk(const EncodedChunk& chunk, const KvShape& shape);
// Re-encodes for another tier. Same codec: returns `chunk` itself. int8 <->
// int8+zstd and raw <-> raw+zstd only (de)compress, so no quantization error is
// added twice; other pairs go through the raw layout.
Result<EncodedChunkPtr> Transcode(const EncodedChunkPtr& chunk, const KvShape& shape, Codec to,
                                  int zstd_level = 1);

}  // namespace cellar
