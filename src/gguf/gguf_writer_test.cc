// Writer -> reader round trips: every value type, nested arrays, alignments, versions.
#include "gguf/gguf_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "base/testing/shared_data.h"
#include "gguf/gguf_copy.h"
#include "gguf/gguf_file.h"

namespace cellar {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
  return out;
}

// Writes every value type into `w` and returns the expected metadata.
void SetEveryType(GgufWriter& w) {
  w.SetUint8("t.u8", 200);
  w.SetInt8("t.i8", -100);
  w.SetUint16("t.u16", 60000);
  w.SetInt16("t.i16", -30000);
  w.SetUint32("t.u32", 4000000000u);
  w.SetInt32("t.i32", -2000000000);
  w.SetFloat32("t.f32", 1.5f);
  w.SetBool("t.bool", true);
  w.SetString("t.str", std::string("h\xc3\xa9llo\0x", 8));
  w.SetUint64("t.u64", std::numeric_limits<uint64_t>::max());
  w.SetInt64("t.i64", std::numeric_limits<int64_t>::min());
  w.SetFloat64("t.f64", -2.25e300);
  const std::vector<uint8_t> u8{1, 2, 255};
  w.Set("a.u8", GgufValue::FromUint8Array(u8));
  const std::vector<int8_t> i8{-1, 0, 127};
  w.Set("a.i8", GgufValue::FromInt8Array(i8));
  const std::vector<uint16_t> u16{0, 65535};
  w.Set("a.u16", GgufValue::FromUint16Array(u16));
  const std::vector<int16_t> i16{-32768, 5};
  w.Set("a.i16", GgufValue::FromInt16Array(i16));
  const std::vector<uint32_t> u32{7, 4294967295u};
  w.Set("a.u32", GgufValue::FromUint32Array(u32));
  const std::vector<int32_t> i32{-7, 2147483647};
  w.SetInt32Array("a.i32", i32);
  const std::vector<float> f32{0.25f, -1e30f, std::numeric_limits<float>::infinity()};
  w.SetFloat32Array("a.f32", f32);
  const bool bools[] = {true, false, true};
  w.Set("a.bool", GgufValue::FromBoolArray(bools));
  const std::vector<std::string> strs{"", "a", std::string(300, 'z'), "\xe2\x96\x81tok"};
  w.SetStringArray("a.str", strs);
  const std::vector<uint64_t> u64{1ull << 63};
  w.Set("a.u64", GgufValue::FromUint64Array(u64));
  const std::vector<int64_t> i64{-5, 1ll << 62};
  w.Set("a.i64", GgufValue::FromInt64Array(i64));
  const std::vector<double> f64{3.5, -0.0};
  w.Set("a.f64", GgufValue::FromFloat64Array(f64));
  w.Set("a.empty", GgufValue::EmptyArray(GgufValueType::kString));
  // [[1, 2], ["x"], [[true], []]] — nested arrays with mixed element types.
  std::vector<GgufValue> inner;
  inner.push_back(*GgufValue::FromNestedArray(
      {GgufValue::FromBoolArray(bools), GgufValue::EmptyArray(GgufValueType::kFloat32)}));
  const std::vector<std::string> x{"x"};
  std::vector<GgufValue> items{GgufValue::FromUint32Array(u32), GgufValue::FromStringArray(x),
                               inner[0]};
  w.Set("a.nested", *GgufValue::FromNestedArray(items));
}

