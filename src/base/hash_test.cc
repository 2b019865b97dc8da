#include "base/hash.h"

#include <gtest/gtest.h>

#include <string>

namespace cellar {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(HashTest, Crc32cKnownVectors) {
  // RFC 3720 test vectors.
  EXPECT_EQ(Crc32c(Bytes("123456789")), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(Bytes(zeros)), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(Bytes(ones)), 0x62A8AB43u);
  // Running value equals one-shot.
  const std::string s = "hello, cached attention";
  uint32_t part = Crc32c(Bytes(s.substr(0, 7)));
  EXPECT_EQ(Crc32c(Bytes(s.substr(7)), part), Crc32c(Bytes(s)));
}

TEST(HashTest, Xxh3IsStableAndUnseeded) {
  // XXH3 of the empty input with seed 0 is a published constant.
  EXPECT_EQ(Xxh3_64(std::string_view("")), 0x2D06800538D394C2ull);
  Hasher128 h;
  h.Update("abc");
  h.Update("def");
  EXPECT_EQ(h.Finish(), Xxh3_128(Bytes("abcdef")));
  EXPECT_EQ(Xxh3_128(Bytes("abcdef")).ToHex().size(), 32u);
  EXPECT_NE(Xxh3_128(Bytes("abcdef")), Xxh3_128(Bytes("abcdeg")));
}

}  // namespace
}  // namespace cellar
