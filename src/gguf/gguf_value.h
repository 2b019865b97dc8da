// GgufValue: one GGUF metadata value — a scalar, a string, or an array (of
// scalars, of strings, or of arrays; nested arrays may mix element types).
//
// Storage: a value parsed by GgufFile holds views into the file's bytes and is
// valid only while that GgufFile lives. A value built with the From* factories
// (or returned by Owned()) owns its bytes through a shared, immutable buffer, so
// copies are cheap and independent of any file. Accessors check the type and
// return a Status naming the expected and actual types.
//
// Thread-safety: immutable after construction; safe to read from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cellar {

// GGUF metadata value type ids (on-disk uint32).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

inline constexpr uint32_t kGgufValueTypeCount = 13;

// "uint8", "int32", "float32", "bool", "string", "array", ... or "unknown(<id>)".
std::string GgufValueTypeName(GgufValueType type);

// Bytes of one on-disk scalar of `type` (1, 2, 4 or 8), or 0 for string/array/unknown.
size_t GgufScalarSize(GgufValueType type);

inline bool IsGgufIntegerType(GgufValueType t) {
  switch (t) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return true;
    default:
      return false;
  }
}

class GgufValue {
 public:
  // An empty uint8 array (placeholder; prefer the factories).
  GgufValue();

  // --- Scalars and strings (the string is copied). ---
  static GgufValue FromUint8(uint8_t v);
  static GgufValue FromInt8(int8_t v);
  static GgufValue FromUint16(uint16_t v);
  static GgufValue FromInt16(int16_t v);
  static GgufValue FromUint32(uint32_t v);
  static GgufValue FromInt32(int32_t v);
  static GgufValue FromFloat32(float v);
  static GgufValue FromBool(bool v);
  static GgufValue FromString(std::string_view v);
  static GgufValue FromUint64(uint64_t v);
  static GgufValue FromInt64(int64_t v);
  static GgufValue FromFloat64(double v);
  // A scalar of numeric/bool `type` from its little-endian bit pattern (zero-extended).
  // REQUIRES: GgufScalarSize(type) > 0.
  static GgufValue FromScalarBits(GgufValueType type, uint64_t bits);

  // --- Arrays (elements are copied). ---
  // Numeric/bool array of element type `elem` from `count` little-endian elements in `raw`.
  // Returns an error if `elem` is not a scalar type or raw.size() != count * size.
  static Result<GgufValue> FromRawArray(GgufValueType elem, std::span<const uint8_t> raw);
  static GgufValue FromUint8Array(std::span<const uint8_t> v);
  static GgufValue FromInt8Array(std::span<const int8_t> v);
  static GgufValue FromUint16Array(std::span<const uint16_t> v);
  static GgufValue FromInt16Array(std::span<const int16_t> v);
  static GgufValue FromUint32Array(std::span<const uint32_t> v);
  static GgufValue FromInt32Array(std::span<const int32_t> v);
  static GgufValue FromFloat32Array(std::span<const float> v);
  static GgufValue FromBoolArray(std::span<const bool> v);
  static GgufValue FromUint64Array(std::span<const uint64_t> v);
  static GgufValue FromInt64Array(std::span<const int64_t> v);
  static GgufValue FromFloat64Array(std::span<const double> v);
  static GgufValue FromStringArray(std::span<const std::string> v);
  static GgufValue FromStringArray(std::span<const std::string_view> v);
  // Array of arrays; each item must itself be an array (else an error).
  static Result<GgufValue> FromNestedArray(std::vector<GgufValue> items);
  // An empty array of element type `elem`.
  static GgufValue EmptyArray(GgufValueType elem);

  // A deep copy that owns all its bytes (no views into a file).
  GgufValue Owned() const;

  GgufValueType type() const { return type_; }
  bool is_array() const { return type_ == GgufValueType::kArray; }
  bool is_string() const { return type_ == GgufValueType::kString; }
  bool is_integer() const { return IsGgufIntegerType(type_); }

  // --- Scalar accessors (error if the type does not fit). ---
  // Any integer type whose value is >= 0.
  Result<uint64_t> AsUint() const;
  // Any integer type whose value fits int64.
  Result<int64_t> AsInt() const;
  // float32 or float64.
  Result<double> AsFloat() const;
  Result<bool> AsBool() const;
  Result<std::string_view> AsString() const;
  // The little-endian bit pattern of a numeric/bool scalar (zero-extended). 0 otherwise.
  uint64_t scalar_bits() const { return bits_; }

  // --- Array accessors (meaningful only when is_array()). ---
  GgufValueType array_type() const { return elem_type_; }
  size_t array_size() const { return count_; }
  // Elements of a string array (empty span for other arrays). Views, no copies.
  std::span<const std::string_view> string_array() const { return strings_; }
  // Elements of an array of arrays (empty for other arrays).
  const std::vector<GgufValue>& nested_array() const { return items_; }
  // The little-endian bytes of a numeric/bool array (count * scalar size; may be
  // unaligned). Empty for string and nested arrays.
  std::span<const uint8_t> array_bytes() const { return raw_; }
  // Element `i` of any array as a standalone value (copies a string). REQUIRES: i < size.
  GgufValue ArrayElement(size_t i) const;

  // Array converters (error naming the element type when it does not fit).
  Result<std::vector<int64_t>> ToIntVector() const;         // integer elements fitting int64
  Result<std::vector<float>> ToFloatVector() const;         // float32/float64 elements
  Result<std::vector<std::string>> ToStringVector() const;  // string elements (copies)

  // Short human-readable rendering: scalars as text, strings quoted (truncated after
  // `max_chars`), arrays as "[type x N]" with up to `max_elems` first elements.
  std::string DebugString(size_t max_elems = 8, size_t max_chars = 64) const;

  // Deep equality of type and contents (float bits compared exactly).
  friend bool operator==(const GgufValue& a, const GgufValue& b);

 private:
  friend class GgufValueParser;  // builds views into a file's bytes

  GgufValueType type_ = GgufValueType::kArray;
  uint64_t bits_ = 0;                                // scalar payload
  std::string_view str_;                             // string payload
  GgufValueType elem_type_ = GgufValueType::kUint8;  // array element type
  size_t count_ = 0;                                 // array element count
  std::span<const uint8_t> raw_;                     // numeric/bool array elements
  std::vector<std::string_view> strings_;            // string array elements
  std::vector<GgufValue> items_;                     // nested array elements
  std::shared_ptr<const void> storage_;              // owned bytes (null for file views)
};

}  // namespace cellar