TEST(GgufWriterTest, RoundTripsEveryValueTypeBothVersions) {
  for (uint32_t version : {2u, 3u}) {
    GgufWriter w(GgufWriterOptions{.version = version});
    SetEveryType(w);
    auto bytes = w.WriteToBytes();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto file = GgufFile::Parse(*bytes);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const GgufFile& f = **file;
    EXPECT_EQ(f.version(), version);
    ASSERT_EQ(f.metadata().size(), w.metadata().size());
    for (size_t i = 0; i < w.metadata().size(); ++i) {
      EXPECT_EQ(f.metadata()[i].first, w.metadata()[i].first);
      EXPECT_TRUE(f.metadata()[i].second == w.metadata()[i].second)
          << f.metadata()[i].first << ": " << f.metadata()[i].second.DebugString() << " vs "
          << w.metadata()[i].second.DebugString();
    }
    // Typed getters see the right values.
    EXPECT_EQ(*f.GetUint("t.u8"), 200u);
    EXPECT_EQ(*f.GetInt("t.i8"), -100);
    EXPECT_EQ(*f.GetUint("t.u16"), 60000u);
    EXPECT_EQ(*f.GetInt("t.i16"), -30000);
    EXPECT_EQ(*f.GetUint("t.u32"), 4000000000u);
    EXPECT_EQ(*f.GetInt("t.i32"), -2000000000);
    EXPECT_EQ(*f.GetFloat("t.f32"), 1.5);
    EXPECT_EQ(*f.GetBool("t.bool"), true);
    EXPECT_EQ(*f.GetString("t.str"), std::string("h\xc3\xa9llo\0x", 8));
    EXPECT_EQ(*f.GetUint("t.u64"), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(*f.GetInt("t.i64"), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(*f.GetFloat("t.f64"), -2.25e300);
    EXPECT_EQ(*f.GetIntArray("a.i8"), (std::vector<int64_t>{-1, 0, 127}));
    EXPECT_EQ(*f.GetIntArray("a.u32"), (std::vector<int64_t>{7, 4294967295ll}));
    EXPECT_EQ(*f.GetFloatArray("a.f32"),
              (std::vector<float>{0.25f, -1e30f, std::numeric_limits<float>::infinity()}));
    EXPECT_EQ(*f.GetFloatArray("a.f64"), (std::vector<float>{3.5f, -0.0f}));
    EXPECT_EQ(*f.GetStringArray("a.str"),
              (std::vector<std::string>{"", "a", std::string(300, 'z'), "\xe2\x96\x81tok"}));
    auto view = f.GetStringArrayView("a.str");
    ASSERT_TRUE(view.ok());
    ASSERT_EQ(view->size(), 4u);
    EXPECT_EQ((*view)[3], "\xe2\x96\x81tok");
    // The view points into the parsed bytes (no copy).
    EXPECT_GE(reinterpret_cast<const uint8_t*>((*view)[2].data()), bytes->data());
    EXPECT_LT(reinterpret_cast<const uint8_t*>((*view)[2].data()), bytes->data() + bytes->size());
    EXPECT_EQ(f.GetStringArray("a.empty")->size(), 0u);
    const GgufValue* nested = f.Find("a.nested");
    ASSERT_NE(nested, nullptr);
    ASSERT_EQ(nested->array_type(), GgufValueType::kArray);
    ASSERT_EQ(nested->nested_array().size(), 3u);
    EXPECT_EQ(nested->nested_array()[1].string_array()[0], "x");
    const GgufValue& deep = nested->nested_array()[2];
    ASSERT_EQ(deep.nested_array().size(), 2u);
    EXPECT_EQ(deep.nested_array()[0].array_type(), GgufValueType::kBool);
    EXPECT_EQ(*deep.nested_array()[0].ArrayElement(2).AsBool(), true);
    EXPECT_EQ(deep.nested_array()[1].array_type(), GgufValueType::kFloat32);
    EXPECT_EQ(deep.nested_array()[1].array_size(), 0u);
  }
}

TEST(GgufWriterTest, GettersNameTheKeyOnMissingOrWrongType) {
  GgufWriter w;
  w.SetString("s", "v");
  w.SetInt32("neg", -1);
  w.SetFloat32("f", 2.0f);
  auto bytes = w.WriteToBytes();
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::Parse(*bytes);
  ASSERT_TRUE(file.ok());
  const GgufFile& f = **file;
  auto missing = f.GetUint("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  auto wrong = f.GetUint("s");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(), "key 's': expected an integer, got string");
  auto neg = f.GetUint("neg");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("non-negative"), std::string::npos);
  EXPECT_EQ(*f.GetInt("neg"), -1);
  EXPECT_FALSE(f.GetString("f").ok());
  EXPECT_FALSE(f.GetFloatArray("f").ok());
  EXPECT_EQ(*f.GetUintOr("absent", 7), 7u);
  EXPECT_EQ(*f.GetStringOr("absent", "d"), "d");
  EXPECT_EQ(*f.GetFloatOr("f", 1.0), 2.0);
  EXPECT_FALSE(f.GetBoolOr("s", true).ok());  // present with the wrong type
  EXPECT_EQ(f.architecture(), "");
}

TEST(GgufWriterTest, TensorsRoundTripWithEveryAlignment) {
  for (uint64_t align : {1u, 8u, 32u, 64u, 4096u}) {
    GgufWriter w;
    if (align != 32) {
      ASSERT_TRUE(w.SetAlignment(align).ok());
    }
    w.SetString("general.architecture", "llama");
    const auto a = Bytes(4 * 3 * 2, 1);  // f32 [3, 2]
    const auto b = Bytes(34 * 2, 2);     // q8_0 [64]
    const auto c = Bytes(144, 3);        // q4_K [256]
    ASSERT_TRUE(w.AddTensor("a", GgmlType::kF32, {3, 2}, a).ok());
    ASSERT_TRUE(w.AddTensorView("b", GgmlType::kQ8_0, {64}, b).ok());
    ASSERT_TRUE(w.AddTensor("c", GgmlType::kQ4_K, {256, 1, 1, 1}, c).ok());
    auto bytes = w.WriteToBytes();
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes->size() % align, 0u);
    auto file = GgufFile::Parse(*bytes);
    ASSERT_TRUE(file.ok()) << align << ": " << file.status().ToString();
    const GgufFile& f = **file;
    EXPECT_EQ(f.alignment(), align);
    EXPECT_EQ(f.data_offset() % align, 0u);
    EXPECT_EQ(f.architecture(), "llama");
    EXPECT_EQ(f.ArchKey("block_count"), "llama.block_count");
    ASSERT_EQ(f.tensors().size(), 3u);
    const GgufTensorInfo* ta = f.FindTensor("a");
    ASSERT_NE(ta, nullptr);
    EXPECT_EQ(ta->dims, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(ta->n_elements, 6);
    EXPECT_EQ(ta->n_bytes, 24);
    EXPECT_EQ(ta->n_rows(), 2);
    EXPECT_EQ(ta->dim(3), 1);
    EXPECT_TRUE(std::equal(ta->data.begin(), ta->data.end(), a.begin(), a.end()));
    const GgufTensorInfo* tb = f.FindTensor("b");
    EXPECT_EQ(tb->type, GgmlType::kQ8_0);
    EXPECT_EQ(tb->offset % align, 0u);
    EXPECT_TRUE(std::equal(tb->data.begin(), tb->data.end(), b.begin(), b.end()));
    const GgufTensorInfo* tc = f.FindTensor("c");
    EXPECT_EQ(tc->dims.size(), 4u);
    EXPECT_TRUE(std::equal(tc->data.begin(), tc->data.end(), c.begin(), c.end()));
    EXPECT_EQ(f.FindTensor("d"), nullptr);
  }
}

TEST(GgufWriterTest, WriteToFileMatchesWriteToBytes) {
  testing::TempDir dir;
  GgufWriter w;
  ASSERT_TRUE(w.SetAlignment(64).ok());
  w.SetString("k", "v");
  const auto a = Bytes(100 * 2, 9);
  ASSERT_TRUE(w.AddTensor("a", GgmlType::kF16, {100}, a).ok());
  ASSERT_TRUE(w.AddTensor("z", GgmlType::kF32, {0}, {}).ok());
  const std::string path = (dir.path() / "out.gguf").string();
  ASSERT_TRUE(w.WriteToFile(path).ok());
  auto bytes = w.WriteToBytes();
  ASSERT_TRUE(bytes.ok());
  const std::string on_disk = testing::ReadFileToString(path);
  ASSERT_EQ(on_disk.size(), bytes->size());
  EXPECT_EQ(std::memcmp(on_disk.data(), bytes->data(), bytes->size()), 0);
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->FindTensor("z")->n_bytes, 0);
  EXPECT_EQ((*file)->FindTensor("z")->n_rows(), 1);
  // No temp file is left behind.
  size_t n_files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++n_files;
  EXPECT_EQ(n_files, 1u);
  // A path in a missing folder is an error, not a crash.
  EXPECT_FALSE(w.WriteToFile((dir.path() / "no" / "x.gguf").string()).ok());
}

TEST(GgufWriterTest, RejectsBadTensorsAndSettings) {
  GgufWriter w;
  const auto d = Bytes(64, 0);
  EXPECT_TRUE(w.AddTensor("x", GgmlType::kF32, {16}, d).ok());
  Status dup = w.AddTensor("x", GgmlType::kF32, {16}, d);
  EXPECT_EQ(dup.message(), "duplicate tensor 'x'");
  Status size = w.AddTensor("y", GgmlType::kF32, {15}, d);
  EXPECT_EQ(size.message(), "tensor 'y': 64 bytes of data, shape needs 60");
  Status block = w.AddTensor("q", GgmlType::kQ4_0, {16}, d);
  EXPECT_EQ(block.message(),
            "tensor 'q': row length 16 is not a multiple of the q4_0 block size 32");
  EXPECT_FALSE(w.AddTensor("dims", GgmlType::kF32, {1, 1, 1, 1, 16}, d).ok());
  EXPECT_FALSE(w.AddTensor("neg", GgmlType::kF32, {-16}, d).ok());
  EXPECT_FALSE(w.AddTensor("t", static_cast<GgmlType>(4), {16}, d).ok());
  EXPECT_FALSE(w.SetAlignment(48).ok());
  EXPECT_FALSE(w.SetAlignment(0).ok());
  w.SetUint32(kGgufAlignmentKey, 24);  // invalid alignment set by hand
  EXPECT_FALSE(w.WriteToBytes().ok());
  GgufWriter v4(GgufWriterOptions{.version = 4});
  EXPECT_FALSE(v4.WriteToBytes().ok());
}

TEST(GgufWriterTest, SetReplacesInPlaceAndRemove) {
  GgufWriter w;
  w.SetUint32("a", 1);
  w.SetUint32("b", 2);
  w.SetString("a", "x");
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].first, "a");
  EXPECT_EQ(*w.Find("a")->AsString(), "x");
  EXPECT_TRUE(w.Remove("a"));
  EXPECT_FALSE(w.Remove("a"));
  EXPECT_EQ(w.metadata().size(), 1u);
}

