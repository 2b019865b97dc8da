// The serving loop on a real model (stories260K): continuous batching gives the
// same greedy outputs as sequential runs, prefix reuse, cancellation,
// preemption under a tiny KV pool, stop rules, logprobs, queue limit.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/testing/shared_data.h"
#include "engine/engine_service_local.h"
#include "kv/block_hash.h"

namespace cellar {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  std::vector<TokenId> tokens;
  std::string text;  // streamed pieces + the summary's text
  std::vector<TokenOutput> outputs;
  RequestSummary summary;
};

// Waits until `pred` holds (the stats are published after each step).
bool WaitFor(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  return pred();
}

Outcome Drain(RequestHandle& h) {
  Outcome o;
  RequestEvents ev;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!h.channel().Take(100ms, &ev)) continue;
    for (TokenOutput& t : ev.tokens) {
      o.tokens.push_back(t.token);
      o.text += t.text;
      o.outputs.push_back(std::move(t));
    }
    if (ev.summary) {
      o.summary = std::move(*ev.summary);
      o.text += o.summary.text;
      return o;
    }
  }
  ADD_FAILURE() << "no summary within 120 s";
  return o;
}

class EngineLoopModelTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalEngineService> Make(LocalEngineOptions o = {}) {
    o.model_path = model_path_.string();
    // One compute thread: stories260K is tiny, and a shared, oversubscribed
    // machine makes every thread barrier expensive.
    if (o.n_threads == 0) o.n_threads = 1;
    auto s = LocalEngineService::Create(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  GenerateRequest Greedy(LocalEngineService& s, const std::string& text, int max_tokens) {
    GenerateRequest r;
    r.prompt = *s.TokenizeText(text);
    r.sampling.temperature = 0.0f;
    r.max_tokens = max_tokens;
    return r;
  }

  Outcome Run(LocalEngineService& s, GenerateRequest r) {
    auto h = s.Submit(std::move(r));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    if (!h.ok()) return {};
    return Drain(*h);
  }

  void SetUp() override {
    model_path_ = testing::SharedPath("models/stories260K.gguf");
    if (!std::filesystem::exists(model_path_))
      GTEST_SKIP() << "needs ../shared: models/stories260K.gguf";
  }

  std::filesystem::path model_path_;
};

const std::vector<std::string>& Prompts() {
  static const std::vector<std::string> p = {"Once upon a time",
                                             "The little dog",
                                             "Lily and Ben went to the park. They saw",
                                             "One day, a big red ball",
                                             "Tom had a toy car. He",
                                             "The sun was shining and the birds",
                                             "Mom said,",
                                             "There was a cat who liked to"};
  return p;
}

TEST_F(EngineLoopModelTest, GreedyMatchesLlamaCppGolden) {
  CELLAR_REQUIRE_SHARED(golden_path, "golden/stories260K_golden.json");
  LocalEngineOptions o;
  o.kv_type = KvType::kF32;  // the golden file's setting
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  std::ifstream f(golden_path);
  const auto golden = nlohmann::json::parse(f);
  for (const auto& p : golden["prompts"]) {
    if (p["id"] != "short" && p["id"] != "long_story") continue;
    GenerateRequest r;
    r.prompt = p["prompt_token_ids"].get<std::vector<TokenId>>();
    EXPECT_EQ(r.prompt, *s->TokenizeText(p["text"].get<std::string>())) << p["id"];
    r.sampling.temperature = 0.0f;
    r.max_tokens = p["greedy"]["n_generated"].get<int>();
    Outcome out = Run(*s, std::move(r));
    EXPECT_EQ(out.tokens, p["greedy"]["ids"].get<std::vector<TokenId>>()) << p["id"];
    EXPECT_EQ(out.text, p["greedy"]["text"].get<std::string>()) << p["id"];
    EXPECT_EQ(out.summary.finish_reason, FinishReason::kLength);
  }
}

TEST_F(EngineLoopModelTest, ConcurrentGreedyEqualsSequential) {
  auto s = Make();
  ASSERT_NE(s, nullptr);
  std::vector<Outcome> sequential;
  for (const std::string& p : Prompts()) sequential.push_back(Run(*s, Greedy(*s, p, 40)));
  // A fresh engine (no cached prefixes), all 8 at once.
  s = Make();
  ASSERT_NE(s, nullptr);
  std::vector<RequestHandle> handles;
  for (const std::string& p : Prompts()) {
    auto h = s->Submit(Greedy(*s, p, 40));
    ASSERT_TRUE(h.ok());
    handles.push_back(std::move(*h));
  }
  for (size_t i = 0; i < handles.size(); ++i) {
    Outcome o = Drain(handles[i]);
    EXPECT_EQ(o.tokens, sequential[i].tokens) << Prompts()[i];
    EXPECT_EQ(o.text, sequential[i].text) << Prompts()[i];
    EXPECT_EQ(o.summary.n_completion_tokens, 40);
    EXPECT_EQ(o.summary.finish_reason, FinishReason::kLength);
    EXPECT_GE(o.summary.first_token_nanos, o.summary.arrival_nanos);
  }
  EXPECT_TRUE(WaitFor([&] { return s->Stats().n_generated_tokens == 8u * 40u; }));
  EngineStats st = s->Stats();
  EXPECT_EQ(st.n_running, 0);
  EXPECT_EQ(st.n_waiting, 0);
  EXPECT_EQ(st.n_blocks_used, 0);
}

TEST_F(EngineLoopModelTest, PrefixReuseReportsCachedTokens) {
  auto s = Make();
  ASSERT_NE(s, nullptr);
  const std::string first =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park "
      "with her friends and her dog.";
  GenerateRequest a = Greedy(*s, first, 8);
  const size_t n_a = a.prompt.size();
  ASSERT_GE(n_a, 32u);
  Outcome oa = Run(*s, a);
  EXPECT_EQ(oa.summary.n_cached_tokens, 0);
  // The same prompt again: every full block but the one holding the last token.
  Outcome again = Run(*s, Greedy(*s, first, 8));
  EXPECT_EQ(again.summary.n_cached_tokens, static_cast<int>((n_a - 1) / 16 * 16));
  EXPECT_EQ(again.tokens, oa.tokens);
  // A longer prompt that starts with the first: its full blocks are reused.
  GenerateRequest b = Greedy(*s, first + " One day, she saw a bird.", 8);
  ASSERT_TRUE(std::equal(a.prompt.begin(), a.prompt.end(), b.prompt.begin()));
  Outcome ob = Run(*s, b);
  EXPECT_EQ(ob.summary.n_cached_tokens, static_cast<int>(n_a / 16 * 16));
  EXPECT_EQ(ob.summary.n_prompt_tokens, static_cast<int>(b.prompt.size()));
  // Another tenant never sees them.
  GenerateRequest c = Greedy(*s, first, 8);
  c.tenant_salt = MakeTenantSalt("other");
  Outcome oc = Run(*s, c);
  EXPECT_EQ(oc.summary.n_cached_tokens, 0);
  EXPECT_EQ(oc.tokens, oa.tokens);
  EXPECT_TRUE(WaitFor([&] { return s->Stats().n_running == 0; }));
  EngineStats st = s->Stats();
  EXPECT_EQ(st.hit_tokens_by_tier.at("pool"),
            static_cast<uint64_t>(again.summary.n_cached_tokens + ob.summary.n_cached_tokens));
  EXPECT_EQ(st.n_prompt_tokens, static_cast<uint64_t>(3 * n_a + b.prompt.size()));
  EXPECT_EQ(st.n_miss_tokens, st.n_prompt_tokens - st.hit_tokens_by_tier.at("pool"));
}

TEST_F(EngineLoopModelTest, PrefixCacheOff) {
  LocalEngineOptions o;
  o.prefix_cache = false;
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  const std::string p = "Once upon a time, there was a little girl named Lily. She loved to play.";
  Run(*s, Greedy(*s, p, 4));
  EXPECT_EQ(Run(*s, Greedy(*s, p, 4)).summary.n_cached_tokens, 0);
}

TEST_F(EngineLoopModelTest, CancellationFreesBlocks) {
  LocalEngineOptions o;
  o.TEST_step_delay_nanos = 5'000'000;  // 5 ms a step: the request is surely running
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  auto h = s->Submit(Greedy(*s, "Once upon a time", 400));
  ASSERT_TRUE(h.ok());
  RequestEvents ev;
  while (ev.tokens.empty()) ASSERT_TRUE(h->channel().Take(10s, &ev));
  EXPECT_TRUE(WaitFor([&] { return s->Stats().n_blocks_used > 0; }));
  h->Cancel();
  Outcome o2 = Drain(*h);
  EXPECT_EQ(o2.summary.finish_reason, FinishReason::kCancelled);
  EXPECT_LT(o2.summary.n_completion_tokens, 400);
  EXPECT_TRUE(WaitFor([&] { return s->Stats().n_blocks_used == 0; }));
  EXPECT_EQ(s->Stats().n_running, 0);
}

TEST_F(EngineLoopModelTest, DroppingTheHandleCancels) {
  LocalEngineOptions o;
  o.TEST_step_delay_nanos = 5'000'000;
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  {
    auto h = s->Submit(Greedy(*s, "Once upon a time", 400));
    ASSERT_TRUE(h.ok());
    RequestEvents ev;
    while (ev.tokens.empty()) ASSERT_TRUE(h->channel().Take(10s, &ev));
  }
  EXPECT_TRUE(WaitFor([&] { return s->Stats().n_running == 0 && s->Stats().n_blocks_used == 0; }));
}

TEST_F(EngineLoopModelTest, PreemptionUnderTinyPoolKeepsOutputs) {
  auto big = Make();
  ASSERT_NE(big, nullptr);
  std::vector<Outcome> expected;
  for (size_t i = 0; i < 4; ++i) expected.push_back(Run(*big, Greedy(*big, Prompts()[i], 100)));
  big.reset();
  // 12 blocks of 16 tokens: four requests of ~110 tokens cannot all hold their
  // blocks at once, so some are preempted and recomputed.
  LocalEngineOptions o;
  o.kv_mem_bytes = 0;
  auto probe = Make();
  ASSERT_NE(probe, nullptr);
  o.kv_mem_bytes = probe->kv_layout().BlockBytes() * 12;
  probe.reset();
  o.prefix_cache = false;  // every recompute really recomputes
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->model_info().n_ctx, 12 * 16);
  std::vector<RequestHandle> handles;
  for (size_t i = 0; i < 4; ++i) {
    auto h = s->Submit(Greedy(*s, Prompts()[i], 100));
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    handles.push_back(std::move(*h));
  }
  int preemptions = 0;
  for (size_t i = 0; i < 4; ++i) {
    Outcome out = Drain(handles[i]);
    EXPECT_EQ(out.tokens, expected[i].tokens) << Prompts()[i];
    EXPECT_EQ(out.text, expected[i].text);
    EXPECT_EQ(out.summary.finish_reason, FinishReason::kLength);
    preemptions += out.summary.n_preemptions;
  }
  EXPECT_GT(preemptions, 0);
  EXPECT_TRUE(WaitFor([&] { return s->Stats().n_blocks_used == 0; }));
  EXPECT_EQ(s->Stats().n_preemptions, static_cast<uint64_t>(preemptions));
}

