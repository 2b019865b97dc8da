#include "gguf/gguf_value.h"

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace cellar {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF reader assumes little-endian");

// Sign-extends the low `size` bytes of `bits`.
int64_t SignExtend(uint64_t bits, size_t size) {
  const int shift = 64 - static_cast<int>(size) * 8;
  return static_cast<int64_t>(bits << shift) >> shift;
}

bool IsSigned(GgufValueType t) {
  return t == GgufValueType::kInt8 || t == GgufValueType::kInt16 || t == GgufValueType::kInt32 ||
         t == GgufValueType::kInt64;
}

uint64_t LoadBits(const uint8_t* p, size_t size) {
  uint64_t v = 0;
  std::memcpy(&v, p, size);
  return v;
}

Status TypeError(std::string_view what, GgufValueType actual) {
  return InvalidArgument("expected " + std::string(what) + ", got " + GgufValueTypeName(actual));
}

Status ArrayTypeError(std::string_view what, const GgufValue& v) {
  if (!v.is_array()) return TypeError(std::string("an array of ") + std::string(what), v.type());
  return InvalidArgument("expected an array of " + std::string(what) + ", got an array of " +
                         GgufValueTypeName(v.array_type()));
}

template <typename T>
GgufValue Numeric(GgufValueType type, T v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return GgufValue::FromScalarBits(type, bits);
}

template <typename T>
GgufValue NumericArray(GgufValueType type, std::span<const T> v) {
  std::span<const uint8_t> raw(reinterpret_cast<const uint8_t*>(v.data()), v.size_bytes());
  return *GgufValue::FromRawArray(type, raw);
}

std::string FormatScalar(GgufValueType type, uint64_t bits) {
  char buf[64];
  switch (type) {
    case GgufValueType::kBool:
      return bits ? "true" : "false";
    case GgufValueType::kFloat32: {
      float f;
      uint32_t b = static_cast<uint32_t>(bits);
      std::memcpy(&f, &b, 4);
      std::snprintf(buf, sizeof(buf), "%.9g", f);
      return buf;
    }
    case GgufValueType::kFloat64: {
      double d;
      std::memcpy(&d, &bits, 8);
      std::snprintf(buf, sizeof(buf), "%.17g", d);
      return buf;
    }
    default:
      if (IsSigned(type)) {
        std::snprintf(buf, sizeof(buf), "%" PRId64, SignExtend(bits, GgufScalarSize(type)));
      } else {
        std::snprintf(buf, sizeof(buf), "%" PRIu64, bits);
      }
      return buf;
  }
}

std::string Quote(std::string_view s, size_t max_chars) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : s) {
    if (n++ == max_chars) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "unknown(" + std::to_string(static_cast<uint32_t>(type)) + ")";
}

size_t GgufScalarSize(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

GgufValue::GgufValue() = default;

GgufValue GgufValue::FromScalarBits(GgufValueType type, uint64_t bits) {
  GgufValue v;
  v.type_ = type;
  const size_t size = GgufScalarSize(type);
  v.bits_ = size >= 8 ? bits : (bits & ((uint64_t{1} << (size * 8)) - 1));
  return v;
}

GgufValue GgufValue::FromUint8(uint8_t v) { return Numeric(GgufValueType::kUint8, v); }
GgufValue GgufValue::FromInt8(int8_t v) { return Numeric(GgufValueType::kInt8, v); }
GgufValue GgufValue::FromUint16(uint16_t v) { return Numeric(GgufValueType::kUint16, v); }
GgufValue GgufValue::FromInt16(int16_t v) { return Numeric(GgufValueType::kInt16, v); }
GgufValue GgufValue::FromUint32(uint32_t v) { return Numeric(GgufValueType::kUint32, v); }
GgufValue GgufValue::FromInt32(int32_t v) { return Numeric(GgufValueType::kInt32, v); }
GgufValue GgufValue::FromFloat32(float v) { return Numeric(GgufValueType::kFloat32, v); }
GgufValue GgufValue::FromBool(bool v) { return FromScalarBits(GgufValueType::kBool, v ? 1 : 0); }
GgufValue GgufValue::FromUint64(uint64_t v) { return Numeric(GgufValueType::kUint64, v); }
GgufValue GgufValue::FromInt64(int64_t v) { return Numeric(GgufValueType::kInt64, v); }
GgufValue GgufValue::FromFloat64(double v) { return Numeric(GgufValueType::kFloat64, v); }

GgufValue GgufValue::FromString(std::string_view s) {
  auto buf = std::make_shared<const std::string>(s);
  GgufValue v;
  v.type_ = GgufValueType::kString;
  v.str_ = *buf;
  v.storage_ = std::move(buf);
  return v;
}

Result<GgufValue> GgufValue::FromRawArray(GgufValueType elem, std::span<const uint8_t> raw) {
  const size_t size = GgufScalarSize(elem);
  if (size == 0) {
    return InvalidArgument("array element type " + GgufValueTypeName(elem) + " is not a scalar");
  }
  if (raw.size() % size != 0) {
    return InvalidArgument("array of " + GgufValueTypeName(elem) + ": " +
                           std::to_string(raw.size()) + " bytes is not a whole number of elements");
  }
  auto buf =
      std::make_shared<const std::string>(reinterpret_cast<const char*>(raw.data()), raw.size());
  GgufValue v;
  v.type_ = GgufValueType::kArray;
  v.elem_type_ = elem;
  v.count_ = raw.size() / size;
  v.raw_ = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf->data()), buf->size());
  v.storage_ = std::move(buf);
  return v;
}

