// Faults injected through the file layer: every one gives a miss (never wrong
// data) and the store keeps working.
#include <gtest/gtest.h>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"
#include "store/codec.h"
#include "store/store_test_util.h"
#include "store/tiered_store.h"

namespace cellar {
namespace {

using testing::Conversation;
using testing::FaultEnv;
using testing::MakeConversation;
using testing::TempDir;
using testing::TinyShape;

constexpr int kChunkTokens = 4;
constexpr uint64_t kDramChunk = 256 + 16;
constexpr uint64_t kFileChunk = 96 + 16 + 2 * 16 + 4 + 256;

class StoreFaultTest : public ::testing::Test {
 protected:
  StoreOptions Options(uint64_t dram_chunks, uint64_t disk_chunks) {
    StoreOptions o;
    o.shape = TinyShape();
    o.model = Hash128{3, 4};
    o.chunk_tokens = kChunkTokens;
    o.dram_bytes = dram_chunks * kDramChunk;
    o.disk_bytes = disk_chunks * kFileChunk;
    o.dir = tmp_.path().string();
    o.policy = PolicyKind::kLru;
    o.dram_watermark = 0;
    o.env = &env_;
    o.clock = &clock_;
    return o;
  }
  void Open(const StoreOptions& o) {
    auto s = TieredStore::Open(o, &metrics_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Save(const RawChunk& c) {
    clock_.AdvanceSeconds(1);
    ASSERT_TRUE(store_->Save(c, "").ok());
  }
  // Reads a chunk back the way a load does and checks it is the right data.
  void ExpectServes(const RawChunk& raw) {
    auto pin = store_->Pin(raw.meta.hash);
    ASSERT_TRUE(pin.ok());
    EncodedChunkPtr data = pin->dram;
    if (!data) {
      auto d = store_->disk()->Read(*pin->disk);
      store_->Unpin(raw.meta.hash);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      data = *d;
    }
    EXPECT_EQ(DecodeChunk(*data, TinyShape())->data, raw.data);
  }

  TempDir tmp_;
  FaultEnv env_;
  FakeClock clock_;
  StoreMetrics metrics_;
  std::unique_ptr<TieredStore> store_;
};

TEST_F(StoreFaultTest, EnospcShrinksTheDiskTierAndSavesStillSucceed) {
  Open(Options(2, 10));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 6, 1);
  env_.SetNoSpaceAfter(kFileChunk + kFileChunk / 2);  // room for 1.5 files
  Save(c.chunks[0]);
  Save(c.chunks[1]);
  Save(c.chunks[2]);  // demotes c0: fits
  EXPECT_TRUE(store_->Locate(c.hashes[0]).disk);
  Save(c.chunks[3]);  // demotes c1: ENOSPC -> disk shrinks to 1 file; c1 is dropped instead
  EXPECT_EQ(metrics_.disk_full_events.load(), 1);
  EXPECT_EQ(store_->disk_capacity(), kFileChunk);
  EXPECT_TRUE(store_->disk_enabled());
  EXPECT_FALSE(store_->Locate(c.hashes[1]).found());
  EXPECT_FALSE(std::filesystem::exists(store_->disk()->PathFor(c.hashes[1]) + ".tmp"));
  // The tier keeps working at its new size: the next demotion evicts c0 to make room.
  env_.ClearFaults();
  Save(c.chunks[4]);
  EXPECT_TRUE(store_->Locate(c.hashes[2]).disk);
  EXPECT_FALSE(store_->Locate(c.hashes[0]).found());
  EXPECT_EQ(store_->disk_used(), kFileChunk);
  ExpectServes(c.chunks[2]);
  ExpectServes(c.chunks[4]);
  EXPECT_EQ(metrics_.saves_rejected.load(), 0);
}

TEST_F(StoreFaultTest, LowFreeSpaceShrinksTheTierBeforeWriting) {
  Open(Options(1, 10));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 4, 1);
  Save(c.chunks[0]);
  Save(c.chunks[1]);                           // c0 -> disk
  env_.SetFsSpace({1 << 30, kFileChunk / 2});  // the file system is nearly full
  Save(c.chunks[2]);  // c1 cannot go down: capacity = 1 file (what is there) -> evicts c0
  EXPECT_EQ(store_->disk_capacity(), kFileChunk + kFileChunk / 2);
  EXPECT_EQ(metrics_.disk_full_events.load(), 1);
  EXPECT_TRUE(store_->Locate(c.hashes[1]).disk);
  EXPECT_FALSE(store_->Locate(c.hashes[0]).found());
  ExpectServes(c.chunks[1]);
}

TEST_F(StoreFaultTest, RepeatedIoErrorsTurnTheDiskTierOff) {
  Open(Options(2, 10));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 8, 1);
  Save(c.chunks[0]);
  Save(c.chunks[1]);
  Save(c.chunks[2]);  // c0 -> disk, fine
  env_.SetWriteError(".kv");
  Save(c.chunks[3]);  // EIO 1
  Save(c.chunks[4]);  // EIO 2
  EXPECT_TRUE(store_->disk_enabled());
  Save(c.chunks[5]);  // EIO 3 -> off
  EXPECT_FALSE(store_->disk_enabled());
  EXPECT_EQ(metrics_.disk_io_errors.load(), 3);
  EXPECT_EQ(metrics_.disk_tier_disabled.load(), 1);
  // The disk copy is forgotten; DRAM still serves, saves still succeed.
  EXPECT_FALSE(store_->Locate(c.hashes[0]).found());
  Save(c.chunks[6]);
  Save(c.chunks[7]);
  ExpectServes(c.chunks[7]);
  EXPECT_EQ(store_->Lookup(c.hashes, c.tokens, 6, "").chunks.size(), 2u);
  EXPECT_EQ(metrics_.saves_rejected.load(), 0);
}

TEST_F(StoreFaultTest, FsyncErrorIsAnIoError) {
  Open(Options(1, 10));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 1);
  env_.SetSyncError(".kv");
  Save(c.chunks[0]);
  Save(c.chunks[1]);  // c0 cannot be made durable: dropped, not half-written
  EXPECT_EQ(metrics_.disk_io_errors.load(), 1);
  EXPECT_FALSE(store_->Locate(c.hashes[0]).found());
  EXPECT_TRUE(std::filesystem::is_empty(store_->disk_dir()));
}

