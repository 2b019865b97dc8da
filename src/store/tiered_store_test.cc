#include "store/tiered_store.h"

#include <gtest/gtest.h>

#include "base/testing/shared_data.h"
#include "store/codec.h"
#include "store/store_test_util.h"

namespace cellar {
namespace {

using testing::Conversation;
using testing::MakeConversation;
using testing::TempDir;
using testing::TinyShape;

constexpr int kChunkTokens = 4;
// TinyShape (2 layers, 1 head, dim 4, f32), 4 tokens, raw codec:
constexpr uint64_t kDramChunk = 256 + 16;                    // segments + token ids
constexpr uint64_t kFileChunk = 96 + 16 + 2 * 16 + 4 + 256;  // header + segments

class TieredStoreTest : public ::testing::Test {
 protected:
  StoreOptions Options(uint64_t dram_chunks, uint64_t disk_chunks, PolicyKind policy) {
    StoreOptions o;
    o.shape = TinyShape();
    o.model = Hash128{0x1234, 0x5678};
    o.chunk_tokens = kChunkTokens;
    o.dram_bytes = dram_chunks * kDramChunk;
    o.disk_bytes = disk_chunks * kFileChunk;
    o.dir = tmp_.path().string();
    o.policy = policy;
    o.dram_watermark = 0;
    o.clock = &clock_;
    return o;
  }
  std::unique_ptr<TieredStore> Open(const StoreOptions& o) {
    auto s = TieredStore::Open(o, &metrics_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // One single-chunk conversation per session name; tokens differ per name.
  Conversation Single(char name) {
    return MakeConversation(TinyShape(), kChunkTokens, 1, name * 100);
  }
  void SaveAt(TieredStore* s, const Conversation& c, const std::string& session, double t) {
    clock_.SetNanos(static_cast<int64_t>(t * 1e9));
    for (const auto& chunk : c.chunks) ASSERT_TRUE(s->Save(chunk, session).ok());
  }
  TieredStore::PrefixMatch LookupAt(TieredStore* s, const Conversation& c,
                                    const std::string& session, double t) {
    clock_.SetNanos(static_cast<int64_t>(t * 1e9));
    return s->Lookup(c.hashes, c.tokens, 0, session);
  }

  TempDir tmp_;
  FakeClock clock_;
  StoreMetrics metrics_;
};

TEST_F(TieredStoreTest, SaveThenLookupLongestPrefix) {
  auto s = Open(Options(10, 0, PolicyKind::kLru));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 7);
  ASSERT_TRUE(s->Save(c.chunks[0], "x").ok());
  ASSERT_TRUE(s->Save(c.chunks[1], "x").ok());
  auto m = s->Lookup(c.hashes, c.tokens, 0, "");
  ASSERT_EQ(m.chunks.size(), 2u);
  EXPECT_EQ(m.n_tokens, 8);
  EXPECT_EQ(m.chunks[0].hash, c.hashes[0]);
  EXPECT_EQ(m.chunks[1].tier, Tier::kDram);
  EXPECT_EQ(m.chunks[1].bytes, kDramChunk);
  EXPECT_EQ(metrics_.lookup_hit_tokens_dram.load(), 8);
  EXPECT_EQ(metrics_.lookup_miss_tokens.load(), 4);
  // Starting after chunks the pool already holds.
  m = s->Lookup(c.hashes, c.tokens, 1, "");
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].hash, c.hashes[1]);
  // Token ids are checked: a different token in chunk 1 stops the match there.
  std::vector<int32_t> other = c.tokens;
  other[5] = 9999;
  EXPECT_EQ(s->Lookup(c.hashes, other, 0, "").chunks.size(), 1u);
  // The pinned DRAM copy decodes to the saved data.
  auto pin = s->Pin(c.hashes[1]);
  ASSERT_TRUE(pin.ok());
  ASSERT_NE(pin->dram, nullptr);
  EXPECT_EQ(DecodeChunk(*pin->dram, TinyShape())->data, c.chunks[1].data);
}

TEST_F(TieredStoreTest, SharedPrefixIsStoredOnce) {
  auto s = Open(Options(10, 0, PolicyKind::kLru));
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 7);
  ASSERT_TRUE(s->Save(c.chunks[0], "a").ok());
  ASSERT_TRUE(s->Save(c.chunks[0], "b").ok());
  EXPECT_EQ(metrics_.chunks_saved.load(), 1);
  EXPECT_EQ(metrics_.chunks_deduplicated.load(), 1);
  EXPECT_EQ(s->dram_used(), kDramChunk);
  EXPECT_EQ(s->SessionChain("a"), std::vector<Hash128>{c.hashes[0]});
  EXPECT_EQ(s->SessionChain("b"), std::vector<Hash128>{c.hashes[0]});
}

