// Faults end to end, through the injectable file layer (FaultEnv): a chunk that
// turns out corrupt or torn while a request is being served is never used —
// the step recomputes the loaded range in place — and the output equals a
// full recompute.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"
#include "engine/kv_store_test_util.h"

namespace cellar {
namespace {

using testing::ExpectSameTurn;
using testing::MakeStoreEngine;
using testing::RunGreedy;
using testing::StoreEngine;
using testing::TestStoreOptions;
using testing::TurnResult;

constexpr float kLogprobTol = 2e-3f;  // f16 KV, see kv_store_model_test.cc

class KvStoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf").string();
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "needs ../shared: " << model_;
    LocalEngineOptions o = Engine();
    ref_ = MakeStoreEngine(model_, o, std::nullopt);
    ASSERT_NE(ref_.engine, nullptr);
    p1_ = *ref_.engine->TokenizeText(
        "Lily and Ben went to the park. They saw a big tree with red apples. Ben wanted to climb "
        "it, but Lily was scared.");
    first_ = RunGreedy(*ref_.engine, p1_, 48);
    p2_ = p1_;
    p2_.insert(p2_.end(), first_.tokens.begin(), first_.tokens.end());
    p2_.push_back(p1_[3]);
    want_ = RunGreedy(*ref_.engine, p2_, 16);
  }
  static LocalEngineOptions Engine() {
    LocalEngineOptions o;
    o.prefix_cache = false;  // every reuse comes from the store
    o.n_ctx = 512;
    return o;
  }
  // A disk-only store through the fault layer.
  KvStoreOptions Store() {
    KvStoreOptions so = TestStoreOptions(dir_.path().string());
    so.store.dram_bytes = 0;
    so.store.env = &env_;
    so.loader.io = Loader::Io::kInline;
    return so;
  }
  uint64_t ChunkFileSize() const {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (e.is_regular_file() && e.path().extension() == ".kv") return e.file_size();
    }
    return 0;
  }

  std::string model_;
  testing::TempDir dir_;
  testing::FaultEnv env_;
  StoreEngine ref_;
  std::vector<TokenId> p1_, p2_;
  TurnResult first_, want_;
};

TEST_F(KvStoreFaultTest, CorruptChunkFoundMidLoadIsRecomputedInTheStep) {
  StoreEngine s = MakeStoreEngine(model_, Engine(), Store());
  ASSERT_NE(s.engine, nullptr);
  RunGreedy(*s.engine, p1_, 48);
  s.store->Flush();
  const uint64_t size = ChunkFileSize();
  ASSERT_GT(size, 0u);
  // A flipped byte in the LAST layer's segment of every chunk file: the load
  // delivers layers 0 .. L-2, which the step uses, then fails.
  env_.SetFlipByteOnRead(".kv", size - 9);
  const TurnResult got = RunGreedy(*s.engine, p2_, 16);
  ExpectSameTurn(got, want_, kLogprobTol, "corrupt chunk");
  const StoreMetricsSnapshot m = s.store->Metrics();
  EXPECT_EQ(m.loads_started, 1);
  EXPECT_EQ(m.loads_failed, 1);
  EXPECT_EQ(m.loads_recomputed, 1);
  EXPECT_EQ(m.corrupt_chunks_removed, 1);  // the first chunk read; the load stops there
  // The bad chunk is gone: the next turn finds no prefix (the chain starts with
  // it) and recomputes, correctly.
  env_.ClearFaults();
  const TurnResult again = RunGreedy(*s.engine, p2_, 16);
  ExpectSameTurn(again, want_, kLogprobTol, "after the corrupt chunk was dropped");
  EXPECT_EQ(again.summary.n_cached_tokens, 0);
}

TEST_F(KvStoreFaultTest, TornWritesAreRecomputedThenDroppedAtRestart) {
  auto so = Store();
  {
    StoreEngine s = MakeStoreEngine(model_, Engine(), so);
    ASSERT_NE(s.engine, nullptr);
    // Every chunk file keeps only 400 bytes, while the writes report success.
    env_.SetTornWrites(".kv", 400);
    RunGreedy(*s.engine, p1_, 48);
    s.store->Flush();
    env_.ClearFaults();
    const int n_chunks = static_cast<int>(s.store->Metrics().chunks_disk);
    ASSERT_GT(n_chunks, 0);
    // The index believes the files; the load finds them short.
    const TurnResult got = RunGreedy(*s.engine, p2_, 16);
    ExpectSameTurn(got, want_, kLogprobTol, "torn chunk");
    EXPECT_EQ(s.store->Metrics().loads_recomputed, 1);
    EXPECT_GE(s.store->Metrics().corrupt_chunks_removed, 1);
  }
  // Torn files left behind are caught by the scan at the next start.
  StoreEngine b = MakeStoreEngine(model_, Engine(), so);
  ASSERT_NE(b.engine, nullptr);
  const TurnResult got = RunGreedy(*b.engine, p2_, 16);
  ExpectSameTurn(got, want_, kLogprobTol, "after restart");
  EXPECT_EQ(b.store->Metrics().loads_failed, 0);
}

TEST_F(KvStoreFaultTest, StoreDirectoryDeletedWhileServing) {
  StoreEngine s = MakeStoreEngine(model_, Engine(), Store());
  ASSERT_NE(s.engine, nullptr);
  RunGreedy(*s.engine, p1_, 48);
  s.store->Flush();
  ASSERT_GT(s.store->Metrics().chunks_disk, 0);
  // Someone removes the whole store directory while the server runs.
  std::filesystem::remove_all(dir_.path());
  // The next turn's stored prefix is gone: it is recomputed, correctly.
  const TurnResult got = RunGreedy(*s.engine, p2_, 16);
  ExpectSameTurn(got, want_, kLogprobTol, "store directory deleted");
  EXPECT_EQ(s.store->Metrics().loads_recomputed, 1);
  // A new conversation's saves re-create the directory, and its next turn is
  // served from there. (A range recomputed after a failed load is not saved
  // by that step; the conversation's next turn, a miss, saves it again.)
  std::vector<TokenId> q1 = *ref_.engine->TokenizeText(
      "Tom had a little red boat. Every day he took it to the pond and watched it float on the "
      "water, and the ducks swam after it.");
  const TurnResult q_first = RunGreedy(*s.engine, q1, 40);
  s.store->Flush();
  EXPECT_TRUE(std::filesystem::is_directory(dir_.path()));
  std::vector<TokenId> q2 = q1;
  q2.insert(q2.end(), q_first.tokens.begin(), q_first.tokens.end());
  q2.push_back(q1[2]);
  const TurnResult q_want = RunGreedy(*ref_.engine, q2, 16);
  const TurnResult q_got = RunGreedy(*s.engine, q2, 16);
  ExpectSameTurn(q_got, q_want, kLogprobTol, "after the directory was re-created");
  EXPECT_GT(q_got.summary.n_cached_tokens, 0);
}

}  // namespace
}  // namespace cellar
