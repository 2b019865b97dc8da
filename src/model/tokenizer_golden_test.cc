// stories260K against llama.cpp's golden outputs (../shared/golden): prompt ids
// (add_special=true, parse_special=false) and the greedy continuation's text,
// which llama.cpp built by concatenating llama_token_to_piece(special=false).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/testing/shared_data.h"
#include "gguf/gguf_file.h"
#include "model/streaming_detokenizer.h"
#include "model/tokenizer.h"

namespace cellar {
namespace {

TEST(TokenizerGoldenTest, Stories260KPromptsAndGreedyText) {
  CELLAR_REQUIRE_SHARED(model, "models/stories260K.gguf");
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  auto file = GgufFile::Open(model.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto tok = Tokenizer::FromGguf(**file);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const nlohmann::json golden = nlohmann::json::parse(testing::ReadFileToString(golden_path));
  EXPECT_EQ((*tok)->vocab().bos(), golden["model"]["bos_id"].get<int>());
  EXPECT_EQ((*tok)->vocab().eos(), golden["model"]["eos_id"].get<int>());
  EXPECT_EQ((*tok)->vocab().add_bos(), golden["model"]["add_bos"].get<bool>());
  EXPECT_EQ((*tok)->vocab().add_eos(), golden["model"]["add_eos"].get<bool>());
  ASSERT_GE(golden["prompts"].size(), 8u);
  for (const auto& p : golden["prompts"]) {
    const std::string text = p["text"];
    const auto expected = p["prompt_token_ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = (*tok)->Encode(text, true, false);
    EXPECT_EQ(ids, expected) << p["id"];
    EXPECT_EQ((*tok)->Decode(ids), text) << p["id"];

    const auto gen = p["greedy"]["ids"].get<std::vector<int32_t>>();
    StreamingDetokenizer::Options opts;
    opts.sequence_start = false;  // generated tokens continue the prompt
    StreamingDetokenizer stream(**tok, opts);
    std::string streamed;
    for (int32_t id : gen) streamed += stream.Push(id);
    streamed += stream.Flush();
    EXPECT_EQ(streamed, p["greedy"]["text"].get<std::string>()) << p["id"];
  }
}

}  // namespace
}  // namespace cellar
