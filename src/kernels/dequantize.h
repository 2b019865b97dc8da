// Reference (scalar) dequantizers: ggml block formats -> float. These are the
// oracle every optimized kernel is tested against.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "gguf/ggml_type.h"
#include "kernels/quant_blocks.h"

namespace cellar {

// Reads n elements of `type` from src (GgmlRowBytes(type, n) bytes) into dst.
// Supported: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, Q8_K (see
// QuantizeSupports). Errors: unsupported type, n not a multiple of the block size.
Status DequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);

// Per-type entry points. REQUIRES: n is a multiple of the block size.
void DequantizeRowQ8_0(const BlockQ8_0* src, float* dst, int64_t n);
void DequantizeRowQ4_0(const BlockQ4_0* src, float* dst, int64_t n);
void DequantizeRowQ5_0(const BlockQ5_0* src, float* dst, int64_t n);
void DequantizeRowQ5_1(const BlockQ5_1* src, float* dst, int64_t n);
void DequantizeRowQ4K(const BlockQ4K* src, float* dst, int64_t n);
void DequantizeRowQ5K(const BlockQ5K* src, float* dst, int64_t n);
void DequantizeRowQ6K(const BlockQ6K* src, float* dst, int64_t n);
void DequantizeRowQ8K(const BlockQ8K* src, float* dst, int64_t n);
void DequantizeRowF16(const uint16_t* src, float* dst, int64_t n);
void DequantizeRowBF16(const uint16_t* src, float* dst, int64_t n);

}  // namespace cellar
