// GgufFile validation: hand-built broken files, each asserting the specific error.
#include "gguf/gguf_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"

namespace cellar {
namespace {

// Emits GGUF bytes field by field, so tests can build any (broken) file.
class Raw {
 public:
  Raw& U8(uint8_t v) { return Put(v); }
  Raw& U32(uint32_t v) { return Put(v); }
  Raw& U64(uint64_t v) { return Put(v); }
  Raw& I64(int64_t v) { return Put(v); }
  Raw& Str(std::string_view s) {
    U64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  // Magic, version and counts.
  Raw& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return U32(kGgufMagic).U32(version).U64(n_tensors).U64(n_kv);
  }
  Raw& KvU32(std::string_view key, uint32_t v) { return Str(key).U32(4).U32(v); }
  Raw& KvStr(std::string_view key, std::string_view v) { return Str(key).U32(8).Str(v); }
  Raw& Tensor(std::string_view name, std::vector<int64_t> dims, uint32_t type, uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (int64_t d : dims) I64(d);
    return U32(type).U64(offset);
  }
  Raw& Pad(size_t align = 32) { return Zeros((align - bytes.size() % align) % align); }
  Raw& Zeros(size_t n) {
    bytes.resize(bytes.size() + n);
    return *this;
  }
  std::vector<uint8_t> bytes;

 private:
  template <typename T>
  Raw& Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
};

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ4_0 = 2;

void ExpectError(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& substr) {
  auto file = GgufFile::Parse(bytes);
  ASSERT_FALSE(file.ok()) << "parsed, expected: " << substr;
  EXPECT_EQ(file.status().code(), code) << file.status().ToString();
  EXPECT_NE(file.status().message().find(substr), std::string::npos)
      << "message: " << file.status().message() << "\nexpected substring: " << substr;
}

// A valid file with two keys and two tensors, used as the base of several tests.
std::vector<uint8_t> ValidFile() {
  Raw r;
  r.Header(2, 2).KvStr("general.architecture", "llama").KvU32("llama.block_count", 1);
  r.Tensor("a", {4}, kF32, 0).Tensor("b", {32, 2}, kQ4_0, 32).Pad();
  r.Zeros(16).Pad().Zeros(36).Pad();
  return r.bytes;
}

TEST(GgufFileTest, ValidHandBuiltFileParses) {
  const auto bytes = ValidFile();
  auto file = GgufFile::Parse(bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const GgufFile& f = **file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.metadata().size(), 2u);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[1].n_bytes, 36);
  EXPECT_EQ(f.tensors()[1].n_elements, 64);
  EXPECT_EQ(f.data_offset() % 32, 0u);
  EXPECT_EQ(f.tensors()[1].data.data(), bytes.data() + f.data_offset() + 32);
}

TEST(GgufFileTest, EveryTruncationIsAnOutOfRangeError) {
  const auto bytes = ValidFile();
  // The last tensor's data ends 28 bytes before the end; the final padding is optional.
  const size_t data_end = bytes.size() - 28;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    auto file = GgufFile::Parse(prefix);
    if (n >= data_end) {
      EXPECT_TRUE(file.ok()) << n << ": " << file.status().ToString();
      continue;
    }
    ASSERT_FALSE(file.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(file.status().code(), StatusCode::kOutOfRange)
        << n << ": " << file.status().ToString();
  }
}

TEST(GgufFileTest, BadMagic) {
  auto bytes = ValidFile();
  std::memcpy(bytes.data(), "GGML", 4);
  ExpectError(bytes, StatusCode::kInvalidArgument, "bad magic 0x4c4d4747 at offset 0");
}

TEST(GgufFileTest, UnsupportedVersions) {
  ExpectError(Raw().Header(0, 0, 1).bytes, StatusCode::kUnimplemented,
              "GGUF version 1 is not supported");
  ExpectError(Raw().Header(0, 0, 4).bytes, StatusCode::kUnimplemented,
              "unsupported GGUF version 4");
  ExpectError(Raw().Header(0, 0, 0).bytes, StatusCode::kUnimplemented,
              "unsupported GGUF version 0");
  ExpectError(Raw().Header(0, 0, 0x03000000).bytes, StatusCode::kUnimplemented, "big-endian GGUF");
  EXPECT_TRUE(GgufFile::Parse(Raw().Header(0, 0, 2).bytes).ok());
}

TEST(GgufFileTest, TruncatedHeader) {
  ExpectError(Raw().U32(kGgufMagic).U32(3).U64(0).bytes, StatusCode::kOutOfRange,
              "truncated: metadata count needs 8 bytes at offset 16");
  ExpectError(Raw().Header(0, 1).Str("k").U32(4).U8(1).bytes, StatusCode::kOutOfRange,
              "truncated: key 'k' needs 4 bytes at offset 37");
}

TEST(GgufFileTest, StringLengthPastEnd) {
  ExpectError(Raw().Header(0, 1).Str("k").U32(8).U64(1000).Zeros(8).bytes, StatusCode::kOutOfRange,
              "key 'k' length 1000 at offset 37 runs past the end");
  ExpectError(Raw().Header(0, 1).U64(uint64_t{1} << 63).Zeros(16).bytes, StatusCode::kOutOfRange,
              "metadata key #0 length 9223372036854775808 at offset 24 runs past the end");
}

TEST(GgufFileTest, ArrayLengthPastEnd) {
  // 2^60 uint32 elements claimed by a tiny file: refused before any allocation.
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(4).U64(uint64_t{1} << 60).Zeros(16).bytes,
              StatusCode::kOutOfRange, "key 'k': array of 1152921504606846976 uint32 elements");
  // A string element whose length runs past the end.
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(8).U64(2).Str("a").U64(99).Zeros(8).bytes,
              StatusCode::kOutOfRange, "key 'k'[1]: string length 99");
}

