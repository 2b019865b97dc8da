// Block layouts of the quantized weight and activation types, byte-for-byte as
// ggml stores them (ggml-common.h) so that GGUF tensors can be read in place.
// All fp16 fields are IEEE binary16 bit patterns (see base/fp16.h).
// Thread-safety: plain data.
#pragma once

#include <cstdint>

namespace cellar {

inline constexpr int kQK8_0 = 32;  // elements per Q8_0 / Q4_0 block
inline constexpr int kQK_K = 256;  // elements per K-quant super-block
inline constexpr int kKScaleSize = 12;

// Q8_0: x = d * q, q in [-127, 127]. 34 bytes per 32 elements.
struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q4_0: x = d * (q - 8), q in [0, 15]. qs[j] holds element j (low nibble) and
// element j + 16 (high nibble). 18 bytes per 32 elements.
struct BlockQ4_0 {
  uint16_t d;  // fp16 scale
  uint8_t qs[kQK8_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q5_0: x = d * (q - 16), q in [0, 31]: low 4 bits as Q4_0's nibbles, bit 4 of
// element j is bit j of qh (little-endian uint32). 22 bytes per 32 elements.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK8_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: x = d * q + m, q in [0, 31], bits as Q5_0. 24 bytes per 32 elements.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK8_0 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// Q8_1: activation format for Q5_1 dot products: Q8_0 plus s = fp16(d * sum(qs))
// (with d before its fp16 rounding). 36 bytes per 32 elements.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_1) == 36);

// Q4_K: 8 sub-blocks of 32; x = d * sc[j] * q - dmin * m[j], q in [0, 15].
// scales: 6-bit sc/m packed (see GetScaleMinK4). qs: for each 64-element group
// g, 32 bytes whose low nibbles are elements 64g..64g+31 and high nibbles
// 64g+32..64g+63. 144 bytes per 256 elements.
struct BlockQ4K {
  uint16_t d;     // fp16 super-block scale of the scales
  uint16_t dmin;  // fp16 super-block scale of the mins
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4K) == 144);

// Q5_K: as Q4_K plus a 5th bit: bit (2g) of qh[l] is the high bit of element
// 64g + l, bit (2g+1) of qh[l] that of element 64g + 32 + l. 176 bytes.
struct BlockQ5K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5K) == 176);

// Q6_K: 16 sub-blocks of 16; x = d * scales[j] * (q - 32), q in [0, 63].
// For each 128-element half h: ql[64h + l] low nibble = element 128h + l,
// high nibble = 128h + 64 + l; ql[64h + 32 + l] low = 128h + 32 + l, high =
// 128h + 96 + l (l < 32); qh[32h + l] bits 0-1, 2-3, 4-5, 6-7 are the top two
// bits of elements 128h + l, +32, +64, +96. 210 bytes per 256 elements.
struct BlockQ6K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6K) == 210);

// Q8_K: activation format for K-quant dot products. x = d * q (d is f32),
// bsums[j] = sum of qs[16j .. 16j+15]. 292 bytes per 256 elements.
struct BlockQ8K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block.
inline void GetScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

}  // namespace cellar