TEST(GgufWriterTest, CopyContentsWithPrefixesAndTensors) {
  GgufWriter src_w;
  src_w.SetString("general.architecture", "llama");
  src_w.SetUint32("llama.block_count", 2);
  const std::vector<std::string> toks{"a", "b"};
  src_w.SetStringArray("tokenizer.ggml.tokens", toks);
  src_w.SetString("tokenizer.ggml.model", "gpt2");
  const auto d = Bytes(8, 4);
  ASSERT_TRUE(src_w.AddTensor("t", GgmlType::kI8, {8}, d).ok());
  auto src_bytes = src_w.WriteToBytes();
  ASSERT_TRUE(src_bytes.ok());
  auto src = GgufFile::Parse(*src_bytes);
  ASSERT_TRUE(src.ok());

  GgufWriter only_tok;
  only_tok.SetString("tokenizer.ggml.model", "llama");  // replaced by the copy
  ASSERT_TRUE(
      CopyGgufContents(**src, only_tok, GgufCopyOptions{.key_prefixes = {"tokenizer."}}).ok());
  ASSERT_EQ(only_tok.metadata().size(), 2u);
  EXPECT_EQ(*only_tok.Find("tokenizer.ggml.model")->AsString(), "gpt2");
  EXPECT_EQ(only_tok.n_tensors(), 0u);

  for (bool views : {true, false}) {
    GgufWriter all;
    ASSERT_TRUE(
        CopyGgufContents(**src, all, GgufCopyOptions{.copy_tensors = true, .tensor_views = views})
            .ok());
    auto out = all.WriteToBytes();
    ASSERT_TRUE(out.ok());
    // Same metadata and tensors give the same bytes.
    EXPECT_EQ(*out, *src_bytes);
  }
}

TEST(GgufWriterTest, RewritesSharedFilesByteForByte) {
  CELLAR_REQUIRE_SHARED(path, "models/stories260K.gguf");
  auto src = GgufFile::Open(path.string());
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  GgufWriter w;
  ASSERT_TRUE(CopyGgufContents(**src, w, GgufCopyOptions{.copy_tensors = true}).ok());
  auto out = w.WriteToBytes();
  ASSERT_TRUE(out.ok());
  // gguf-py wrote it with the same layout, so a copy reproduces it exactly.
  std::span<const uint8_t> orig = (*src)->bytes();
  ASSERT_EQ(out->size(), orig.size());
  EXPECT_TRUE(std::equal(out->begin(), out->end(), orig.begin()));
}

}  // namespace
}  // namespace cellar
