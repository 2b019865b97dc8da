#include "store/store_options.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace cellar {
namespace {

TEST(StoreOptionsTest, ParseByteSize) {
  EXPECT_EQ(*ParseByteSize("1024"), 1024u);
  EXPECT_EQ(*ParseByteSize("512K"), 512u * 1024);
  EXPECT_EQ(*ParseByteSize("64M"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("64MB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("1.5G"), 3ull << 29);
  EXPECT_EQ(*ParseByteSize("2t"), 2ull << 40);
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("100B"), 100u);
  for (const char* bad : {"", "G", "12X", "-1", "1..2G", "1e9"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
}

TEST(StoreOptionsTest, DefaultDirFollowsXdg) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(DefaultStoreDir(), "/tmp/xdg-test/cellar");
  unsetenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') {
    EXPECT_EQ(DefaultStoreDir(), std::string(home) + "/.cache/cellar");
  }
  if (old != nullptr) setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}

TEST(StoreOptionsTest, PolicyAndCodecNames) {
  EXPECT_EQ(*ParsePolicyKind("scheduler"), PolicyKind::kScheduler);
  EXPECT_EQ(*ParsePolicyKind("lru"), PolicyKind::kLru);
  EXPECT_EQ(*ParsePolicyKind("fifo"), PolicyKind::kFifo);
  EXPECT_FALSE(ParsePolicyKind("random").ok());
  EXPECT_EQ(*ParseCodec("int8+zstd"), Codec::kInt8Zstd);
}

}  // namespace
}  // namespace cellar