TEST(GgufFileTest, AbsurdCounts) {
  ExpectError(Raw().Header(0, uint64_t{1} << 62).Zeros(64).bytes, StatusCode::kOutOfRange,
              "metadata count 4611686018427387904 at offset 16 is absurd or the file is truncated");
  ExpectError(Raw().Header(uint64_t{1} << 40, 0).Zeros(64).bytes, StatusCode::kOutOfRange,
              "tensor count 1099511627776 at offset 8 is absurd or the file is truncated");
}

TEST(GgufFileTest, AbsurdDimensions) {
  ExpectError(Raw().Header(1, 0).Tensor("t", {1, 2, 3, 4, 5}, kF32, 0).Pad().bytes,
              StatusCode::kInvalidArgument, "tensor 't': n_dims 5 > 4 at offset 33");
  ExpectError(Raw().Header(1, 0).Tensor("t", {4, -1}, kF32, 0).Pad().bytes,
              StatusCode::kInvalidArgument, "tensor 't': dimension 1 is negative (-1)");
  // The element count overflows int64.
  ExpectError(Raw().Header(1, 0).Tensor("t", {int64_t{1} << 40, int64_t{1} << 40}, kF32, 0).bytes,
              StatusCode::kInvalidArgument, "tensor 't': element count overflows int64");
  // The element count fits but the byte size (x4 for f32) does not.
  ExpectError(Raw().Header(1, 0).Tensor("t", {int64_t{1} << 62}, kF32, 0).bytes,
              StatusCode::kInvalidArgument, "tensor 't': byte size of 4611686018427387904 f32");
}

TEST(GgufFileTest, MisalignedTensorOffset) {
  ExpectError(Raw().Header(1, 0).Tensor("t", {4}, kF32, 8).Pad().Zeros(64).bytes,
              StatusCode::kInvalidArgument,
              "tensor 't': data offset 8 is not a multiple of the alignment 32");
}

TEST(GgufFileTest, OverlappingTensors) {
  Raw r;
  r.Header(2, 0).Tensor("a", {16}, kF32, 0).Tensor("b", {4}, kF32, 32).Pad().Zeros(64);
  ExpectError(r.bytes, StatusCode::kInvalidArgument,
              "tensors 'a' [0, 64) and 'b' [32, 48) overlap");
  // Zero-sized tensors may share an offset with anything.
  Raw ok;
  ok.Header(2, 0).Tensor("a", {8}, kF32, 0).Tensor("e", {0}, kF32, 0).Pad().Zeros(32);
  EXPECT_TRUE(GgufFile::Parse(ok.bytes).ok());
}

TEST(GgufFileTest, TensorDataPastEndOfFile) {
  auto bytes = ValidFile();
  bytes.resize(bytes.size() - 32);  // drop the padded second tensor
  ExpectError(bytes, StatusCode::kOutOfRange,
              "tensor 'b': data [32, 32 + 36) runs past the end of the file");
  ExpectError(Raw().Header(1, 0).Tensor("t", {4}, kF32, uint64_t{1} << 63).Pad().Zeros(32).bytes,
              StatusCode::kOutOfRange, "tensor 't': data [9223372036854775808");
  // The data section itself starts past the end (file cut inside the padding).
  ExpectError(Raw().Header(1, 0).Tensor("t", {0}, kF32, 0).bytes, StatusCode::kOutOfRange,
              "the tensor data section starts at offset 64");
}

