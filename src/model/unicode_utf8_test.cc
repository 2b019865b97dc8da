#include "model/unicode_utf8.h"

#include <gtest/gtest.h>

namespace cellar::unicode {
namespace {

const std::string kFffd(kReplacementUtf8);

TEST(Utf8Test, ClassifiesWellFormedSequences) {
  EXPECT_EQ(ClassifyUtf8("a").length, 1u);
  EXPECT_EQ(ClassifyUtf8("\xC3\xA9").status, Utf8Status::kComplete);
  EXPECT_EQ(ClassifyUtf8("\xE2\x82\xAC!").length, 3u);
  const Utf8Prefix p = ClassifyUtf8("\xF0\x9F\xA6\x99");  // U+1F999
  EXPECT_EQ(p.status, Utf8Status::kComplete);
  EXPECT_EQ(p.length, 4u);
}

TEST(Utf8Test, ClassifiesIncompleteAndInvalid) {
  EXPECT_EQ(ClassifyUtf8("\xF0\x9F\xA6").status, Utf8Status::kIncomplete);
  EXPECT_EQ(ClassifyUtf8("\xF0\x9F\xA6").length, 3u);
  EXPECT_EQ(ClassifyUtf8("\x80").status, Utf8Status::kInvalid);              // lone continuation
  EXPECT_EQ(ClassifyUtf8("\xC0\x80").status, Utf8Status::kInvalid);          // overlong NUL
  EXPECT_EQ(ClassifyUtf8("\xE0\x80\x80").length, 1u);                        // overlong 3-byte
  EXPECT_EQ(ClassifyUtf8("\xED\xA0\x80").status, Utf8Status::kInvalid);      // surrogate D800
  EXPECT_EQ(ClassifyUtf8("\xF4\x90\x80\x80").status, Utf8Status::kInvalid);  // > U+10FFFF
  EXPECT_EQ(ClassifyUtf8("\xE2\x82x").status, Utf8Status::kInvalid);
  EXPECT_EQ(ClassifyUtf8("\xE2\x82x").length, 2u);  // maximal subpart E2 82
  EXPECT_EQ(ClassifyUtf8("\xFF").status, Utf8Status::kInvalid);
}

TEST(Utf8Test, SanitizeReplacesMaximalSubparts) {
  EXPECT_EQ(SanitizeUtf8("abc"), "abc");
  EXPECT_EQ(SanitizeUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(SanitizeUtf8("\xE2\x82x"), kFffd + "x");
  EXPECT_EQ(SanitizeUtf8("\xE2\x82"), kFffd);  // truncated at the end: one U+FFFD
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\x80\x80"), kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xF0\x9F\xA6\x99\xF0\x9F"), "\xF0\x9F\xA6\x99" + kFffd);
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xFE\xFF\xC3(\xE0\x9F\x80")));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(Utf8Test, EncodeDecodeRoundTrip) {
  for (char32_t cp :
       {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0x10000u, 0x10FFFFu}) {
    const std::string s = EncodeUtf8(cp);
    EXPECT_TRUE(IsValidUtf8(s)) << static_cast<uint32_t>(cp);
    size_t pos = 0;
    EXPECT_EQ(DecodeUtf8At(s, &pos), cp);
    EXPECT_EQ(pos, s.size());
  }
  EXPECT_EQ(DecodeUtf8("a\xC3\xA9\xF0\x9F\xA6\x99"), (std::vector<char32_t>{'a', 0xE9, 0x1F999}));
}

}  // namespace
}  // namespace cellar::unicode
