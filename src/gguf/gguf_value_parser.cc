#include "gguf/gguf_value_parser.h"

#include <string>

#include "gguf/gguf_file.h"

namespace cellar {
namespace {

std::string At(size_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace

Result<GgufValue> GgufValueParser::Parse(GgufByteReader& in, uint32_t type_id, size_t type_at,
                                         std::string_view what) {
  if (type_id >= kGgufValueTypeCount) {
    return InvalidArgument(std::string(what) + ": unknown value type " + std::to_string(type_id) +
                           At(type_at));
  }
  const auto type = static_cast<GgufValueType>(type_id);
  if (type == GgufValueType::kString) {
    CELLAR_ASSIGN_OR_RETURN(std::string_view s, in.ReadString(what));
    GgufValue v;
    v.type_ = GgufValueType::kString;
    v.str_ = s;
    return v;
  }
  if (type == GgufValueType::kArray) return ParseArray(in, what, 0);
  const size_t size = GgufScalarSize(type);
  const size_t start = in.offset();
  CELLAR_ASSIGN_OR_RETURN(std::span<const uint8_t> b, in.ReadBytes(size, what));
  uint64_t bits = 0;
  std::memcpy(&bits, b.data(), size);
  if (type == GgufValueType::kBool && bits > 1) {
    return InvalidArgument(std::string(what) + ": bool byte is " + std::to_string(bits) +
                           " (must be 0 or 1)" + At(start));
  }
  return GgufValue::FromScalarBits(type, bits);
}

Result<GgufValue> GgufValueParser::ParseArray(GgufByteReader& in, std::string_view what,
                                              int depth) {
  const size_t start = in.offset();
  if (depth >= kGgufMaxArrayDepth) {
    return InvalidArgument(std::string(what) + ": arrays nested deeper than " +
                           std::to_string(kGgufMaxArrayDepth) + " levels" + At(start));
  }
  CELLAR_ASSIGN_OR_RETURN(uint32_t elem_id, in.Read<uint32_t>(std::string(what) + " array type"));
  if (elem_id >= kGgufValueTypeCount) {
    return InvalidArgument(std::string(what) + ": unknown array element type " +
                           std::to_string(elem_id) + At(start));
  }
  const auto elem = static_cast<GgufValueType>(elem_id);
  CELLAR_ASSIGN_OR_RETURN(uint64_t count, in.Read<uint64_t>(std::string(what) + " array count"));
  // The smallest encoding of one element; bounds the count by the bytes left so no
  // allocation below can exceed a small multiple of the file size.
  size_t min_elem = GgufScalarSize(elem);
  if (elem == GgufValueType::kString) min_elem = 8;
  if (elem == GgufValueType::kArray) min_elem = 12;
  if (count > in.remaining() / min_elem) {
    return OutOfRange(std::string(what) + ": array of " + std::to_string(count) + " " +
                      GgufValueTypeName(elem) + " elements" + At(start) +
                      " runs past the end of the file (" + std::to_string(in.remaining()) +
                      " bytes remain)");
  }
  GgufValue v;
  v.type_ = GgufValueType::kArray;
  v.elem_type_ = elem;
  v.count_ = static_cast<size_t>(count);
  if (elem == GgufValueType::kString) {
    v.strings_.reserve(v.count_);
    for (size_t i = 0; i < v.count_; ++i) {
      Result<std::string_view> s = in.ReadString("string");
      if (!s.ok()) return s.status().WithContext(std::string(what) + "[" + std::to_string(i) + "]");
      v.strings_.push_back(*s);
    }
  } else if (elem == GgufValueType::kArray) {
    v.items_.reserve(v.count_);
    for (size_t i = 0; i < v.count_; ++i) {
      CELLAR_ASSIGN_OR_RETURN(
          GgufValue item,
          ParseArray(in, std::string(what) + "[" + std::to_string(i) + "]", depth + 1));
      v.items_.push_back(std::move(item));
    }
  } else {
    CELLAR_ASSIGN_OR_RETURN(v.raw_, in.ReadBytes(count * min_elem, what));
    if (elem == GgufValueType::kBool) {
      for (size_t i = 0; i < v.count_; ++i) {
        if (v.raw_[i] > 1) {
          return InvalidArgument(std::string(what) + "[" + std::to_string(i) + "]: bool byte is " +
                                 std::to_string(v.raw_[i]) + " (must be 0 or 1)" +
                                 At(in.offset() - v.count_ + i));
        }
      }
    }
  }
  return v;
}

}  // namespace cellar
