// Over-long conversations on a real engine: they run, keep the system prompt,
// report the dropped tokens, reuse the kept history at its new positions (no
// recompute), and the truncated layout's chunks are named apart from an
// untruncated prompt with the same tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/testing/shared_data.h"
#include "engine/kv_store_test_util.h"
#include "kv/block_hash.h"

namespace cellar {
namespace {

using testing::MakeStoreEngine;
using testing::RunGreedy;
using testing::StoreEngine;
using testing::TestStoreOptions;
using testing::TurnResult;

constexpr int kCtx = 256;
constexpr int kChunk = 32;

class KvStoreTruncationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf").string();
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "needs ../shared: " << model_;
  }
  static LocalEngineOptions Engine() {
    LocalEngineOptions o;
    o.n_ctx = kCtx;
    return o;
  }
  KvStoreOptions Store(const std::string& name) const {
    KvStoreOptions so = TestStoreOptions((dir_.path() / name).string());
    so.store.chunk_tokens = kChunk;  // the truncation step: n_ctx / 8 = 32
    return so;
  }
  // A system prompt, then a story long enough that two turns overflow 256 tokens.
  void MakeConversation(LocalEngineService& e) {
    system_ = *e.TokenizeText("You are a storyteller. Tell short happy stories for children.");
    std::vector<TokenId> story = *e.TokenizeText(
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
        "park with her friends. One day, she saw a big red ball under a tree. She ran to get it, "
        "but a small dog took it first.");
    p1_ = system_;
    p1_.insert(p1_.end(), story.begin() + 1, story.end());
  }
  std::vector<TokenId> Extend(const std::vector<TokenId>& prompt, const TurnResult& reply,
                              LocalEngineService& e, const std::string& text) {
    std::vector<TokenId> p = prompt;
    p.insert(p.end(), reply.tokens.begin(), reply.tokens.end());
    std::vector<TokenId> more = *e.TokenizeText(text);
    p.insert(p.end(), more.begin() + 1, more.end());
    return p;
  }

  std::string model_;
  testing::TempDir dir_;
  std::vector<TokenId> system_, p1_;
};

