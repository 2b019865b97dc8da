#include "model/streaming_detokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "model/unicode_utf8.h"

namespace cellar {
namespace {

constexpr int32_t kByte0 = 3;  // <0x00>

// SPM vocabulary: <unk> <s> </s>, 256 byte tokens, "▁hi".
std::unique_ptr<Tokenizer> MakeSpm() {
  VocabData d;
  d.model = "llama";
  d.tokens = {"<unk>", "<s>", "</s>"};
  d.token_types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    d.tokens.push_back(name);
    d.token_types.push_back(6);
  }
  d.tokens.push_back("\xE2\x96\x81hi");  // 259
  d.token_types.push_back(1);
  auto vocab = Vocab::FromData(std::move(d));
  EXPECT_TRUE(vocab.ok());
  auto tok = Tokenizer::FromVocab(std::move(*vocab));
  EXPECT_TRUE(tok.ok());
  return std::move(*tok);
}

TEST(StreamingDetokenizerTest, HoldsBackIncompleteCharacters) {
  auto tok = MakeSpm();
  StreamingDetokenizer s(*tok);
  EXPECT_EQ(s.Push(259), "hi");  // leading space of the sequence dropped, as Decode does
  EXPECT_EQ(s.Push(kByte0 + 0xF0), "");
  EXPECT_EQ(s.Push(kByte0 + 0x9F), "");
  EXPECT_EQ(s.Push(kByte0 + 0xA6), "");
  EXPECT_EQ(s.Push(kByte0 + 0x99), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(s.Push(259), " hi");
  EXPECT_EQ(s.Flush(), "");
}

TEST(StreamingDetokenizerTest, ReplacesInvalidBytesAsSoonAsProvable) {
  auto tok = MakeSpm();
  const std::string fffd(unicode::kReplacementUtf8);
  StreamingDetokenizer s(*tok);
  EXPECT_EQ(s.Push(kByte0 + 0x80), fffd);  // lone continuation byte: invalid at once
  EXPECT_EQ(s.Push(kByte0 + 0xE2), "");
  EXPECT_EQ(s.Push(kByte0 + 0x82), "");
  EXPECT_EQ(s.Push(kByte0 + 'x'), fffd + "x");  // E2 82 then 'x': one U+FFFD
  EXPECT_EQ(s.Push(kByte0 + 0xED), "");
  EXPECT_EQ(s.Push(kByte0 + 0xA0), fffd + fffd);  // surrogate lead: ED, A0 each invalid
  EXPECT_EQ(s.Push(kByte0 + 0xC3), "");
  EXPECT_EQ(s.Flush(), fffd);  // truncated at the end
  EXPECT_EQ(s.Flush(), "");
}

TEST(StreamingDetokenizerTest, ContinuationKeepsLeadingSpace) {
  auto tok = MakeSpm();
  StreamingDetokenizer::Options opts;
  opts.sequence_start = false;
  StreamingDetokenizer s(*tok, opts);
  EXPECT_EQ(s.Push(259), " hi");
  StreamingDetokenizer start(*tok);
  EXPECT_EQ(start.Push(1), "");  // BOS renders empty and keeps the rule pending
  EXPECT_EQ(start.Push(259), "hi");
  StreamingDetokenizer::Options special;
  special.render_special = true;
  StreamingDetokenizer rendered(*tok, special);
  EXPECT_EQ(rendered.Push(1), "<s>");
  EXPECT_EQ(rendered.Push(259), " hi");
}

}  // namespace
}  // namespace cellar
