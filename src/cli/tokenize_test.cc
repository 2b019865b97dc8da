// `cellar tokenize` / `cellar detokenize` run as a user would: exact stdout bytes
// and exit codes, against llama.cpp's golden ids and the vocab test vectors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/testing/shared_data.h"
#include "model/tokenizer_test_vectors.h"

namespace cellar {
namespace {

struct RunResult {
  int exit_code;
  std::string out;
};

// Runs `cellar <args>` with `input` on stdin.
RunResult RunCellar(const std::string& args, const std::string& input) {
  static testing::TempDir dir;
  const auto in = dir.path() / "stdin";
  const auto out = dir.path() / "stdout";
  std::ofstream(in, std::ios::binary) << input;
  const std::string cmd = std::string(CELLAR_BINARY) + " " + args + " < '" + in.string() + "' > '" +
                          out.string() + "' 2>/dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::ReadFileToString(out)};
}

std::string Join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

TEST(TokenizeCliTest, Stories260KMatchesGoldenAndRoundTrips) {
  CELLAR_REQUIRE_SHARED(model, "models/stories260K.gguf");
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  const auto golden = nlohmann::json::parse(testing::ReadFileToString(golden_path));
  const std::string m = "-m '" + model.string() + "'";
  for (const auto& p : golden["prompts"]) {
    const std::string text = p["text"];
    const auto ids = p["prompt_token_ids"].get<std::vector<int32_t>>();
    const RunResult tok = RunCellar("tokenize " + m, text);
    ASSERT_EQ(tok.exit_code, 0);
    EXPECT_EQ(tok.out, Join(ids) + "\n") << p["id"];
    const RunResult detok = RunCellar("detokenize " + m, tok.out);
    ASSERT_EQ(detok.exit_code, 0);
    EXPECT_EQ(detok.out, text) << p["id"];  // exactly, no added newline
  }
  EXPECT_EQ(RunCellar("tokenize --no-bos " + m, "Once upon a time").out, "403 407 261 378\n");
  EXPECT_EQ(RunCellar("tokenize " + m, "").out, "1\n");
  EXPECT_EQ(RunCellar("tokenize --no-bos " + m, "").out, "\n");
  EXPECT_EQ(RunCellar("detokenize --special " + m, "1 403").out, "<s> Once");
  EXPECT_EQ(RunCellar("detokenize " + m, "").out, "");
}

TEST(TokenizeCliTest, BadInputFails) {
  CELLAR_REQUIRE_SHARED(model, "models/stories260K.gguf");
  const std::string m = "-m '" + model.string() + "'";
  EXPECT_NE(RunCellar("detokenize " + m, "1 abc").exit_code, 0);
  EXPECT_NE(RunCellar("detokenize " + m, "1 512").exit_code, 0);  // n_vocab = 512
  EXPECT_NE(RunCellar("detokenize " + m, "-1").exit_code, 0);
  EXPECT_NE(RunCellar("detokenize " + m, "3.5").exit_code, 0);
  EXPECT_EQ(RunCellar("detokenize " + m, "1 abc").out, "");
  EXPECT_NE(RunCellar("tokenize -m /nonexistent.gguf", "x").exit_code, 0);
  EXPECT_NE(RunCellar("tokenize", "x").exit_code, 0);  // -m is required
}

TEST(TokenizeCliTest, ParsesSpecialTokensOnlyWithFlag) {
  CELLAR_REQUIRE_SHARED(model, "vocab/ggml-vocab-llama-bpe.gguf");
  const std::string m = "-m '" + model.string() + "'";
  const RunResult plain = RunCellar("tokenize --no-bos " + m, "<|eot_id|>");
  const RunResult special = RunCellar("tokenize --no-bos --special " + m, "<|eot_id|>");
  EXPECT_EQ(special.out, "128009\n");
  EXPECT_NE(plain.out, special.out);
  EXPECT_EQ(RunCellar("tokenize --special " + m, "<|eot_id|>").out, "128000 128009\n");
  EXPECT_EQ(RunCellar("detokenize " + m, plain.out).out, "<|eot_id|>");
}

class TokenizeCliVectorsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizeCliVectorsTest, MatchesVectors) {
  CELLAR_REQUIRE_SHARED(model, "vocab/ggml-vocab-" + GetParam() + ".gguf");
  const auto v = testing::ReadTokenizerVectors(model.string() + ".inp", model.string() + ".out");
  ASSERT_TRUE(v.has_value());
  ASSERT_GE(v->inputs.size(), 40u);
  const std::string m = "-m '" + model.string() + "'";
  // A few inputs: plain words, whitespace only, and the long mixed-script last one.
  for (size_t i : {size_t{0}, size_t{4}, size_t{11}, v->inputs.size() - 1}) {
    const RunResult r = RunCellar("tokenize --no-bos " + m, v->inputs[i]);
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, Join(v->expected[i]) + "\n") << "input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVocabs, TokenizeCliVectorsTest,
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
