// Generate() on stories260K: greedy golden ids, stop strings, end of generation,
// logprobs, limits and cancellation.
#include <gtest/gtest.h>

#include "engine/generate.h"
#include "engine/golden_test_util.h"
#include "model/tokenizer.h"

namespace cellar {
namespace {

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto model_path = testing::SharedPath("models/stories260K.gguf");
    const auto golden_path = testing::SharedPath("golden/stories260K_golden.json");
    if (!std::filesystem::exists(model_path) || !std::filesystem::exists(golden_path)) {
      GTEST_SKIP() << "needs ../shared";
    }
    auto m = Model::Load(model_path.string());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    auto t = Tokenizer::FromGguf(model_->gguf());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tokenizer_ = std::move(t).value();
    for (const auto& g : testing::LoadGolden(golden_path)) {
      if (g.id == "short") golden_ = g;
    }
    ASSERT_EQ(golden_.greedy_ids.size(), 64u);
  }

  std::unique_ptr<LocalSession> Session() {
    LocalSessionOptions o;
    o.n_ctx = 256;
    auto s = LocalSession::Create(*model_, &pool_, o);
    EXPECT_TRUE(s.ok());
    return std::move(s).value();
  }

  // Feeds the golden prompt and generates; `texts` collects what on_token saw.
  GenerateResult Run(const GenerateOptions& o, std::string* texts = nullptr,
                     LocalSession** session_out = nullptr) {
    session_ = Session();
    auto logits = session_->Feed(golden_.prompt_ids);
    EXPECT_TRUE(logits.ok());
    auto r = Generate(*session_, *tokenizer_, *logits, o, [&](const GeneratedToken& t) {
      if (texts != nullptr) *texts += t.text;
      return true;
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (session_out != nullptr) *session_out = session_.get();
    return r.ok() ? std::move(r).value() : GenerateResult{};
  }

  ThreadPool pool_{1};
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<LocalSession> session_;
  testing::GoldenPrompt golden_;
};

TEST_F(GenerateTest, GreedyEqualsGoldenAndStreamsTheWholeText) {
  GenerateOptions o;
  o.max_tokens = 64;
  std::string streamed;
  LocalSession* s = nullptr;
  const GenerateResult r = Run(o, &streamed, &s);
  EXPECT_EQ(r.ids, golden_.greedy_ids);
  EXPECT_EQ(r.finish, FinishReason::kLength);
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.text.rfind(", there was a little girl named Lily.", 0), 0u) << r.text;
  // Every generated token but the last was fed back.
  EXPECT_EQ(s->n_past(), static_cast<int32_t>(golden_.prompt_ids.size()) + 63);
}

TEST_F(GenerateTest, StopStringCutsTheText) {
  GenerateOptions o;
  o.max_tokens = 64;
  o.stop = {"Lily"};
  std::string streamed;
  const GenerateResult r = Run(o, &streamed);
  EXPECT_EQ(r.finish, FinishReason::kStopString);
  EXPECT_EQ(r.text, ", there was a little girl named ");
  EXPECT_EQ(streamed, r.text);
  // The ids stop with the token that completed "Lily".
  const std::vector<int32_t> prefix(golden_.greedy_ids.begin(),
                                    golden_.greedy_ids.begin() + static_cast<long>(r.ids.size()));
  EXPECT_EQ(r.ids, prefix);
}

TEST_F(GenerateTest, EndOfGenerationTokenStopsAndIsNotPrinted) {
  // stories260K never ends a story with </s> (its stories are separated by BOS),
  // so declare the 6th golden greedy token the EOS of a copy of its vocabulary.
  const GgufFile& f = model_->gguf();
  VocabData d;
  d.model = "llama";
  d.tokens = *f.GetStringArray("tokenizer.ggml.tokens");
  d.scores = *f.GetFloatArray("tokenizer.ggml.scores");
  auto types = f.GetIntArray("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok());
  const std::vector<int64_t> type_values = std::move(types).value();
  for (int64_t t : type_values) d.token_types.push_back(static_cast<int32_t>(t));
  d.bos_id = 1;
  d.unk_id = 0;
  const int32_t eos = golden_.greedy_ids[5];
  d.eos_id = eos;
  auto vocab = Vocab::FromData(std::move(d));
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  auto tok = Tokenizer::FromVocab(std::move(vocab).value());
  ASSERT_TRUE(tok.ok());
  ASSERT_TRUE((*tok)->vocab().IsEog(eos));
  session_ = Session();
  auto logits = session_->Feed(golden_.prompt_ids);
  ASSERT_TRUE(logits.ok());
  GenerateOptions o;
  o.max_tokens = 64;
  std::string streamed;
  auto r = Generate(*session_, **tok, *logits, o, [&](const GeneratedToken& t) {
    streamed += t.text;
    return true;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kEndOfGeneration);
  const std::vector<int32_t> want(golden_.greedy_ids.begin(), golden_.greedy_ids.begin() + 6);
  EXPECT_EQ(r->ids, want);  // the EOG token is recorded, nothing after it
  EXPECT_EQ(r->text, tokenizer_->Decode(std::vector<int32_t>(want.begin(), want.end() - 1)));
  EXPECT_EQ(streamed, r->text);
}

TEST_F(GenerateTest, LogprobsOfGreedyTokensAreTheTopOnes) {
  GenerateOptions o;
  o.max_tokens = 8;
  o.top_logprobs = 3;
  session_ = Session();
  auto logits = session_->Feed(golden_.prompt_ids);
  ASSERT_TRUE(logits.ok());
  int n = 0;
  auto r = Generate(*session_, *tokenizer_, *logits, o, [&](const GeneratedToken& t) {
    if (t.id < 0) return true;
    ++n;
    EXPECT_EQ(t.logprob.token, t.id);
    EXPECT_LE(t.logprob.logprob, 0.0f);
    EXPECT_EQ(t.top.size(), 3u);
    EXPECT_EQ(t.top[0].token, t.id);  // greedy: the chosen token is the most likely
    EXPECT_EQ(t.top[0].logprob, t.logprob.logprob);
    EXPECT_GE(t.top[0].logprob, t.top[1].logprob);
    EXPECT_GE(t.top[1].logprob, t.top[2].logprob);
    return true;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(n, 8);
}

TEST_F(GenerateTest, CancelAndContextLimit) {
  session_ = Session();
  auto logits = session_->Feed(golden_.prompt_ids);
  ASSERT_TRUE(logits.ok());
  GenerateOptions o;
  o.max_tokens = 64;
  int seen = 0;
  auto r = Generate(*session_, *tokenizer_, *logits, o,
                    [&](const GeneratedToken&) { return ++seen < 3; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ids.size(), 3u);

  LocalSessionOptions small;
  small.n_ctx = 10;
  auto s = LocalSession::Create(*model_, &pool_, small);
  ASSERT_TRUE(s.ok());
  logits = (*s)->Feed(golden_.prompt_ids);  // 5 tokens
  ASSERT_TRUE(logits.ok());
  r = Generate(**s, *tokenizer_, *logits, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kContextFull);
  EXPECT_EQ(r->ids.size(), 6u);  // 5 fed back fill the context, the 6th is sampled last
  EXPECT_EQ((*s)->n_past(), 10);
}

}  // namespace
}  // namespace cellar
