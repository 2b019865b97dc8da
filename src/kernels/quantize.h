// Reference quantizers: float rows -> ggml block formats, with the rounding and
// scale search of ggml's quantize_row_*_ref (what llama-quantize uses without an
// importance matrix), so the files Cellar writes look like llama.cpp's.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "kernels/quant_blocks.h"

namespace cellar {

// True for the types QuantizeRow/DequantizeRow handle: F32, F16, BF16, Q8_0,
// Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q8_K.
bool QuantizeSupports(GgmlType type);

// Writes n elements of `src` as `type` into dst (GgmlRowBytes(type, n) bytes).
// Errors: unsupported type, n negative or not a multiple of the block size.
Status QuantizeRow(GgmlType type, const float* src, void* dst, int64_t n);

// Per-type entry points. REQUIRES: n is a multiple of the block size (32 for
// Q8_0/Q4_0, 256 for the K types); dst has room for n / block_size blocks.
void QuantizeRowQ8_0(const float* src, BlockQ8_0* dst, int64_t n);
void QuantizeRowQ4_0(const float* src, BlockQ4_0* dst, int64_t n);
void QuantizeRowQ5_0(const float* src, BlockQ5_0* dst, int64_t n);
void QuantizeRowQ5_1(const float* src, BlockQ5_1* dst, int64_t n);
void QuantizeRowQ4K(const float* src, BlockQ4K* dst, int64_t n);
void QuantizeRowQ5K(const float* src, BlockQ5K* dst, int64_t n);
void QuantizeRowQ6K(const float* src, BlockQ6K* dst, int64_t n);
void QuantizeRowQ8K(const float* src, BlockQ8K* dst, int64_t n);
void QuantizeRowF16(const float* src, uint16_t* dst, int64_t n);
void QuantizeRowBF16(const float* src, uint16_t* dst, int64_t n);

// ggml's nearest_int: round to nearest, ties to even, for |x| <= 4194303.
inline int NearestInt(float x) {
  const float v = x + 12582912.f;
  int32_t i;
  __builtin_memcpy(&i, &v, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace cellar