TEST_F(KvStoreTruncationTest, OverlongTurnsKeepTheSystemPromptAndReuseTheRest) {
  StoreEngine s = MakeStoreEngine(model_, Engine(), Store("t"));
  ASSERT_NE(s.engine, nullptr);
  MakeConversation(*s.engine);
  const int n_keep = static_cast<int>(system_.size());
  ASSERT_GT(n_keep, 8);
  const TurnResult r1 = RunGreedy(*s.engine, p1_, 64, "conv", n_keep);
  ASSERT_EQ(r1.summary.n_dropped_tokens, 0);
  s.store->Flush();
  const std::vector<TokenId> p2 =
      Extend(p1_, r1, *s.engine, "The dog ran away and Lily ran after it.");
  // Turn 2 overflows the context by 16 tokens.
  const int max_tokens = kCtx + 16 - static_cast<int>(p2.size());
  ASSERT_GE(max_tokens, 16);

  const TurnResult r2 = RunGreedy(*s.engine, p2, max_tokens, "conv", n_keep);
  EXPECT_EQ(r2.summary.finish_reason, EndReason::kLength);
  EXPECT_EQ(r2.summary.n_completion_tokens, max_tokens);
  // One step of 32 tokens right after the system prompt is dropped.
  EXPECT_EQ(r2.summary.n_dropped_tokens, kChunk);
  EXPECT_EQ(r2.summary.n_prompt_tokens, static_cast<int>(p2.size()) - kChunk);
  // The kept history comes from turn 1's chunks, at positions moved down by 32:
  // everything turn 1 stored after the dropped run.
  const int stored = static_cast<int>(p1_.size() + r1.tokens.size() - 1) / kChunk * kChunk;
  EXPECT_EQ(r2.summary.n_cached_tokens, (stored - kChunk) / 16 * 16);
  EXPECT_EQ(s.Hits("dram"), static_cast<uint64_t>(r2.summary.n_cached_tokens));
  const StoreMetricsSnapshot m = s.store->Metrics();
  EXPECT_EQ(m.truncations, 1);
  EXPECT_EQ(m.dropped_tokens, kChunk);
  s.store->Flush();

  // Turn 3 overflows by more than one step: the conversation is laid out again
  // (64 dropped), loading turn 2's truncated layout at positions moved by 32.
  const std::vector<TokenId> p3 = Extend(p2, r2, *s.engine, "They played together.");
  const int max_tokens3 = kCtx + 2 * kChunk - static_cast<int>(p3.size());  // over by 64
  ASSERT_GE(max_tokens3, 8);
  const TurnResult r3 = RunGreedy(*s.engine, p3, max_tokens3, "conv", n_keep);
  EXPECT_EQ(r3.summary.n_dropped_tokens, 2 * kChunk);
  EXPECT_EQ(r3.summary.n_completion_tokens, max_tokens3);
  const int stored2 =
      (static_cast<int>(p2.size()) - kChunk + static_cast<int>(r2.tokens.size()) - 1) / kChunk *
      kChunk;
  EXPECT_EQ(r3.summary.n_cached_tokens, (stored2 - kChunk) / 16 * 16);

  // The same conversation as turn 2, again: the same layout, the same derived
  // salt: reused straight from the pool.
  const TurnResult r2b = RunGreedy(*s.engine, p2, max_tokens, "conv", n_keep);
  EXPECT_EQ(r2b.tokens, r2.tokens);
  EXPECT_EQ(r2b.summary.n_dropped_tokens, kChunk);
  EXPECT_EQ(r2b.summary.n_cached_tokens, (static_cast<int>(p2.size()) - kChunk - 1) / 16 * 16);

  // The truncated prompt's tokens sent as an ordinary prompt (it fits): its KV
  // differs from the truncated layout's, and so do its names — only the part
  // shared with the untruncated conversation (the system prompt's whole
  // blocks) is reused.
  std::vector<TokenId> flat(p2.begin(), p2.begin() + n_keep);
  flat.insert(flat.end(), p2.begin() + n_keep + kChunk, p2.end());
  const TurnResult rf = RunGreedy(*s.engine, flat, 4, "other");
  EXPECT_EQ(rf.summary.n_dropped_tokens, 0);
  EXPECT_EQ(rf.summary.n_cached_tokens, n_keep / 16 * 16);
}

TEST_F(KvStoreTruncationTest, WithoutAStoreTheTruncatedTextIsRecomputed) {
  KvStoreOptions so = Store("off");
  so.enabled = false;
  StoreEngine s = MakeStoreEngine(model_, Engine(), so);
  ASSERT_NE(s.engine, nullptr);
  MakeConversation(*s.engine);
  const TurnResult r1 = RunGreedy(*s.engine, p1_, 64, std::nullopt, 0);
  const std::vector<TokenId> p2 = Extend(p1_, r1, *s.engine, "The dog ran away.");
  const TurnResult r2 = RunGreedy(*s.engine, p2, kCtx - static_cast<int>(p2.size()) + 8);
  EXPECT_EQ(r2.summary.n_dropped_tokens, kChunk);
  EXPECT_EQ(r2.summary.n_cached_tokens, 0);  // only the first 4 tokens stay (the default)
}

TEST_F(KvStoreTruncationTest, OverflowErrorRefuses) {
  KvStoreOptions so = Store("error");
  so.truncation.truncate = false;
  StoreEngine s = MakeStoreEngine(model_, Engine(), so);
  ASSERT_NE(s.engine, nullptr);
  GenerateRequest r;
  r.prompt.assign(kCtx, 5);
  r.max_tokens = 8;
  auto h = s.engine->Submit(std::move(r));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace cellar
