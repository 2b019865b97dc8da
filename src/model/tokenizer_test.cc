// Tokenizer behaviour on small hand-made vocabularies, where every expected id
// follows from the algorithm by hand (see the comments).
#include "model/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace cellar {
namespace {

using Ids = std::vector<int32_t>;
constexpr int32_t kByte0 = 3;  // <0x00> in the SPM vocabulary below

// SPM: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then normal tokens.
VocabData SpmData() {
  VocabData d;
  d.model = "llama";
  auto add = [&d](std::string text, float score, GgufTokenType type) {
    d.tokens.push_back(std::move(text));
    d.scores.push_back(score);
    d.token_types.push_back(static_cast<int32_t>(type));
  };
  add("<unk>", 0, GgufTokenType::kUnknown);
  add("<s>", 0, GgufTokenType::kControl);
  add("</s>", 0, GgufTokenType::kControl);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 0, GgufTokenType::kByte);
  }
  add("\xE2\x96\x81", -1, GgufTokenType::kNormal);  // 259 ▁
  add("a", -2, GgufTokenType::kNormal);             // 260
  add("b", -2, GgufTokenType::kNormal);             // 261
  add("\xE2\x96\x81"
      "a",
      -3, GgufTokenType::kNormal);          // 262 ▁a
  add("ab", -0.5, GgufTokenType::kNormal);  // 263
  add("\xE2\x96\x81"
      "ab",
      -4, GgufTokenType::kNormal);                  // 264 ▁ab
  add("<|user|>", 0, GgufTokenType::kUserDefined);  // 265
  add("<|im_end|>", 0, GgufTokenType::kNormal);     // 266 (detected as EOG)
  return d;
}

std::unique_ptr<Tokenizer> Make(VocabData data) {
  auto vocab = Vocab::FromData(std::move(data));
  EXPECT_TRUE(vocab.ok()) << vocab.status().ToString();
  if (!vocab.ok()) return nullptr;
  auto tok = Tokenizer::FromVocab(std::move(*vocab));
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(*tok) : nullptr;
}

TEST(SpmTokenizerTest, MergesByScore) {
  auto tok = Make(SpmData());
  ASSERT_NE(tok, nullptr);
  // "▁ab": "ab" (-0.5) beats "▁a" (-3); then "▁"+"ab" forms "▁ab".
  EXPECT_EQ(tok->Encode("ab", false, false), (Ids{264}));
  // "▁ba": no pair forms a token.
  EXPECT_EQ(tok->Encode("ba", false, false), (Ids{259, 261, 260}));
  // Spaces become ▁; "▁▁a": "▁a" is the only token pair.
  EXPECT_EQ(tok->Encode(" a", false, false), (Ids{259, 262}));
  EXPECT_EQ(tok->Encode("", false, false), Ids{});
}

TEST(SpmTokenizerTest, ByteFallback) {
  auto tok = Make(SpmData());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("\xC3\xA9", false, false), (Ids{259, kByte0 + 0xC3, kByte0 + 0xA9}));
  EXPECT_EQ(tok->Decode(Ids{259, kByte0 + 0xC3, kByte0 + 0xA9}), "\xC3\xA9");
  EXPECT_EQ(tok->TokenToPiece(kByte0 + 0x41), "A");
}

TEST(SpmTokenizerTest, BosEosFollowFlags) {
  auto tok = Make(SpmData());
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(tok->vocab().add_bos());  // SPM default
  EXPECT_FALSE(tok->vocab().add_eos());
  EXPECT_EQ(tok->Encode("a", true, false), (Ids{1, 262}));
  EXPECT_EQ(tok->Encode("", true, false), (Ids{1}));

  VocabData d = SpmData();
  d.add_bos = false;
  d.add_eos = true;
  auto tok2 = Make(std::move(d));
  ASSERT_NE(tok2, nullptr);
  EXPECT_EQ(tok2->Encode("a", true, false), (Ids{262, 2}));
  EXPECT_EQ(tok2->Encode("a", false, false), (Ids{262}));
}

