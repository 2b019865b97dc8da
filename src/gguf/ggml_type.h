// GgmlType: the tensor element types a GGUF file can name, with their block
// layout (elements per block, bytes per block). Ids are ggml's on-disk ids;
// the table matches ggml's type_traits (ggml.c) and gguf-py's GGML_QUANT_SIZES.
// Thread-safe (constant tables).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cellar {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4 and 5 (Q4_2, Q4_3) were removed from ggml.
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  // 31-33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) were removed from ggml.
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  // 36-38 (IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8) were removed from ggml.
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

struct GgmlTypeTraits {
  std::string_view name;  // ggml's name, e.g. "q4_K"
  int64_t block_size;     // elements per block
  int64_t type_size;      // bytes per block
  bool quantized;
};

// Traits of a known type id, or nullopt for an unknown/removed id.
std::optional<GgmlTypeTraits> GetGgmlTypeTraits(uint32_t type_id);

// REQUIRES: `type` is a known type.
const GgmlTypeTraits& TraitsOf(GgmlType type);

inline std::string_view GgmlTypeName(GgmlType type) { return TraitsOf(type).name; }

// Bytes used by `n_elements` elements of `type`, or nullopt if n_elements is not a
// multiple of the block size or the product overflows int64.
std::optional<int64_t> GgmlRowBytes(GgmlType type, int64_t n_elements);

}  // namespace cellar
