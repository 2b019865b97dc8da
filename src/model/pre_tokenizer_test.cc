#include "model/pre_tokenizer.h"

#include <gtest/gtest.h>

#include "model/pre_tokenizer_table.h"

namespace cellar {
namespace {

std::vector<std::string> SplitWith(std::string_view pre, std::string_view text) {
  auto spec = FindPreTokenizer(pre);
  EXPECT_TRUE(spec.has_value()) << pre;
  auto p = PreTokenizer::Create(spec->regexes);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  std::vector<std::string> out;
  for (std::string_view piece : (*p)->Split(text)) out.emplace_back(piece);
  return out;
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizerTest, EveryKnownPreTokenizerCompiles) {
  for (std::string_view name : KnownPreTokenizerNames()) {
    auto spec = FindPreTokenizer(name);
    ASSERT_TRUE(spec.has_value()) << name;
    auto p = PreTokenizer::Create(spec->regexes);
    EXPECT_TRUE(p.ok()) << name << ": " << p.status().ToString();
  }
  EXPECT_FALSE(FindPreTokenizer("no-such-pre").has_value());
}

TEST(PreTokenizerTest, TranslatesWhitespaceClasses) {
  EXPECT_EQ(PreTokenizer::TranslateRegex(R"(\s+(?!\S)|[^\s\p{L}])"),
            R"(\p{White_Space}+(?!\P{White_Space})|[^\p{White_Space}\p{L}])");
  EXPECT_EQ(PreTokenizer::TranslateRegex(R"(\\s\$)"), R"(\\s\$)");  // escaped backslash
}

TEST(PreTokenizerTest, Gpt2Split) {
  EXPECT_EQ(SplitWith("gpt-2", "Hello world"), (Pieces{"Hello", " world"}));
  // \s+(?!\S) leaves the last space for the word; a lone tab is a piece of its own.
  EXPECT_EQ(SplitWith("gpt-2", "a   b\tc"), (Pieces{"a", "  ", " b", "\t", "c"}));
  EXPECT_EQ(SplitWith("gpt-2", "I'll  "), (Pieces{"I", "'ll", "  "}));
  EXPECT_EQ(SplitWith("gpt-2", "x 123!!"), (Pieces{"x", " 123", "!!"}));
  // U+0085 (NEL) and U+3000 are White_Space in HF's regexes.
  EXPECT_EQ(SplitWith("gpt-2", "a\xC2\x85\xC2\x85z"), (Pieces{"a", "\xC2\x85", "\xC2\x85", "z"}));
  EXPECT_EQ(SplitWith("gpt-2", ""), Pieces{});
}

TEST(PreTokenizerTest, Llama3Split) {
  // Case-insensitive contractions, digits in threes, newlines kept with punctuation.
  EXPECT_EQ(SplitWith("llama-bpe", "WE'RE 12345"), (Pieces{"WE", "'RE", " ", "123", "45"}));
  EXPECT_EQ(SplitWith("llama-bpe", "ok.\n\n  x"), (Pieces{"ok", ".\n\n", " ", " x"}));
  EXPECT_EQ(SplitWith("llama-bpe", "a \n b"), (Pieces{"a", " \n", " b"}));
  EXPECT_EQ(SplitWith("llama-bpe", "   "), (Pieces{"   "}));
}

TEST(PreTokenizerTest, SequencesSplitPiecesIndependently) {
  // falcon: punctuation runs first, then GPT-2 inside each piece, then 3-digit groups.
  EXPECT_EQ(SplitWith("falcon", "x1234,5"), (Pieces{"x", "123", "4", ",", "5"}));
  // deepseek-llm: newlines are isolated first; `\s+$` then takes a trailing run.
  EXPECT_EQ(SplitWith("deepseek-llm", "ab  \n"), (Pieces{"ab", "  ", "\n"}));
}

// Every pre-tokenizer covers its input exactly, in order, without empty pieces,
// also on long runs that stress backtracking (spaces before a letter, letters with
// case changes for tekken's lookaheads).
TEST(PreTokenizerTest, LongRunsAreCoveredExactly) {
  std::string text = std::string(100000, ' ') + "x" + std::string(50000, '9') + "\n";
  for (int i = 0; i < 20000; ++i) text += (i % 3 == 0) ? "Ab" : "cD\xC3\xA9";
  text += std::string(20000, '!') + "\r\n\r\n" + std::string(30000, '\t');
  for (std::string_view name : KnownPreTokenizerNames()) {
    auto p = PreTokenizer::Create(FindPreTokenizer(name)->regexes);
    ASSERT_TRUE(p.ok());
    std::string joined;
    for (std::string_view piece : (*p)->Split(text)) {
      ASSERT_FALSE(piece.empty()) << name;
      joined.append(piece);
    }
    EXPECT_EQ(joined, text) << name;
  }
}

}  // namespace
}  // namespace cellar