TEST(GgufFileTest, UnknownTypeIds) {
  ExpectError(Raw().Header(1, 0).Tensor("t", {4}, 4, 0).Pad().Zeros(32).bytes,
              StatusCode::kInvalidArgument, "tensor 't': unknown ggml type id 4");
  ExpectError(Raw().Header(1, 0).Tensor("t", {4}, 1000, 0).Pad().Zeros(32).bytes,
              StatusCode::kInvalidArgument, "tensor 't': unknown ggml type id 1000");
  ExpectError(Raw().Header(0, 1).Str("k").U32(13).Zeros(8).bytes, StatusCode::kInvalidArgument,
              "key 'k': unknown value type 13 at offset 33");
  ExpectError(Raw().Header(0, 1).Str("k").U32(9).U32(77).U64(0).bytes, StatusCode::kInvalidArgument,
              "key 'k': unknown array element type 77 at offset 37");
}

TEST(GgufFileTest, DuplicateKeysAndTensorNames) {
  ExpectError(Raw().Header(0, 2).KvU32("a.b", 1).KvU32("a.b", 2).bytes,
              StatusCode::kInvalidArgument,
              "duplicate key 'a.b' at offset 43 (first at offset 24)");
  ExpectError(Raw().Header(2, 0).Tensor("w", {8}, kF32, 0).Tensor("w", {8}, kF32, 32).bytes,
              StatusCode::kInvalidArgument,
              "duplicate tensor 'w' at offset 57 (first at offset 24)");
}

TEST(GgufFileTest, RowLengthNotMultipleOfBlockSize) {
  ExpectError(Raw().Header(1, 0).Tensor("q", {48, 2}, kQ4_0, 0).Pad().Zeros(64).bytes,
              StatusCode::kInvalidArgument,
              "tensor 'q': row length 48 is not a multiple of the q4_0 block size 32");
}

TEST(GgufFileTest, Alignment) {
  ExpectError(Raw().Header(0, 1).KvU32("general.alignment", 48).bytes, StatusCode::kInvalidArgument,
              "key 'general.alignment' is 48, not a power of two");
  ExpectError(Raw().Header(0, 1).KvU32("general.alignment", 0).bytes, StatusCode::kInvalidArgument,
              "key 'general.alignment' is 0, not a power of two");
  ExpectError(Raw().Header(0, 1).KvStr("general.alignment", "64").bytes,
              StatusCode::kInvalidArgument,
              "key 'general.alignment': expected an integer, got string");
  // A valid non-default alignment moves the data section.
  Raw r;
  r.Header(1, 1).KvU32("general.alignment", 256).Tensor("t", {4}, kF32, 0).Pad(256).Zeros(16);
  auto file = GgufFile::Parse(r.bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->alignment(), 256u);
  EXPECT_EQ((*file)->data_offset(), 256u);
}

TEST(GgufFileTest, NestingAndBoolLimits) {
  Raw deep;
  deep.Header(0, 1).Str("k").U32(9);
  for (int i = 0; i < 40; ++i) deep.U32(9).U64(1);
  deep.U32(4).U64(0);
  ExpectError(deep.bytes, StatusCode::kInvalidArgument, "arrays nested deeper than 16 levels");
  ExpectError(Raw().Header(0, 1).Str("b").U32(7).U8(2).bytes, StatusCode::kInvalidArgument,
              "key 'b': bool byte is 2 (must be 0 or 1) at offset 37");
  ExpectError(Raw().Header(0, 1).Str("b").U32(9).U32(7).U64(2).U8(1).U8(3).bytes,
              StatusCode::kInvalidArgument, "key 'b'[1]: bool byte is 3");
}

TEST(GgufFileTest, VocabOnlyFileMayEndBeforeTheAlignedOffset) {
  // gguf-py writes no padding when there are no tensors.
  const auto bytes = Raw().Header(0, 1).KvStr("tokenizer.ggml.model", "gpt2").bytes;
  ASSERT_NE(bytes.size() % 32, 0u);
  auto file = GgufFile::Parse(bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->data_offset(), bytes.size());
}

TEST(GgufFileTest, OpenNamesThePath) {
  auto missing = GgufFile::Open("/nonexistent/x.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/x.gguf"), std::string::npos);
}

}  // namespace
}  // namespace cellar
