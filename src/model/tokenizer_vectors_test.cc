// Every vocab file in ../shared/vocab with test vectors: Encode(input,
// add_special=false, parse_special=false) must give exactly the expected ids.
#include <gtest/gtest.h>

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
