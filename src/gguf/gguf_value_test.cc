// GgufValue: typed accessors, conversions, rendering, ownership and equality.
#include "gguf/gguf_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

namespace cellar {
namespace {

TEST(GgufValueTest, IntegerAccessorsSignExtendAndCheckRange) {
  EXPECT_EQ(*GgufValue::FromInt8(-1).AsInt(), -1);
  EXPECT_EQ(GgufValue::FromInt8(-1).scalar_bits(), 0xffu);
  EXPECT_FALSE(GgufValue::FromInt8(-1).AsUint().ok());
  EXPECT_EQ(*GgufValue::FromInt16(-300).AsInt(), -300);
  EXPECT_EQ(*GgufValue::FromInt32(-70000).AsInt(), -70000);
  EXPECT_EQ(*GgufValue::FromInt64(std::numeric_limits<int64_t>::min()).AsInt(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*GgufValue::FromUint8(255).AsUint(), 255u);
  EXPECT_EQ(*GgufValue::FromUint32(0xffffffffu).AsInt(), 0xffffffffll);
  auto big = GgufValue::FromUint64(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*big.AsUint(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(big.AsInt().status().message(), "integer 18446744073709551615 does not fit int64");
  EXPECT_EQ(*GgufValue::FromInt32(7).AsUint(), 7u);
}

TEST(GgufValueTest, TypeErrorsNameBothTypes) {
  EXPECT_EQ(GgufValue::FromFloat32(1).AsUint().status().message(),
            "expected an integer, got float32");
  EXPECT_EQ(GgufValue::FromUint8(1).AsFloat().status().message(), "expected a float, got uint8");
  EXPECT_EQ(GgufValue::FromUint8(1).AsBool().status().message(), "expected a bool, got uint8");
  EXPECT_EQ(GgufValue::FromBool(true).AsString().status().message(), "expected a string, got bool");
  const std::vector<int32_t> ints{1};
  EXPECT_EQ(GgufValue::FromInt32Array(ints).ToFloatVector().status().message(),
            "expected an array of floats, got an array of int32");
  EXPECT_EQ(GgufValue::FromString("x").ToStringVector().status().message(),
            "expected an array of strings, got string");
  EXPECT_EQ(GgufValueTypeName(static_cast<GgufValueType>(99)), "unknown(99)");
}

TEST(GgufValueTest, FloatsAndArrays) {
  EXPECT_EQ(*GgufValue::FromFloat32(0.1f).AsFloat(), static_cast<double>(0.1f));
  EXPECT_EQ(*GgufValue::FromFloat64(0.1).AsFloat(), 0.1);
  const std::vector<double> d{1.5, -2.0};
  EXPECT_EQ(*GgufValue::FromFloat64Array(d).ToFloatVector(), (std::vector<float>{1.5f, -2.0f}));
  const std::vector<uint64_t> u{1, std::numeric_limits<uint64_t>::max()};
  EXPECT_EQ(GgufValue::FromUint64Array(u).ToIntVector().status().message(),
            "array element 1 (18446744073709551615) does not fit int64");
  const std::vector<int16_t> s{-1, 2};
  auto arr = GgufValue::FromInt16Array(s);
  EXPECT_EQ(arr.array_size(), 2u);
  EXPECT_EQ(arr.array_bytes().size(), 4u);
  EXPECT_EQ(*arr.ArrayElement(0).AsInt(), -1);
  EXPECT_EQ(arr.ArrayElement(1).type(), GgufValueType::kInt16);
  EXPECT_FALSE(GgufValue::FromRawArray(GgufValueType::kUint32, std::vector<uint8_t>(3)).ok());
  EXPECT_FALSE(GgufValue::FromRawArray(GgufValueType::kString, {}).ok());
  EXPECT_EQ(GgufValue::FromNestedArray({GgufValue::FromUint8(1)}).status().message(),
            "nested array item 0 is a uint8, not an array");
}

TEST(GgufValueTest, DebugString) {
  EXPECT_EQ(GgufValue::FromInt8(-5).DebugString(), "-5");
  EXPECT_EQ(GgufValue::FromUint64(7).DebugString(), "7");
  EXPECT_EQ(GgufValue::FromFloat32(0.5f).DebugString(), "0.5");
  EXPECT_EQ(GgufValue::FromBool(false).DebugString(), "false");
  EXPECT_EQ(GgufValue::FromString("a\"b\n\x01").DebugString(), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(GgufValue::FromString("abcdef").DebugString(8, 3), "\"abc...\"");
  const std::vector<int32_t> v{1, 2, 3};
  EXPECT_EQ(GgufValue::FromInt32Array(v).DebugString(2), "[int32 x 3: 1, 2, ...]");
  EXPECT_EQ(GgufValue::EmptyArray(GgufValueType::kString).DebugString(), "[string x 0]");
  const std::vector<std::string> s{"x"};
  auto nested = *GgufValue::FromNestedArray({GgufValue::FromStringArray(s)});
  EXPECT_EQ(nested.DebugString(), "[array x 1: [string x 1: \"x\"]]");
}

TEST(GgufValueTest, EqualityComparesBitsAndStructure) {
  EXPECT_TRUE(GgufValue::FromFloat32(NAN) == GgufValue::FromFloat32(NAN));
  EXPECT_FALSE(GgufValue::FromFloat32(0.0f) == GgufValue::FromFloat32(-0.0f));
  EXPECT_FALSE(GgufValue::FromUint32(1) == GgufValue::FromInt32(1));
  const std::vector<std::string> a{"a", "b"}, b{"a", "c"};
  EXPECT_TRUE(GgufValue::FromStringArray(a) == GgufValue::FromStringArray(a));
  EXPECT_FALSE(GgufValue::FromStringArray(a) == GgufValue::FromStringArray(b));
  EXPECT_FALSE(GgufValue::EmptyArray(GgufValueType::kUint8) ==
               GgufValue::EmptyArray(GgufValueType::kInt8));
}

TEST(GgufValueTest, OwnedOutlivesTheFile) {
  GgufWriter w;
  const std::vector<std::string> toks{"hello", "world"};
  w.SetStringArray("toks", toks);
  w.SetString("s", "text");
  const std::vector<float> f{1, 2};
  std::vector<GgufValue> items{GgufValue::FromFloat32Array(f)};
  w.Set("n", *GgufValue::FromNestedArray(items));
  auto bytes = std::make_unique<std::vector<uint8_t>>(*w.WriteToBytes());
  auto file = GgufFile::Parse(*bytes);
  ASSERT_TRUE(file.ok());
  const GgufValue toks_owned = (*file)->Find("toks")->Owned();
  const GgufValue s_owned = (*file)->Find("s")->Owned();
  const GgufValue n_owned = (*file)->Find("n")->Owned();
  file->reset();
  bytes.reset();  // ASan would flag any view left into the freed bytes
  EXPECT_EQ(toks_owned.string_array()[1], "world");
  EXPECT_EQ(*s_owned.AsString(), "text");
  EXPECT_EQ(*n_owned.nested_array()[0].ToFloatVector(), f);
  const GgufValue copy = toks_owned;  // copies share the owned buffer
  EXPECT_TRUE(copy == toks_owned);
}

}  // namespace
}  // namespace cellar