TEST_F(TieredStoreTest, RejectsChunksOfTheWrongSize) {
  auto s = Open(Options(10, 0, PolicyKind::kLru));
  Conversation c = MakeConversation(TinyShape(), 3, 1, 7);
  EXPECT_EQ(s->Save(c.chunks[0], "").code(), StatusCode::kInvalidArgument);
}

// ---- demotion orders (DRAM -> disk), pinned exactly

TEST_F(TieredStoreTest, LruDemotesLeastRecentlyUsed) {
  auto s = Open(Options(3, 100, PolicyKind::kLru));
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  LookupAt(s.get(), a, "a", 4);
  EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{b.hashes[0], c.hashes[0], a.hashes[0]}));
  SaveAt(s.get(), d, "d", 5);  // DRAM full: B goes to disk
  EXPECT_TRUE(s->Locate(b.hashes[0]).disk);
  EXPECT_FALSE(s->Locate(b.hashes[0]).dram);
  EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{c.hashes[0], a.hashes[0], d.hashes[0]}));
  EXPECT_EQ(metrics_.demotions_dram.load(), 1);
  EXPECT_EQ(s->disk_used(), kFileChunk);
  // A lookup now finds B on disk.
  auto m = LookupAt(s.get(), b, "b", 6);
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].tier, Tier::kDisk);
  EXPECT_EQ(m.chunks[0].bytes, kFileChunk);
}

TEST_F(TieredStoreTest, FifoDemotesOldestStoredEvenIfUsed) {
  auto s = Open(Options(3, 100, PolicyKind::kFifo));
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  LookupAt(s.get(), a, "a", 4);
  EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{a.hashes[0], b.hashes[0], c.hashes[0]}));
  SaveAt(s.get(), d, "d", 5);
  EXPECT_EQ(s->Locate(a.hashes[0]).dram, false);
  EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{b.hashes[0], c.hashes[0], d.hashes[0]}));
}

TEST_F(TieredStoreTest, SchedulerDemotesUnqueuedFirstThenFarthestFromHead) {
  auto s = Open(Options(20, 100, PolicyKind::kScheduler));
  Conversation a = Single('a'), b = Single('b'), d = Single('d'), e = Single('e');
  Conversation x = MakeConversation(TinyShape(), kChunkTokens, 3, 5000);  // 3 chunks
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), x, "x", 3);
  SaveAt(s.get(), d, "d", 4);
  SaveAt(s.get(), e, "e", 5);
  LookupAt(s.get(), b, "b", 6);  // b is now the most recently used
  s->SetQueue({"x", "a", "nobody"});
  // Unqueued (d, e, b) by LRU; then a (position 1); then x (position 0), tail first.
  EXPECT_EQ(s->DemotionOrder(),
            (std::vector<Hash128>{d.hashes[0], e.hashes[0], b.hashes[0], a.hashes[0], x.hashes[2],
                                  x.hashes[1], x.hashes[0]}));
  s->SetQueue({"a", "x"});
  EXPECT_EQ(s->DemotionOrder(),
            (std::vector<Hash128>{d.hashes[0], e.hashes[0], b.hashes[0], x.hashes[2], x.hashes[1],
                                  x.hashes[0], a.hashes[0]}));
  // LRU over the same history ignores the queue.
}

