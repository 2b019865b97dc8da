#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "model/model_fingerprint.h"

namespace cellar {
namespace {

Hash128 FingerprintOf(const std::filesystem::path& path) {
  auto f = GgufFile::Open(path.string());
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? ComputeModelFingerprint(**f) : Hash128{};
}

TEST(ModelFingerprint, PinnedForStories260K) {
  CELLAR_REQUIRE_SHARED(path, "models/stories260K.gguf");
  // Pins the definition (docs in model_fingerprint.h): changing it renames every
  // cached KV block on disk and on other servers.
  EXPECT_EQ(FingerprintOf(path).ToHex(), "b8f02fb1d74599470c957419d344ba14");
  EXPECT_EQ(FingerprintOf(path), FingerprintOf(path));
}

TEST(ModelFingerprint, DiffersBetweenModels) {
  CELLAR_REQUIRE_SHARED(q8, "models/tiny/tiny-llama-Q8_0.gguf");
  CELLAR_REQUIRE_SHARED(f32, "models/tiny/tiny-llama-F32.gguf");
  CELLAR_REQUIRE_SHARED(qwen, "models/tiny/tiny-qwen2-Q8_0.gguf");
  EXPECT_EQ(FingerprintOf(q8).ToHex(), "d0f3f3d68887e275ecf104fb62248cae");
  EXPECT_NE(FingerprintOf(q8), FingerprintOf(f32));
  EXPECT_NE(FingerprintOf(q8), FingerprintOf(qwen));
}

TEST(ModelFingerprint, ChangesWithOneWeightByteInASample) {
  CELLAR_REQUIRE_SHARED(path, "models/stories260K.gguf");
  std::string bytes = testing::ReadFileToString(path);
  ASSERT_FALSE(bytes.empty());
  auto parse = [](const std::string& b) {
    return GgufFile::Parse(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  };
  auto original = parse(bytes);
  ASSERT_TRUE(original.ok());
  const Hash128 before = ComputeModelFingerprint(**original);
  // The first byte of the last tensor (always inside its first sample).
  const GgufTensorInfo& t = (*original)->tensors().back();
  const size_t offset = (*original)->data_offset() + t.offset;
  std::string changed = bytes;
  changed[offset] = static_cast<char>(changed[offset] ^ 0x01);
  auto modified = parse(changed);
  ASSERT_TRUE(modified.ok());
  EXPECT_NE(ComputeModelFingerprint(**modified), before);
}

}  // namespace
}  // namespace cellar
