// Every vocab file in ../shared/vocab with test vectors: Encode(input,
// add_special=false, parse_special=false) must give exactly the expected ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "model/tokenizer.h"
#include "model/tokenizer_test_vectors.h"

namespace cellar {
namespace {

std::string Escaped(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

class TokenizerVectorsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerVectorsTest, MatchesReferenceIds) {
  const std::string name = "vocab/ggml-vocab-" + GetParam() + ".gguf";
  CELLAR_REQUIRE_SHARED(path, name);
  auto file = GgufFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto tok = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto vectors = testing::ReadTokenizerVectors(path.string() + ".inp", path.string() + ".out");
  ASSERT_TRUE(vectors.has_value());
  ASSERT_EQ(vectors->inputs.size(), vectors->expected.size());
  ASSERT_GE(vectors->inputs.size(), 40u);
  int failures = 0;
  for (size_t i = 0; i < vectors->inputs.size(); ++i) {
    const std::vector<int32_t> got = (*tok)->Encode(vectors->inputs[i], false, false);
    EXPECT_EQ(Join(got), Join(vectors->expected[i]))
        << "input " << i << ": '" << Escaped(vectors->inputs[i]) << "'";
    failures += got != vectors->expected[i];
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(AllVocabs, TokenizerVectorsTest,
                         ::testing::Values("bert-bge", "deepseek-coder", "deepseek-llm", "falcon",
                                           "gpt-2", "llama-bpe", "llama-spm", "mpt", "phi-3",
                                           "qwen2", "refact", "starcoder"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace cellar

namespace cellar {
namespace {

std::unique_ptr<Tokenizer> LoadVocab(const std::filesystem::path& path) {
  auto file = GgufFile::Open(path.string());
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return nullptr;
  auto tok = Tokenizer::FromGguf(**file);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(*tok) : nullptr;
}

// Chat-template text: control tokens are parsed only with parse_special; the text
// between them is tokenized as usual (each piece a single vocabulary token here).
TEST(TokenizerChatTest, Qwen2ChatMarkup) {
  CELLAR_REQUIRE_SHARED(path, "vocab/ggml-vocab-qwen2.gguf");
  auto tok = LoadVocab(path);
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  const int32_t im_start = *v.FindToken("<|im_start|>");
  const int32_t im_end = *v.FindToken("<|im_end|>");
  const int32_t nl = *v.FindToken("\xC4\x8A");  // "\n" in byte-level spelling
  const std::string text = "<|im_start|>user\nhi<|im_end|>\n";
  EXPECT_EQ(
      tok->Encode(text, false, true),
      (std::vector<int32_t>{im_start, *v.FindToken("user"), nl, *v.FindToken("hi"), im_end, nl}));
  const std::vector<int32_t> plain = tok->Encode(text, false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
  EXPECT_EQ(tok->Decode(plain), text);
  EXPECT_TRUE(v.IsEog(im_end));
  EXPECT_TRUE(v.IsEog(v.eos()));
  EXPECT_EQ(v.eot(), im_end);
  EXPECT_FALSE(v.add_bos());
}

TEST(TokenizerChatTest, Llama3HeaderMarkup) {
  CELLAR_REQUIRE_SHARED(path, "vocab/ggml-vocab-llama-bpe.gguf");
  auto tok = LoadVocab(path);
  ASSERT_NE(tok, nullptr);
  const Vocab& v = tok->vocab();
  EXPECT_EQ(v.bos(), 128000);
  EXPECT_EQ(v.eos(), 128001);
  EXPECT_EQ(v.eot(), 128009);  // <|eot_id|>
  EXPECT_TRUE(v.IsEog(128009));
  EXPECT_TRUE(v.IsEog(128001));
  EXPECT_FALSE(v.IsEog(128000));
  const std::string text = "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>";
  EXPECT_EQ(tok->Encode(text, true, true),
            (std::vector<int32_t>{128000, 128006, *v.FindToken("user"), 128007,
                                  *v.FindToken("\xC4\x8A\xC4\x8A"), *v.FindToken("hi"), 128009}));
  EXPECT_EQ(tok->Decode(tok->Encode(text, true, true), true), "<|begin_of_text|>" + text);
}

}  // namespace
}  // namespace cellar