TEST_F(TieredStoreTest, SchedulerDemotesWhatThePoolHoldsFirst) {
  auto s = Open(Options(20, 100, PolicyKind::kScheduler));
  Conversation a = Single('a'), b = Single('b'), d = Single('d');
  Conversation x = MakeConversation(TinyShape(), kChunkTokens, 2, 5000);
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), x, "x", 3);
  SaveAt(s.get(), d, "d", 4);
  s->SetQueue({"x"});
  const Hash128 other{0x77, 0x88};  // a pool block that is no stored chunk
  const std::vector<std::pair<Hash128, bool>> cached = {
      {d.hashes[0], true}, {other, true}, {x.hashes[1], true}, {a.hashes[0], true}};
  s->UpdatePoolResidency(cached);
  EXPECT_TRUE(s->InPool(d.hashes[0]));
  EXPECT_TRUE(s->InPool(other));
  EXPECT_FALSE(s->InPool(b.hashes[0]));
  // Unqueued and in the pool: d, a, most recently used first (the pool keeps
  // those longest); then the rest as before: b (unqueued), queued x tail first.
  EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{d.hashes[0], a.hashes[0], b.hashes[0],
                                                      x.hashes[1], x.hashes[0]}));
  // The pool hands a's block out again (and d's, which it then caches back),
  // and caches b.
  const std::vector<std::pair<Hash128, bool>> evicted = {
      {a.hashes[0], false}, {d.hashes[0], false}, {d.hashes[0], true}, {b.hashes[0], true}};
  s->UpdatePoolResidency(evicted);
  EXPECT_FALSE(s->InPool(a.hashes[0]));
  EXPECT_TRUE(s->InPool(d.hashes[0]));
  EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{d.hashes[0], b.hashes[0], a.hashes[0],
                                                      x.hashes[1], x.hashes[0]}));
}

TEST_F(TieredStoreTest, LruAndFifoIgnoreThePool) {
  for (PolicyKind kind : {PolicyKind::kLru, PolicyKind::kFifo}) {
    auto s = Open(Options(20, 100, kind));
    Conversation a = Single('a'), b = Single('b');
    SaveAt(s.get(), a, "a", 1);
    SaveAt(s.get(), b, "b", 2);
    const std::vector<std::pair<Hash128, bool>> cached = {{b.hashes[0], true}};
    s->UpdatePoolResidency(cached);
    EXPECT_EQ(s->DemotionOrder(), (std::vector<Hash128>{a.hashes[0], b.hashes[0]}))
        << PolicyKindName(kind);
  }
}

TEST_F(TieredStoreTest, WatermarkKeepsInDramTheChunksThePoolLost) {
  StoreOptions o = Options(4, 100, PolicyKind::kScheduler);
  o.dram_watermark = 0.5;  // keep 2 chunks' worth free
  auto s = Open(o);
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  SaveAt(s.get(), d, "d", 4);
  // The pool lost a and b (the oldest); it still holds c and d.
  const std::vector<std::pair<Hash128, bool>> cached = {{c.hashes[0], true}, {d.hashes[0], true}};
  s->UpdatePoolResidency(cached);
  while (s->Maintain()) {
  }
  // LRU would demote a and b; the pool-aware order demotes c and d.
  EXPECT_TRUE(s->Locate(a.hashes[0]).dram && !s->Locate(a.hashes[0]).disk);
  EXPECT_TRUE(s->Locate(b.hashes[0]).dram && !s->Locate(b.hashes[0]).disk);
  EXPECT_TRUE(s->Locate(c.hashes[0]).disk && !s->Locate(c.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(d.hashes[0]).disk && !s->Locate(d.hashes[0]).dram);
  // A returning a is read from DRAM.
  auto m = LookupAt(s.get(), a, "a", 5);
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].tier, Tier::kDram);
}