TEST(SpmTokenizerTest, SpecialTokensOnlyWhenAllowed) {
  auto tok = Make(SpmData());
  ASSERT_NE(tok, nullptr);
  // parse_special: "a", <s>, "b"; text after a special token gets the leading space again.
  EXPECT_EQ(tok->Encode("a<s>b", false, true), (Ids{262, 1, 259, 261}));
  // Not allowed: "<s>" is plain text (bytes '<' 's' '>').
  EXPECT_EQ(tok->Encode("a<s>b", false, false),
            (Ids{262, kByte0 + '<', kByte0 + 's', kByte0 + '>', 261}));
  // User-defined tokens are always recognized.
  EXPECT_EQ(tok->Encode("a<|user|>b", false, false), (Ids{262, 265, 259, 261}));
  EXPECT_EQ(tok->Decode(Ids{262, 1, 259, 261}), "a b");
  EXPECT_EQ(tok->Decode(Ids{262, 1, 259, 261}, /*render_special=*/true), "a<s> b");
}

TEST(SpmTokenizerTest, Phi3NameSetsRstrip) {
  VocabData d = SpmData();
  d.general_name = "Phi3";
  auto phi = Make(std::move(d));
  ASSERT_NE(phi, nullptr);
  EXPECT_EQ(phi->Encode("a<|user|>  b", false, false), (Ids{262, 265, 259, 261}));
  auto plain = Make(SpmData());
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->Encode("a<|user|>  b", false, false), (Ids{262, 265, 259, 259, 259, 261}));
}

TEST(SpmTokenizerTest, DecodeLeadingSpaceRule) {
  auto tok = Make(SpmData());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Decode(tok->Encode("ab a", false, false)), "ab a");
  // A leading BOS renders empty and does not consume the rule.
  EXPECT_EQ(tok->Decode(tok->Encode("ab a", true, false)), "ab a");
  // Rendered, <s> is the first non-empty piece (as llama.cpp and HF print it).
  EXPECT_EQ(tok->Decode(tok->Encode("ab a", true, false), true), "<s> ab a");
  EXPECT_EQ(tok->TokenToPiece(264), " ab");
  EXPECT_EQ(tok->TokenToPiece(1), "");
  EXPECT_EQ(tok->TokenToPiece(1, true), "<s>");
  EXPECT_EQ(tok->TokenToPiece(-5), "");
  EXPECT_EQ(tok->TokenToPiece(100000), "");
}

TEST(VocabTest, SpecialIdsAndEog) {
  auto tok = Make(SpmData());
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  EXPECT_EQ(v.bos(), 1);
  EXPECT_EQ(v.eos(), 2);
  EXPECT_EQ(v.unk(), 0);
  EXPECT_EQ(v.pad(), -1);
  EXPECT_EQ(v.eot(), 266);  // found by its text, and made a control token
  EXPECT_TRUE(v.IsControl(266));
  EXPECT_TRUE(v.IsEog(2));
  EXPECT_TRUE(v.IsEog(266));
  EXPECT_FALSE(v.IsEog(1));
  EXPECT_FALSE(v.IsEog(-1));
  EXPECT_TRUE(v.IsByte(kByte0));
  EXPECT_TRUE(v.IsUserDefined(265));
  EXPECT_EQ(v.FindToken("ab"), 263);
  EXPECT_EQ(v.FindToken("zz"), std::nullopt);
  EXPECT_EQ(v.model_name(), "llama");
  EXPECT_FLOAT_EQ(v.Score(263), -0.5f);
  EXPECT_EQ(v.TokenText(262),
            "\xE2\x96\x81"
            "a");
}