GgufValue GgufValue::FromUint8Array(std::span<const uint8_t> v) {
  return NumericArray(GgufValueType::kUint8, v);
}
GgufValue GgufValue::FromInt8Array(std::span<const int8_t> v) {
  return NumericArray(GgufValueType::kInt8, v);
}
GgufValue GgufValue::FromUint16Array(std::span<const uint16_t> v) {
  return NumericArray(GgufValueType::kUint16, v);
}
GgufValue GgufValue::FromInt16Array(std::span<const int16_t> v) {
  return NumericArray(GgufValueType::kInt16, v);
}
GgufValue GgufValue::FromUint32Array(std::span<const uint32_t> v) {
  return NumericArray(GgufValueType::kUint32, v);
}
GgufValue GgufValue::FromInt32Array(std::span<const int32_t> v) {
  return NumericArray(GgufValueType::kInt32, v);
}
GgufValue GgufValue::FromFloat32Array(std::span<const float> v) {
  return NumericArray(GgufValueType::kFloat32, v);
}
GgufValue GgufValue::FromUint64Array(std::span<const uint64_t> v) {
  return NumericArray(GgufValueType::kUint64, v);
}
GgufValue GgufValue::FromInt64Array(std::span<const int64_t> v) {
  return NumericArray(GgufValueType::kInt64, v);
}
GgufValue GgufValue::FromFloat64Array(std::span<const double> v) {
  return NumericArray(GgufValueType::kFloat64, v);
}
GgufValue GgufValue::FromBoolArray(std::span<const bool> v) {
  std::vector<uint8_t> bytes(v.size());
  for (size_t i = 0; i < v.size(); ++i) bytes[i] = v[i] ? 1 : 0;
  return *FromRawArray(GgufValueType::kBool, bytes);
}

GgufValue GgufValue::FromStringArray(std::span<const std::string_view> v) {
  size_t total = 0;
  for (std::string_view s : v) total += s.size();
  auto buf = std::make_shared<std::string>();
  buf->reserve(total);
  for (std::string_view s : v) buf->append(s);
  GgufValue out;
  out.type_ = GgufValueType::kArray;
  out.elem_type_ = GgufValueType::kString;
  out.count_ = v.size();
  out.strings_.reserve(v.size());
  size_t pos = 0;
  for (std::string_view s : v) {
    out.strings_.emplace_back(buf->data() + pos, s.size());
    pos += s.size();
  }
  out.storage_ = std::move(buf);
  return out;
}

GgufValue GgufValue::FromStringArray(std::span<const std::string> v) {
  std::vector<std::string_view> views(v.begin(), v.end());
  return FromStringArray(std::span<const std::string_view>(views));
}

Result<GgufValue> GgufValue::FromNestedArray(std::vector<GgufValue> items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_array()) {
      return InvalidArgument("nested array item " + std::to_string(i) + " is a " +
                             GgufValueTypeName(items[i].type()) + ", not an array");
    }
  }
  GgufValue out;
  out.type_ = GgufValueType::kArray;
  out.elem_type_ = GgufValueType::kArray;
  out.count_ = items.size();
  out.items_ = std::move(items);
  return out;
}

GgufValue GgufValue::EmptyArray(GgufValueType elem) {
  GgufValue out;
  out.type_ = GgufValueType::kArray;
  out.elem_type_ = elem;
  return out;
}

GgufValue GgufValue::Owned() const {
  switch (type_) {
    case GgufValueType::kString:
      return FromString(str_);
    case GgufValueType::kArray:
      if (elem_type_ == GgufValueType::kString) return FromStringArray(strings_);
      if (elem_type_ == GgufValueType::kArray) {
        std::vector<GgufValue> items;
        items.reserve(items_.size());
        for (const GgufValue& item : items_) items.push_back(item.Owned());
        return *FromNestedArray(std::move(items));
      }
      return *FromRawArray(elem_type_, raw_);
    default:
      return *this;
  }
}

Result<uint64_t> GgufValue::AsUint() const {
  if (!is_integer()) return TypeError("an integer", type_);
  if (IsSigned(type_)) {
    const int64_t s = SignExtend(bits_, GgufScalarSize(type_));
    if (s < 0) return InvalidArgument("expected a non-negative integer, got " + std::to_string(s));
    return static_cast<uint64_t>(s);
  }
  return bits_;
}

