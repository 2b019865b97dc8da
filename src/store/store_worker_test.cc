#include "store/store_worker.h"

#include <gtest/gtest.h>

#include <thread>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"
#include "store/store_test_util.h"

namespace cellar {
namespace {

using testing::Conversation;
using testing::FaultEnv;
using testing::MakeConversation;
using testing::TempDir;
using testing::TinyShape;

constexpr int kChunkTokens = 4;
constexpr uint64_t kRawChunk = 256;  // raw bytes of one chunk (write buffer accounting)
constexpr uint64_t kDramChunk = 256 + 16;
constexpr uint64_t kFileChunk = 96 + 16 + 2 * 16 + 4 + 256;

class StoreWorkerTest : public ::testing::Test {
 protected:
  void OpenStore(uint64_t dram_chunks, uint64_t disk_chunks, double watermark = 0) {
    StoreOptions o;
    o.shape = TinyShape();
    o.model = Hash128{1, 2};
    o.chunk_tokens = kChunkTokens;
    o.dram_bytes = dram_chunks * kDramChunk;
    o.disk_bytes = disk_chunks * kFileChunk;
    o.dir = tmp_.path().string();
    o.policy = PolicyKind::kScheduler;
    o.dram_watermark = watermark;
    o.env = &env_;
    auto s = TieredStore::Open(o, &metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  TempDir tmp_;
  FaultEnv env_;
  StoreMetrics metrics_;
  std::unique_ptr<TieredStore> store_;
};

TEST_F(StoreWorkerTest, SavesInTheBackgroundAndDemotesByWatermark) {
  OpenStore(10, 100, /*watermark=*/0.3);
  StoreWorker worker(store_.get(), {});
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 9, 1);
  for (const auto& chunk : c.chunks) worker.Save(chunk, "s");
  worker.Flush();
  EXPECT_EQ(metrics_.chunks_saved.load(), 9);
  // 9 of 10 chunks in DRAM leaves 1 free < 3 (30%): demotion down to 7.
  EXPECT_EQ(store_->dram_used(), 7 * kDramChunk);
  EXPECT_EQ(metrics_.demotions_dram.load(), 2);
  EXPECT_EQ(store_->Lookup(c.hashes, c.tokens, 0, "s").chunks.size(), 9u);
  EXPECT_EQ(metrics_.save_backlog_chunks.load(), 0);
}

TEST_F(StoreWorkerTest, FullWriteBufferDropsTheOldestPendingSaveAndNeverBlocks) {
  OpenStore(10, 100);
  Conversation filler = MakeConversation(TinyShape(), kChunkTokens, 10, 9000);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 6, 1);
  StoreWorker::Options wo;
  wo.write_buffer_bytes = 3 * kRawChunk;
  StoreWorker worker(store_.get(), wo);
  // Fill DRAM so that every further save has to demote to disk first.
  for (const auto& chunk : filler.chunks) {
    worker.Save(chunk, "");
    worker.Flush();
  }
  // The disk hangs: the worker takes c0 and blocks in its demotion write.
  env_.SetWritesBlocked(true);
  worker.Save(c.chunks[0], "s");
  while (env_.blocked_writers() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Five more saves return at once (this test would hang otherwise); the buffer
  // holds three, so the two oldest pending (c1, c2) give way.
  for (int i = 1; i < 6; ++i) worker.Save(c.chunks[static_cast<size_t>(i)], "s");
  EXPECT_EQ(worker.backlog_bytes(), 3 * kRawChunk);
  EXPECT_EQ(metrics_.saves_dropped.load(), 2);
  EXPECT_EQ(metrics_.save_backlog_chunks.load(), 3);
  env_.SetWritesBlocked(false);
  worker.Flush();
  EXPECT_EQ(metrics_.chunks_saved.load(), 10 + 4);
  EXPECT_TRUE(store_->Locate(c.hashes[0]).found());
  EXPECT_FALSE(store_->Locate(c.hashes[1]).found());
  EXPECT_FALSE(store_->Locate(c.hashes[2]).found());
  for (int i = 3; i < 6; ++i) EXPECT_TRUE(store_->Locate(c.hashes[static_cast<size_t>(i)]).found());
  EXPECT_EQ(metrics_.save_backlog_chunks.load(), 0);
}

TEST_F(StoreWorkerTest, SetQueuePrefetchesInTheBackground) {
  OpenStore(10, 100);
  Conversation a = MakeConversation(TinyShape(), kChunkTokens, 2, 1);
  {
    StoreWorker worker(store_.get(), {});
    for (const auto& chunk : a.chunks) worker.Save(chunk, "a");
    worker.Close(/*persist_dram=*/true);
  }
  EXPECT_FALSE(store_->Locate(a.hashes[0]).dram);
  StoreWorker worker(store_.get(), {});
  worker.SetQueue({"a"});
  worker.Flush();
  EXPECT_TRUE(store_->Locate(a.hashes[0]).dram);
  EXPECT_TRUE(store_->Locate(a.hashes[1]).dram);
  EXPECT_EQ(metrics_.prefetch_issued.load(), 2);
}

TEST_F(StoreWorkerTest, CloseStoresPendingAndPersists) {
  OpenStore(10, 100);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 1);
  {
    StoreWorker worker(store_.get(), {});
    for (const auto& chunk : c.chunks) worker.Save(chunk, "s");
    worker.Close(/*persist_dram=*/true);
    worker.Save(c.chunks[0], "late");  // after Close: dropped, counted
  }
  EXPECT_EQ(metrics_.saves_dropped.load(), 1);
  store_.reset();
  StoreMetrics m2;
  StoreOptions o = StoreOptions{};
  o.shape = TinyShape();
  o.model = Hash128{1, 2};
  o.chunk_tokens = kChunkTokens;
  o.disk_bytes = 100 * kFileChunk;
  o.dir = tmp_.path().string();
  auto s = TieredStore::Open(o, &m2);
  ASSERT_TRUE(s.ok());
  auto m = (*s)->Lookup(c.hashes, c.tokens, 0, "");
  ASSERT_EQ(m.chunks.size(), 3u);
  EXPECT_EQ(m.chunks[0].tier, Tier::kDisk);
}

}  // namespace
}  // namespace cellar