TEST(VocabTest, RejectsMalformedVocabularies) {
  VocabData dup = SpmData();
  dup.tokens[260] = "b";
  EXPECT_EQ(Vocab::FromData(std::move(dup)).status().code(), StatusCode::kInvalidArgument);
  VocabData scores = SpmData();
  scores.scores.pop_back();
  EXPECT_EQ(Vocab::FromData(std::move(scores)).status().code(), StatusCode::kInvalidArgument);
  VocabData unknown = SpmData();
  unknown.model = "sentencepiece-v9";
  auto u = Vocab::FromData(std::move(unknown));
  EXPECT_EQ(u.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(u.status().message().find("sentencepiece-v9"), std::string::npos);
  VocabData no_merges;
  no_merges.model = "gpt2";
  no_merges.tokens = {"a"};
  EXPECT_EQ(Vocab::FromData(std::move(no_merges)).status().code(), StatusCode::kInvalidArgument);
}

TEST(VocabTest, UnsupportedTokenizerTypeIsNamed) {
  VocabData d = SpmData();
  d.model = "t5";
  auto vocab = Vocab::FromData(std::move(d));
  ASSERT_TRUE(vocab.ok());
  auto tok = Tokenizer::FromVocab(std::move(*vocab));
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(tok.status().message().find("unsupported tokenizer type 't5'"), std::string::npos);
}

// Byte-level BPE: "Ġ" is the space byte's character.
VocabData BpeData(std::string pre) {
  VocabData d;
  d.model = "gpt2";
  d.pre = std::move(pre);
  d.tokens = {"a",
              "b",
              "c",
              "\xC4\xA0",
              "ab",
              "abc",
              "\xC4\xA0"
              "a",
              "ca",
              "bca",
              "<|endoftext|>"};
  d.token_types = {1, 1, 1, 1, 1, 1, 1, 1, 1, 3};
  d.merges = {"a b", "\xC4\xA0 a", "ab c",
              "\xC4\xA0"
              "a b",
              "c a"};
  return d;
}

TEST(BpeTokenizerTest, MergesByRank) {
  auto tok = Make(BpeData("gpt-2"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("abc", false, false), (Ids{5}));  // a b (0), then ab c (2)
  // " ab": "a b" (rank 0) beats "Ġ a" (rank 1), and "Ġ ab" is no merge.
  EXPECT_EQ(tok->Encode(" ab", false, false), (Ids{3, 4}));
  // "bca": "c a" (rank 4) -> b, ca; no "b ca" merge.
  EXPECT_EQ(tok->Encode("bca", false, false), (Ids{1, 7}));
  EXPECT_EQ(tok->Encode("d", false, false), Ids{});  // a byte without a token is dropped
  EXPECT_EQ(tok->Decode(Ids{3, 4}), " ab");
  EXPECT_FALSE(tok->vocab().add_space_prefix());
}

TEST(BpeTokenizerTest, IgnoreMergesTakesWholeTokens) {
  auto tok = Make(BpeData("llama-bpe"));
  ASSERT_NE(tok, nullptr);
  EXPECT_TRUE(tok->vocab().ignore_merges());
  EXPECT_TRUE(tok->vocab().add_bos());  // llama3 default
  EXPECT_EQ(tok->Encode("bca", false, false), (Ids{8}));
}

TEST(BpeTokenizerTest, UnknownPreTokenizerFallsBackToDefault) {
  auto tok = Make(BpeData("some-new-model"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab().pre_tokenizer().kind, "default");
  EXPECT_EQ(tok->vocab().pre_name(), "some-new-model");
  EXPECT_EQ(tok->Encode("abc", false, false), (Ids{5}));
}

TEST(BpeTokenizerTest, ControlTokenParsing) {
  auto tok = Make(BpeData("gpt-2"));
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("ab<|endoftext|>c", false, true), (Ids{4, 9, 2}));
  EXPECT_EQ(tok->Decode(Ids{4, 9, 2}), "abc");
  EXPECT_EQ(tok->Decode(Ids{4, 9, 2}, true), "ab<|endoftext|>c");
  EXPECT_TRUE(tok->vocab().IsEog(9));
}

VocabData WpmData() {
  VocabData d;
  d.model = "bert";
  d.tokens = {"[PAD]",
              "[UNK]",
              "[CLS]",
              "[SEP]",
              "[MASK]",
              "\xE2\x96\x81hello",
              "\xE2\x96\x81hell",
              "o",
              "\xE2\x96\x81world",
              "\xE2\x96\x81!",
              "\xE2\x96\x81,",
              "\xE2\x96\x81"
              "cafe",
              "\xE2\x96\x81\xE6\x88\x91",
              "\xE2\x96\x81"
              "caf"};
  d.token_types = {3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  d.unk_id = 1;
  d.bos_id = 2;
  d.sep_id = 3;
  d.pad_id = 0;
  d.mask_id = 4;
  return d;
}

TEST(WpmTokenizerTest, GreedyLongestMatch) {
  auto tok = Make(WpmData());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->Encode("Hello, WORLD!", false, false), (Ids{5, 10, 8, 9}));
  EXPECT_EQ(tok->Encode("hellxo", false, false), (Ids{1}));        // unmatched: the word is [UNK]
  EXPECT_EQ(tok->Encode("Caf\xC3\xA9", false, false), (Ids{11}));  // NFD, accent dropped
  EXPECT_EQ(tok->Encode("\xE6\x88\x91"
                        "cafe",
                        false, false),
            (Ids{12, 11}));
  EXPECT_EQ(tok->Encode("hello", true, false), (Ids{2, 5, 3}));  // [CLS] ... [SEP]
  EXPECT_EQ(tok->Encode(" \t\n", false, false), Ids{});
}

}  // namespace
}  // namespace cellar