Result<int64_t> GgufValue::AsInt() const {
  if (!is_integer()) return TypeError("an integer", type_);
  if (IsSigned(type_)) return SignExtend(bits_, GgufScalarSize(type_));
  if (bits_ > static_cast<uint64_t>(INT64_MAX)) {
    return InvalidArgument("integer " + std::to_string(bits_) + " does not fit int64");
  }
  return static_cast<int64_t>(bits_);
}

Result<double> GgufValue::AsFloat() const {
  if (type_ == GgufValueType::kFloat32) {
    float f;
    const uint32_t b = static_cast<uint32_t>(bits_);
    std::memcpy(&f, &b, 4);
    return static_cast<double>(f);
  }
  if (type_ == GgufValueType::kFloat64) {
    double d;
    std::memcpy(&d, &bits_, 8);
    return d;
  }
  return TypeError("a float", type_);
}

Result<bool> GgufValue::AsBool() const {
  if (type_ != GgufValueType::kBool) return TypeError("a bool", type_);
  return bits_ != 0;
}

Result<std::string_view> GgufValue::AsString() const {
  if (type_ != GgufValueType::kString) return TypeError("a string", type_);
  return str_;
}

GgufValue GgufValue::ArrayElement(size_t i) const {
  if (elem_type_ == GgufValueType::kString) return FromString(strings_[i]);
  if (elem_type_ == GgufValueType::kArray) return items_[i];
  const size_t size = GgufScalarSize(elem_type_);
  return FromScalarBits(elem_type_, LoadBits(raw_.data() + i * size, size));
}

Result<std::vector<int64_t>> GgufValue::ToIntVector() const {
  if (!is_array() || !IsGgufIntegerType(elem_type_)) return ArrayTypeError("integers", *this);
  const size_t size = GgufScalarSize(elem_type_);
  std::vector<int64_t> out(count_);
  for (size_t i = 0; i < count_; ++i) {
    const uint64_t bits = LoadBits(raw_.data() + i * size, size);
    if (IsSigned(elem_type_)) {
      out[i] = SignExtend(bits, size);
    } else if (bits > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgument("array element " + std::to_string(i) + " (" + std::to_string(bits) +
                             ") does not fit int64");
    } else {
      out[i] = static_cast<int64_t>(bits);
    }
  }
  return out;
}

Result<std::vector<float>> GgufValue::ToFloatVector() const {
  if (!is_array() ||
      (elem_type_ != GgufValueType::kFloat32 && elem_type_ != GgufValueType::kFloat64)) {
    return ArrayTypeError("floats", *this);
  }
  std::vector<float> out(count_);
  for (size_t i = 0; i < count_; ++i) {
    if (elem_type_ == GgufValueType::kFloat32) {
      std::memcpy(&out[i], raw_.data() + i * 4, 4);
    } else {
      double d;
      std::memcpy(&d, raw_.data() + i * 8, 8);
      out[i] = static_cast<float>(d);
    }
  }
  return out;
}

Result<std::vector<std::string>> GgufValue::ToStringVector() const {
  if (!is_array() || elem_type_ != GgufValueType::kString) return ArrayTypeError("strings", *this);
  return std::vector<std::string>(strings_.begin(), strings_.end());
}

std::string GgufValue::DebugString(size_t max_elems, size_t max_chars) const {
  if (type_ == GgufValueType::kString) return Quote(str_, max_chars);
  if (!is_array()) return FormatScalar(type_, bits_);
  std::string out = "[" + GgufValueTypeName(elem_type_) + " x " + std::to_string(count_);
  if (count_ > 0 && max_elems > 0) {
    out += ": ";
    for (size_t i = 0; i < count_ && i < max_elems; ++i) {
      if (i > 0) out += ", ";
      out += ArrayElement(i).DebugString(max_elems, max_chars);
    }
    if (count_ > max_elems) out += ", ...";
  }
  return out + "]";
}

bool operator==(const GgufValue& a, const GgufValue& b) {
  if (a.type_ != b.type_) return false;
  if (a.type_ == GgufValueType::kString) return a.str_ == b.str_;
  if (!a.is_array()) return a.bits_ == b.bits_;
  if (a.elem_type_ != b.elem_type_ || a.count_ != b.count_) return false;
  if (a.elem_type_ == GgufValueType::kString) {
    return std::equal(a.strings_.begin(), a.strings_.end(), b.strings_.begin());
  }
  if (a.elem_type_ == GgufValueType::kArray) {
    return std::equal(a.items_.begin(), a.items_.end(), b.items_.begin());
  }
  return a.raw_.size() == b.raw_.size() &&
         (a.raw_.empty() || std::memcmp(a.raw_.data(), b.raw_.data(), a.raw_.size()) == 0);
}

}  // namespace cellar