TEST_F(TieredStoreTest, SchedulerSavesAPoolChunkToDiskRatherThanPushOutALostOne) {
  auto s = Open(Options(2, 100, PolicyKind::kScheduler));
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  // c is computed in the pool; DRAM holds a and b, which the pool has lost.
  const std::vector<std::pair<Hash128, bool>> c_cached = {{c.hashes[0], true}};
  s->UpdatePoolResidency(c_cached);
  SaveAt(s.get(), c, "c", 3);
  EXPECT_TRUE(s->Locate(c.hashes[0]).disk && !s->Locate(c.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(a.hashes[0]).dram && s->Locate(b.hashes[0]).dram);
  EXPECT_EQ(metrics_.demotions_dram.load(), 0);
  // The pool also holds a now, and d, computed last: the pool will lose a
  // first, so a keeps its DRAM copy and d goes to disk too.
  const std::vector<std::pair<Hash128, bool>> more = {{a.hashes[0], true}, {d.hashes[0], true}};
  s->UpdatePoolResidency(more);
  SaveAt(s.get(), d, "d", 4);
  EXPECT_TRUE(s->Locate(d.hashes[0]).disk && !s->Locate(d.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(a.hashes[0]).dram && s->Locate(b.hashes[0]).dram);
  EXPECT_EQ(metrics_.demotions_dram.load(), 0);
  // A chunk the pool does not hold (another sequence cached that block
  // first) pushes out the first in demotion order: a, which the pool holds.
  Conversation e = Single('e');
  SaveAt(s.get(), e, "e", 5);
  EXPECT_TRUE(s->Locate(e.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(a.hashes[0]).disk && !s->Locate(a.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(b.hashes[0]).dram);
  EXPECT_EQ(metrics_.demotions_dram.load(), 1);
}

TEST_F(TieredStoreTest, SchedulerReadsBackWhatThePoolLoses) {
  auto s = Open(Options(2, 100, PolicyKind::kScheduler));
  Conversation a = Single('a'), b = Single('b'), c = Single('c');
  const std::vector<std::pair<Hash128, bool>> cached = {
      {a.hashes[0], true}, {b.hashes[0], true}, {c.hashes[0], true}};
  s->UpdatePoolResidency(cached);
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);  // DRAM full of chunks the pool holds: c to disk
  while (s->Maintain()) {
  }
  EXPECT_TRUE(s->Locate(c.hashes[0]).disk && !s->Locate(c.hashes[0]).dram);
  EXPECT_EQ(s->PrefetchOrder(), std::vector<Hash128>{});  // the pool serves c
  // The pool loses c, then a: c is read back into DRAM in place of b (which
  // the pool still holds); a keeps its DRAM copy.
  const std::vector<std::pair<Hash128, bool>> lost = {{c.hashes[0], false},
                                                      {a.hashes[0], false}};
  s->UpdatePoolResidency(lost);
  EXPECT_EQ(s->PrefetchOrder(), std::vector<Hash128>{c.hashes[0]});
  while (s->Maintain()) {
  }
  EXPECT_TRUE(s->Locate(a.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(b.hashes[0]).disk && !s->Locate(b.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(c.hashes[0]).dram && s->Locate(c.hashes[0]).disk);
  EXPECT_EQ(metrics_.prefetch_issued.load(), 1);
  auto m = LookupAt(s.get(), c, "c", 4);
  ASSERT_EQ(m.chunks.size(), 1u);
  EXPECT_EQ(m.chunks[0].tier, Tier::kDram);
}

TEST_F(TieredStoreTest, DoesNotPrefetchWhatThePoolHolds) {
  auto s = Open(Options(6, 100, PolicyKind::kScheduler));
  Conversation a = MakeConversation(TinyShape(), kChunkTokens, 2, 100);
  Conversation b = Single('b');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  s->PersistDram();
  s->SetQueue({"b", "a"});
  ASSERT_EQ(s->PrefetchOrder(), (std::vector<Hash128>{b.hashes[0], a.hashes[0], a.hashes[1]}));
  const std::vector<std::pair<Hash128, bool>> cached = {{b.hashes[0], true}, {a.hashes[1], true}};
  s->UpdatePoolResidency(cached);
  EXPECT_EQ(s->PrefetchOrder(), std::vector<Hash128>{a.hashes[0]});
}

TEST_F(TieredStoreTest, WatermarkDemotesInTheBackground) {
  StoreOptions o = Options(10, 100, PolicyKind::kLru);
  o.dram_watermark = 0.35;  // keep 3.5 chunks' worth free
  auto s = Open(o);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 8, 1);
  for (int i = 0; i < 8; ++i) {
    SaveAt(s.get(), Conversation{{}, {c.chunks[static_cast<size_t>(i)]}, {}}, "", i);
  }
  EXPECT_EQ(s->dram_used(), 8 * kDramChunk);  // saves may use the reserve
  while (s->Maintain()) {
  }
  // 10 - 8 = 2 free < 3.5: the 2 least recently used go down, leaving 4 free.
  EXPECT_EQ(s->dram_used(), 6 * kDramChunk);
  EXPECT_TRUE(s->Locate(c.hashes[0]).disk && !s->Locate(c.hashes[0]).dram);
  EXPECT_TRUE(s->Locate(c.hashes[1]).disk && !s->Locate(c.hashes[1]).dram);
  EXPECT_TRUE(s->Locate(c.hashes[2]).dram && !s->Locate(c.hashes[2]).disk);
  EXPECT_EQ(metrics_.demotions_dram.load(), 2);
}

// ---- eviction from disk and protection by the eviction window

TEST_F(TieredStoreTest, SchedulerEvictsUnqueuedLruAndProtectsTheEvictionWindow) {
  auto s = Open(Options(0, 4, PolicyKind::kScheduler));  // disk only, 4 chunks
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  Conversation e = Single('e'), f = Single('f');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  SaveAt(s.get(), d, "d", 4);
  EXPECT_EQ(s->disk_used(), 4 * kFileChunk);
  s->SetQueue({"d", "b"});
  // (0 + 4 chunks) / 1 chunk per session = 4 >= queue length: d and b are safe.
  EXPECT_EQ(s->CurrentWindows().eviction, 2);
  EXPECT_EQ(s->EvictionOrder(), (std::vector<Hash128>{a.hashes[0], c.hashes[0]}));
  SaveAt(s.get(), e, "e", 5);  // evicts A
  EXPECT_FALSE(s->Locate(a.hashes[0]).found());
  EXPECT_EQ(metrics_.evictions_disk.load(), 1);
  EXPECT_EQ(s->EvictionOrder(), (std::vector<Hash128>{c.hashes[0], e.hashes[0]}));
  // Everything queued and inside the window: nothing may go, the new save is refused.
  s->SetQueue({"e", "d", "c", "b"});
  EXPECT_EQ(s->EvictionOrder(), std::vector<Hash128>{});
  clock_.SetNanos(6'000'000'000);
  EXPECT_EQ(s->Save(f.chunks[0], "f").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(metrics_.saves_rejected.load(), 1);
  EXPECT_TRUE(s->Locate(b.hashes[0]).disk);
  // A queue longer than the window: a session with nothing stored at the head
  // still takes a window slot, so b at position 4 may be dropped.
  s->SetQueue({"nobody", "e", "d", "c", "b"});
  EXPECT_EQ(s->CurrentWindows().eviction, 4);
  EXPECT_EQ(s->EvictionOrder(), std::vector<Hash128>{b.hashes[0]});
  ASSERT_TRUE(s->Save(f.chunks[0], "f").ok());
  EXPECT_FALSE(s->Locate(b.hashes[0]).found());
}

TEST_F(TieredStoreTest, LruEvictsWithoutProtection) {
  auto s = Open(Options(0, 3, PolicyKind::kLru));
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  LookupAt(s.get(), a, "a", 4);
  s->SetQueue({"b"});  // ignored by LRU
  EXPECT_EQ(s->EvictionOrder(), (std::vector<Hash128>{b.hashes[0], c.hashes[0], a.hashes[0]}));
  SaveAt(s.get(), d, "d", 5);
  EXPECT_FALSE(s->Locate(b.hashes[0]).found());
}

TEST_F(TieredStoreTest, FifoEvictsOldestStoredEvenIfUsed) {
  auto s = Open(Options(0, 3, PolicyKind::kFifo));
  Conversation a = Single('a'), b = Single('b'), c = Single('c'), d = Single('d');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  LookupAt(s.get(), a, "a", 4);
  s->SetQueue({"a"});  // ignored by FIFO
  EXPECT_EQ(s->EvictionOrder(), (std::vector<Hash128>{a.hashes[0], b.hashes[0], c.hashes[0]}));
  SaveAt(s.get(), d, "d", 5);
  EXPECT_FALSE(s->Locate(a.hashes[0]).found());
  EXPECT_EQ(s->EvictionOrder(), (std::vector<Hash128>{b.hashes[0], c.hashes[0], d.hashes[0]}));
}

TEST_F(TieredStoreTest, DramOnlyDropsUnprotectedWhenFull) {
  auto s = Open(Options(2, 0, PolicyKind::kScheduler));
  Conversation a = Single('a'), b = Single('b'), c = Single('c');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  s->SetQueue({"a"});
  SaveAt(s.get(), c, "c", 3);  // b (unqueued) is dropped; a is protected
  EXPECT_TRUE(s->Locate(a.hashes[0]).dram);
  EXPECT_FALSE(s->Locate(b.hashes[0]).found());
  EXPECT_EQ(metrics_.evictions_dram.load(), 1);
}

// ---- prefetch disk -> DRAM in queue order

TEST_F(TieredStoreTest, PrefetchesQueuedSessionsInOrderWithinTheWindow) {
  auto s = Open(Options(6, 100, PolicyKind::kScheduler));
  Conversation a = MakeConversation(TinyShape(), kChunkTokens, 2, 100);
  Conversation b = Single('b'), c = Single('c');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);
  s->PersistDram();  // everything to disk (as at shutdown)
  for (const auto& h : {a.hashes[0], a.hashes[1], b.hashes[0], c.hashes[0]}) {
    ASSERT_TRUE(s->Locate(h).disk && !s->Locate(h).dram);
  }
  // Empty queue: only what the pool does not hold (here everything), most
  // recently used first.
  const std::vector<Hash128> idle = s->PrefetchOrder();
  ASSERT_EQ(idle.size(), 4u);
  EXPECT_EQ(idle[0], c.hashes[0]);
  EXPECT_EQ(idle[1], b.hashes[0]);
  s->SetQueue({"b", "a"});
  // Sessions on disk: a = 2 files, b = c = 1 -> average 4/3 files; DRAM of 6
  // chunks holds floor(6 * 272 / (4/3 * 404)) = 3 sessions >= queue length.
  EXPECT_EQ(s->CurrentWindows().prefetch, 2);
  // Queued sessions in queue order, then the unqueued chunk the pool lacks.
  EXPECT_EQ(s->PrefetchOrder(),
            (std::vector<Hash128>{b.hashes[0], a.hashes[0], a.hashes[1], c.hashes[0]}));
  EXPECT_TRUE(s->Maintain());
  EXPECT_TRUE(s->Locate(b.hashes[0]).dram);
  EXPECT_FALSE(s->Locate(a.hashes[0]).dram);
  EXPECT_TRUE(s->Maintain());
  EXPECT_TRUE(s->Maintain());
  EXPECT_TRUE(s->Locate(a.hashes[0]).dram && s->Locate(a.hashes[1]).dram);
  EXPECT_FALSE(s->Locate(c.hashes[0]).dram);  // not queued: last
  while (s->Maintain()) {
  }
  EXPECT_TRUE(s->Locate(c.hashes[0]).dram);  // into the room left
  EXPECT_TRUE(s->Locate(a.hashes[0]).disk);  // the disk copy stays
  EXPECT_EQ(metrics_.prefetch_issued.load(), 4);
  auto m = LookupAt(s.get(), a, "a", 9);
  ASSERT_EQ(m.chunks.size(), 2u);
  EXPECT_EQ(m.chunks[0].tier, Tier::kDram);
  EXPECT_EQ(metrics_.prefetch_useful.load(), 2);
  // Demoting a prefetched chunk later is free: its disk copy is still there.
  const int64_t written = metrics_.bytes_written_disk.load();
  s->PersistDram();
  EXPECT_EQ(metrics_.bytes_written_disk.load(), written);
}

TEST_F(TieredStoreTest, PrefetchWindowLimitsHowFarAheadItLooks) {
  auto s = Open(Options(2, 100, PolicyKind::kScheduler));
  Conversation a = Single('a'), b = Single('b'), c = Single('c');
  SaveAt(s.get(), a, "a", 1);
  SaveAt(s.get(), b, "b", 2);
  SaveAt(s.get(), c, "c", 3);  // demotes a
  s->PersistDram();
  s->SetQueue({"c", "b", "a"});
  // avg session = 1 file (404 B); DRAM 544 B -> window 1.
  EXPECT_EQ(s->CurrentWindows().prefetch, 1);
  EXPECT_EQ(s->PrefetchOrder(), std::vector<Hash128>{c.hashes[0]});
  while (s->Maintain()) {
  }
  EXPECT_TRUE(s->Locate(c.hashes[0]).dram);
  EXPECT_FALSE(s->Locate(b.hashes[0]).dram);
}

TEST_F(TieredStoreTest, LruAndFifoDoNotPrefetch) {
  for (PolicyKind k : {PolicyKind::kLru, PolicyKind::kFifo}) {
    TempDir dir;
    StoreOptions o = Options(6, 100, k);
    o.dir = dir.path().string();
    auto s = Open(o);
    Conversation a = Single('a');
    SaveAt(s.get(), a, "a", 1);
    s->PersistDram();
    s->SetQueue({"a"});
    EXPECT_EQ(s->PrefetchOrder(), std::vector<Hash128>{});
    EXPECT_FALSE(s->Maintain());
    EXPECT_FALSE(s->Locate(a.hashes[0]).dram);
  }
}

// ---- TTL

TEST_F(TieredStoreTest, SessionsAndChunksExpireAfterTtlUnlessQueued) {
  StoreOptions o = Options(10, 100, PolicyKind::kScheduler);
  o.ttl_seconds = 10;
  auto s = Open(o);
  Conversation a = Single('a'), b = Single('b'), c = Single('c');
  SaveAt(s.get(), a, "a", 0);
  SaveAt(s.get(), b, "b", 0);
  SaveAt(s.get(), c, "c", 5);
  s->PersistDram();  // a and b also get files, which must be removed too
  s->SetQueue({"b"});
  clock_.SetNanos(11'000'000'000);
  EXPECT_TRUE(s->Maintain());
  EXPECT_FALSE(s->Locate(a.hashes[0]).found());
  EXPECT_TRUE(s->Locate(b.hashes[0]).found());  // queued
  EXPECT_TRUE(s->Locate(c.hashes[0]).found());  // 6 s old
  EXPECT_FALSE(std::filesystem::exists(s->disk_dir() + "/" + ChunkFileName(a.hashes[0])));
  EXPECT_EQ(metrics_.expired_chunks.load(), 1);
  EXPECT_EQ(metrics_.expired_sessions.load(), 1);
  EXPECT_EQ(s->n_sessions(), 2);
  clock_.SetNanos(16'000'000'000);
  s->Maintain();
  EXPECT_FALSE(s->Locate(c.hashes[0]).found());
}

// ---- restart

TEST_F(TieredStoreTest, ChunksSurviveARestart) {
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 40);
  {
    auto s = Open(Options(10, 100, PolicyKind::kLru));
    SaveAt(s.get(), c, "x", 1);
    s->PersistDram();
  }
  StoreMetrics m2;
  auto s = TieredStore::Open(Options(10, 100, PolicyKind::kLru), &m2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->disk_used(), 3 * kFileChunk);
  auto m = (*s)->Lookup(c.hashes, c.tokens, 0, "x");
  ASSERT_EQ(m.chunks.size(), 3u);
  EXPECT_EQ(m.chunks[2].tier, Tier::kDisk);
  auto pin = (*s)->Pin(c.hashes[2]);
  ASSERT_TRUE(pin.ok());
  ASSERT_TRUE(pin->disk.has_value());
  EXPECT_EQ(pin->disk->meta.tokens, c.chunks[2].meta.tokens);
  auto data = (*s)->disk()->Read(*pin->disk);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(DecodeChunk(**data, TinyShape())->data, c.chunks[2].data);
  (*s)->Unpin(c.hashes[2]);
}

TEST_F(TieredStoreTest, OtherModelsFilesAreSeparateAndSmallerCapacityEvictsAtOpen) {
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 3, 40);
  {
    auto s = Open(Options(10, 100, PolicyKind::kLru));
    SaveAt(s.get(), c, "x", 1);
    s->PersistDram();
  }
  StoreOptions other = Options(10, 100, PolicyKind::kLru);
  other.model = Hash128{9, 9};
  StoreMetrics m2;
  auto s2 = TieredStore::Open(other, &m2);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ((*s2)->disk_used(), 0u);
  // The original model again, with room for 2 files only.
  StoreMetrics m3;
  auto s3 = TieredStore::Open(Options(10, 2, PolicyKind::kLru), &m3);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ((*s3)->disk_used(), 2 * kFileChunk);
  EXPECT_EQ(m3.evictions_disk.load(), 1);
}

TEST_F(TieredStoreTest, Int8CodecsPerTier) {
  StoreOptions o = Options(1, 100, PolicyKind::kLru);
  o.dram_codec = Codec::kInt8;
  o.disk_codec = Codec::kInt8Zstd;
  // int8 chunk: 2 layers * (2*16 codes + 32 K tables + 32 V tables) + 16 tokens = 208 bytes.
  o.dram_bytes = 208;
  auto s = Open(o);
  Conversation c = MakeConversation(TinyShape(), kChunkTokens, 2, 40);
  SaveAt(s.get(), c, "x", 1);
  EXPECT_EQ(s->dram_used(), 208u);
  EXPECT_TRUE(s->Locate(c.hashes[0]).disk);
  auto pin = s->Pin(c.hashes[0]);
  ASSERT_TRUE(pin.ok() && pin->disk.has_value());
  EXPECT_EQ(pin->disk->codec, Codec::kInt8Zstd);
  auto disk_data = s->disk()->Read(*pin->disk);
  ASSERT_TRUE(disk_data.ok());
  auto dram_pin = s->Pin(c.hashes[1]);
  ASSERT_TRUE(dram_pin.ok() && dram_pin->dram != nullptr);
  EXPECT_EQ(dram_pin->dram->codec, Codec::kInt8);
  // Demotion only compressed the int8 codes: decoding both tiers gives what a
  // direct int8 round trip gives.
  auto direct = DecodeChunk(EncodeChunk(c.chunks[0], TinyShape(), Codec::kInt8), TinyShape());
  EXPECT_EQ(DecodeChunk(**disk_data, TinyShape())->data, direct->data);
  s->Unpin(c.hashes[0]);
}

}  // namespace
}  // namespace cellar