TEST_F(StoreFaultTest, TornWriteIsAMissAtPrefetchAndAfterRestart) {
  StoreOptions o = Options(2, 10);
  o.policy = PolicyKind::kScheduler;
  Open(o);
  Conversation a = MakeConversation(TinyShape(), kChunkTokens, 1, 1);
  Conversation b = MakeConversation(TinyShape(), kChunkTokens, 1, 100);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 1, 200);
  env_.SetTornWrites(a.hashes[0].ToHex(), 200);  // a's file loses its tail, silently
  clock_.AdvanceSeconds(1);
  ASSERT_TRUE(store_->Save(a.chunks[0], "a").ok());
  clock_.AdvanceSeconds(1);
  ASSERT_TRUE(store_->Save(b.chunks[0], "b").ok());
  clock_.AdvanceSeconds(1);
  ASSERT_TRUE(store_->Save(c.chunks[0], "c").ok());  // a -> disk (torn)
  env_.ClearFaults();
  EXPECT_TRUE(store_->Locate(a.hashes[0]).disk);
  // Prefetching a reads the torn file: it is dropped, never served.
  store_->SetQueue({"a"});
  ASSERT_EQ(store_->PrefetchOrder(), std::vector<Hash128>{a.hashes[0]});
  EXPECT_TRUE(store_->Maintain());
  EXPECT_FALSE(store_->Locate(a.hashes[0]).found());
  EXPECT_EQ(metrics_.corrupt_chunks_removed.load(), 1);
  EXPECT_EQ(store_->Lookup(a.hashes, a.tokens, 0, "a").chunks.size(), 0u);
  // Tear another file and restart: the scan removes it, the good one survives.
  store_->PersistDram();
  testing::TruncateFile(store_->disk()->PathFor(b.hashes[0]), kFileChunk - 1);
  store_.reset();
  StoreMetrics m2;
  auto s = TieredStore::Open(o, &m2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(m2.corrupt_chunks_removed.load(), 1);
  EXPECT_FALSE((*s)->Locate(b.hashes[0]).found());
  EXPECT_TRUE((*s)->Locate(c.hashes[0]).disk);
}

TEST_F(StoreFaultTest, FlippedByteOnPrefetchIsDropped) {
  StoreOptions o = Options(4, 10);
  o.policy = PolicyKind::kScheduler;
  Open(o);
  Conversation a = MakeConversation(TinyShape(), kChunkTokens, 2, 1);
  for (const auto& ch : a.chunks) {
    clock_.AdvanceSeconds(1);
    ASSERT_TRUE(store_->Save(ch, "a").ok());
  }
  store_->PersistDram();
  env_.SetFlipByteOnRead(a.hashes[1].ToHex(), 200);
  store_->SetQueue({"a"});
  ASSERT_EQ(store_->PrefetchOrder(), a.hashes);
  while (store_->Maintain()) {
  }
  EXPECT_TRUE(store_->Locate(a.hashes[0]).dram);
  EXPECT_FALSE(store_->Locate(a.hashes[1]).found());
  EXPECT_EQ(store_->Lookup(a.hashes, a.tokens, 0, "a").chunks.size(), 1u);
  ExpectServes(a.chunks[0]);
}

TEST_F(StoreFaultTest, PinnedDiskChunksAreNotEvicted) {
  Open(Options(0, 2));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 1);
  Save(c.chunks[0]);
  Save(c.chunks[1]);
  auto pin = store_->Pin(c.hashes[0]);  // a load is reading it
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(store_->EvictionOrder(), std::vector<Hash128>{c.hashes[1]});
  Save(c.chunks[2]);  // evicts c1, not the older but pinned c0
  EXPECT_TRUE(store_->Locate(c.hashes[0]).disk);
  EXPECT_FALSE(store_->Locate(c.hashes[1]).found());
  store_->Unpin(c.hashes[0]);
  EXPECT_EQ(store_->EvictionOrder(), (std::vector<Hash128>{c.hashes[0], c.hashes[2]}));
}

TEST_F(StoreFaultTest, UnusableDirectoryLeavesADramOnlyStore) {
  // The store directory is a file: the disk tier cannot open, the store still does.
  const std::string file = tmp_.path().string() + "/not-a-dir";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), file, std::vector<uint8_t>{1}).ok());
  StoreOptions o = Options(2, 10);
  o.dir = file;
  Open(o);
  EXPECT_FALSE(store_->disk_enabled());
  EXPECT_EQ(metrics_.disk_tier_disabled.load(), 1);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 1, 1);
  Save(c.chunks[0]);
  ExpectServes(c.chunks[0]);
}

}  // namespace
}  // namespace cellar