TEST_F(EngineLoopModelTest, StopStringsAreHeldBackAndCut) {
  auto s = Make();
  ASSERT_NE(s, nullptr);
  Outcome full = Run(*s, Greedy(*s, "Once upon a time", 48));
  // Stop at the second word of the continuation.
  const size_t space = full.text.find(' ', 2);
  ASSERT_NE(space, std::string::npos) << full.text;
  const std::string stop = full.text.substr(space, 4);
  GenerateRequest r = Greedy(*s, "Once upon a time", 48);
  r.stop = {"never-there", stop};
  Outcome out = Run(*s, r);
  EXPECT_EQ(out.summary.finish_reason, FinishReason::kStop);
  EXPECT_EQ(out.summary.stop_string, stop);
  EXPECT_EQ(out.text, full.text.substr(0, full.text.find(stop)));
  for (const TokenOutput& t : out.outputs) EXPECT_EQ(t.text.find(stop), std::string::npos);
  EXPECT_LT(out.summary.n_completion_tokens, 48);
}

TEST_F(EngineLoopModelTest, ContextLimitAndMaxTokens) {
  LocalEngineOptions o;
  o.n_ctx = 40;
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->model_info().n_ctx, 40);
  GenerateRequest r = Greedy(*s, "Once upon a time", 0);
  const int n_prompt = static_cast<int>(r.prompt.size());
  Outcome out = Run(*s, r);
  EXPECT_EQ(out.summary.finish_reason, FinishReason::kLength);
  EXPECT_EQ(out.summary.n_completion_tokens, 40 - n_prompt);
  // Prompt + max_tokens over the context is refused up front.
  auto refused = s->Submit(Greedy(*s, "Once upon a time", 40));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kOutOfRange);
  auto bad = s->Submit(GenerateRequest{.prompt = {1, 100000}});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineLoopModelTest, GreedyLogprobs) {
  auto s = Make();
  ASSERT_NE(s, nullptr);
  GenerateRequest r = Greedy(*s, "Once upon a time", 6);
  r.logprobs = LogprobsOptions{.enabled = true, .n_top = 3};
  Outcome out = Run(*s, r);
  ASSERT_EQ(out.outputs.size(), 6u);
  for (const TokenOutput& t : out.outputs) {
    ASSERT_TRUE(t.logprobs.has_value());
    EXPECT_EQ(t.logprobs->chosen.token, t.token);
    EXPECT_LE(t.logprobs->chosen.logprob, 0.0f);
    ASSERT_EQ(t.logprobs->top.size(), 3u);
    EXPECT_EQ(t.logprobs->top[0].token, t.token);  // greedy picks the most likely
    EXPECT_FLOAT_EQ(t.logprobs->top[0].logprob, t.logprobs->chosen.logprob);
    EXPECT_GE(t.logprobs->top[0].logprob, t.logprobs->top[1].logprob);
    EXPECT_EQ(t.logprobs->chosen.text, s->tokenizer().TokenToPiece(t.token));
  }
}

TEST_F(EngineLoopModelTest, QueueLimit) {
  LocalEngineOptions o;
  o.max_queue = 1;
  o.max_running = 1;
  o.TEST_step_delay_nanos = 20'000'000;
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  auto a = s->Submit(Greedy(*s, "Once upon a time", 100));
  ASSERT_TRUE(a.ok());
  RequestEvents ev;
  while (ev.tokens.empty()) ASSERT_TRUE(a->channel().Take(10s, &ev));  // a is running
  auto b = s->Submit(Greedy(*s, "The little dog", 4));                 // b waits
  ASSERT_TRUE(b.ok());
  auto c = s->Submit(Greedy(*s, "Mom said,", 4));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(EngineLoopModelTest, StopCancelsInFlightAndRefusesNew) {
  LocalEngineOptions o;
  o.TEST_step_delay_nanos = 5'000'000;
  auto s = Make(o);
  ASSERT_NE(s, nullptr);
  auto a = s->Submit(Greedy(*s, "Once upon a time", 400));
  ASSERT_TRUE(a.ok());
  s->Stop();
  Outcome out = Drain(*a);
  EXPECT_EQ(out.summary.finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(s->Submit(Greedy(*s, "x", 1)).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cellar
