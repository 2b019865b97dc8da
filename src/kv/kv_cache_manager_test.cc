#include "kv/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace cellar {
namespace {

using Ids = std::vector<BlockId>;
using Tokens = std::vector<TokenId>;

constexpr int kBlockSize = 4;
const Hash128 kModel{0x1234, 0x5678};
const Hash128 kAlice = MakeTenantSalt("alice");
const Hash128 kBob = MakeTenantSalt("bob");

std::unique_ptr<KvCacheManager> MakeManager(int n_blocks, bool caching = true) {
  KvCacheManagerOptions o;
  o.n_blocks = n_blocks;
  o.block_size = kBlockSize;
  o.model_fingerprint = kModel;
  o.enable_prefix_caching = caching;
  auto m = KvCacheManager::Create(o);
  EXPECT_TRUE(m.ok());
  return std::move(m).value();
}

Tokens Range(int first, int n) {
  Tokens t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

Tokens Concat(Tokens a, const Tokens& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Ids Table(const KvCacheManager& m, RequestId id) {
  auto t = m.BlockTable(id);
  return Ids(t.begin(), t.end());
}

// Admits a request as the scheduler does: prefix lookup, then slots for the rest
// of its tokens; then "computes" them and caches the full blocks.
bool AdmitAndCompute(KvCacheManager& m, RequestId id, const Tokens& tokens,
                     const Hash128& salt = kAlice) {
  KvRequest r{id, salt, tokens, 0};
  CachedPrefix prefix = m.GetComputedBlocks(r);
  const int n_new = static_cast<int>(tokens.size()) - prefix.n_tokens;
  if (!m.AllocateSlots(r, n_new, prefix)) return false;
  r.n_computed_tokens = static_cast<int>(tokens.size());
  m.CacheFullBlocks(r);
  return true;
}

TEST(KvCacheManagerTest, RejectsBadOptions) {
  KvCacheManagerOptions o;
  o.n_blocks = 4;
  o.block_size = 0;
  EXPECT_EQ(KvCacheManager::Create(o).status().code(), StatusCode::kInvalidArgument);
  o.block_size = 16;
  o.n_blocks = 0;
  EXPECT_EQ(KvCacheManager::Create(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(KvCacheManagerTest, CommonPrefixSharesPhysicalBlocks) {
  auto m = MakeManager(10);
  const Tokens system = Range(100, 8);  // two full blocks
  const Tokens a = Concat(system, Range(1, 2));
  const Tokens b = Concat(system, Range(50, 5));
  ASSERT_TRUE(AdmitAndCompute(*m, 1, a));
  EXPECT_EQ(Table(*m, 1), Ids({0, 1, 2}));
  EXPECT_EQ(m->BlockHashes(1).size(), 2u);  // block 2 is partial: not cached

  KvRequest rb{2, kAlice, b, 0};
  CachedPrefix prefix = m->GetComputedBlocks(rb);
  EXPECT_EQ(prefix.blocks, Ids({0, 1}));
  EXPECT_EQ(prefix.n_tokens, 8);
  ASSERT_EQ(prefix.hashes.size(), 2u);
  EXPECT_EQ(prefix.hashes[1], m->BlockHashes(1)[1]);
  ASSERT_TRUE(m->AllocateSlots(rb, 5, prefix));
  EXPECT_EQ(Table(*m, 2), Ids({0, 1, 3, 4}));
  EXPECT_EQ(m->pool().RefCount(0), 2);
  EXPECT_EQ(m->pool().RefCount(1), 2);
  EXPECT_EQ(m->pool().RefCount(2), 1);
  EXPECT_EQ(m->pool().RefCount(3), 1);

  const KvCacheStats s = m->stats();
  EXPECT_EQ(s.n_used_blocks, 5);
  EXPECT_EQ(s.n_free_blocks, 5);
  EXPECT_EQ(s.n_cached_blocks, 2);
  EXPECT_EQ(s.n_sequences, 2);
  EXPECT_EQ(s.n_query_tokens, 10u + 13u);
  EXPECT_EQ(s.n_hit_tokens, 8u);
  EXPECT_EQ(s.n_miss_tokens(), 15u);
}

TEST(KvCacheManagerTest, OtherTenantNeverHitsTheCache) {
  auto m = MakeManager(10);
  const Tokens t = Range(0, 9);
  ASSERT_TRUE(AdmitAndCompute(*m, 1, t, kAlice));
  EXPECT_EQ(m->GetComputedBlocks({2, kAlice, t, 0}).n_tokens, 8);
  EXPECT_EQ(m->GetComputedBlocks({2, kBob, t, 0}).n_tokens, 0);
  ASSERT_TRUE(AdmitAndCompute(*m, 2, t, kBob));
  EXPECT_EQ(Table(*m, 2), Ids({3, 4, 5}));  // its own blocks
  EXPECT_EQ(m->stats().n_cached_blocks, 4);
}

TEST(KvCacheManagerTest, FullyCachedPromptStillComputesItsLastToken) {
  auto m = MakeManager(10);
  const Tokens t = Range(0, 8);  // exactly two blocks
  ASSERT_TRUE(AdmitAndCompute(*m, 1, t));
  EXPECT_EQ(Table(*m, 1), Ids({0, 1}));
  m->Free(1);
  // Same prompt again: only the first block is reused; the last block (holding
  // the last token) is recomputed into a fresh block.
  KvRequest r{2, kAlice, t, 0};
  CachedPrefix prefix = m->GetComputedBlocks(r);
  EXPECT_EQ(prefix.blocks, Ids({0}));
  EXPECT_EQ(prefix.n_tokens, 4);
  ASSERT_TRUE(m->AllocateSlots(r, 4, prefix));
  EXPECT_EQ(Table(*m, 2), Ids({0, 2}));
  r.n_computed_tokens = 8;
  m->CacheFullBlocks(r);
  // Block 1 keeps the hash; block 2 is a duplicate and stays uncached.
  EXPECT_TRUE(m->pool().BlockHash(1).has_value());
  EXPECT_FALSE(m->pool().BlockHash(2).has_value());
  EXPECT_EQ(m->BlockHashes(2).size(), 2u);
  // A one-token prompt has nothing to reuse.
  EXPECT_EQ(m->GetComputedBlocks({3, kAlice, Tokens{0}, 0}).n_tokens, 0);
}

TEST(KvCacheManagerTest, FreeReturnsTailFirstAndEvictsInLruOrder) {
  auto m = MakeManager(6);
  const Tokens a = Range(0, 12);    // blocks 0 1 2
  const Tokens b = Range(100, 12);  // blocks 3 4 5
  ASSERT_TRUE(AdmitAndCompute(*m, 1, a));
  ASSERT_TRUE(AdmitAndCompute(*m, 2, b));
  EXPECT_EQ(Table(*m, 2), Ids({3, 4, 5}));
  EXPECT_EQ(m->pool().n_free(), 0);
  m->Free(1);
  m->Free(2);
  // Each sequence's tail goes first; the earlier-freed sequence is older.
  EXPECT_EQ(m->pool().FreeOrder(), Ids({2, 1, 0, 5, 4, 3}));
  EXPECT_EQ(m->stats().n_free_cached_blocks, 6);

  // A new unrelated request of 2 blocks evicts a's tail, then a's middle.
  ASSERT_TRUE(AdmitAndCompute(*m, 3, Range(500, 6)));
  EXPECT_EQ(Table(*m, 3), Ids({2, 1}));
  EXPECT_EQ(m->stats().n_evicted_blocks, 2u);
  // a's head block survives, so a resubmitted a reuses exactly one block.
  KvRequest ra{4, kAlice, a, 0};
  CachedPrefix prefix = m->GetComputedBlocks(ra);
  EXPECT_EQ(prefix.blocks, Ids({0}));
  // b is intact (2 blocks reusable; its last block holds the last token).
  EXPECT_EQ(m->GetComputedBlocks({5, kAlice, b, 0}).blocks, Ids({3, 4}));
}

TEST(KvCacheManagerTest, RunningOutChangesNothing) {
  auto m = MakeManager(3);
  KvRequest r{1, kAlice, Range(0, 16), 0};
  EXPECT_FALSE(m->AllocateSlots(r, 16));  // needs 4 blocks
  EXPECT_FALSE(m->HasBlocks(1));
  EXPECT_EQ(m->stats().n_query_tokens, 0u);
  ASSERT_TRUE(m->AllocateSlots(r, 8));
  EXPECT_EQ(Table(*m, 1), Ids({0, 1}));
  // Decode growth: 8 computed + 4 more fits (block 2), 1 more does not.
  r.n_computed_tokens = 8;
  ASSERT_TRUE(m->AllocateSlots(r, 4));
  EXPECT_EQ(Table(*m, 1), Ids({0, 1, 2}));
  r.n_computed_tokens = 12;
  EXPECT_FALSE(m->AllocateSlots(r, 1));
  EXPECT_EQ(Table(*m, 1), Ids({0, 1, 2}));
  // Slots already allocated need no new block.
  r.n_computed_tokens = 9;
  EXPECT_TRUE(m->AllocateSlots(r, 3));
  EXPECT_EQ(Table(*m, 1), Ids({0, 1, 2}));
}

TEST(KvCacheManagerTest, AdoptedFreeCachedBlocksCountAgainstFreeBlocks) {
  auto m = MakeManager(4);
  const Tokens t = Range(0, 9);
  ASSERT_TRUE(AdmitAndCompute(*m, 1, t));  // blocks 0 1 (cached) 2
  EXPECT_EQ(m->pool().FreeOrder(), Ids({3}));
  m->Free(1);  // free list: 3 2 1 0 (tail first); 0 and 1 cached
  const Tokens longer = Concat(Range(0, 8), Range(900, 9));
  KvRequest r{2, kAlice, longer, 0};
  CachedPrefix prefix = m->GetComputedBlocks(r);
  ASSERT_EQ(prefix.blocks, Ids({0, 1}));
  // Needs 5 blocks: 2 adopted + 3 fresh; only 2 others are free.
  EXPECT_FALSE(m->AllocateSlots(r, 9, prefix));
  EXPECT_EQ(m->pool().RefCount(0), 0);
  EXPECT_EQ(m->pool().n_free(), 4);
  // 2 adopted + 2 fresh fits exactly (first 8 new tokens); fresh ones come
  // from the free-list head.
  ASSERT_TRUE(m->AllocateSlots(r, 8, prefix));
  EXPECT_EQ(Table(*m, 2), Ids({0, 1, 3, 2}));
  EXPECT_EQ(m->pool().n_free(), 0);
}

TEST(KvCacheManagerTest, CachesBlocksAsDecodeFillsThem) {
  auto m = MakeManager(8);
  Tokens t = Range(0, 6);
  KvRequest r{1, kAlice, t, 0};
  ASSERT_TRUE(m->AllocateSlots(r, 6));
  r.n_computed_tokens = 6;
  m->CacheFullBlocks(r);
  EXPECT_EQ(m->BlockHashes(1).size(), 1u);
  // Decode: one token at a time; the second block fills at 8 computed tokens.
  for (TokenId next = 6; next < 9; ++next) {
    t.push_back(next);
    r.tokens = t;
    ASSERT_TRUE(m->AllocateSlots(r, 1));
    ++r.n_computed_tokens;
    m->CacheFullBlocks(r);
  }
  EXPECT_EQ(r.n_computed_tokens, 9);
  EXPECT_EQ(Table(*m, 1), Ids({0, 1, 2}));
  ASSERT_EQ(m->BlockHashes(1).size(), 2u);
  EXPECT_EQ(m->BlockHashes(1)[1], HashFullBlocks(t, kBlockSize, {kModel, kAlice})[1]);
  EXPECT_EQ(m->pool().LookupCached(m->BlockHashes(1)[1]), 1);
}

TEST(KvCacheManagerTest, DisabledPrefixCachingNeverShares) {
  auto m = MakeManager(8, /*caching=*/false);
  const Tokens t = Range(0, 9);
  ASSERT_TRUE(AdmitAndCompute(*m, 1, t));
  EXPECT_EQ(m->stats().n_cached_blocks, 0);
  EXPECT_EQ(m->GetComputedBlocks({2, kAlice, t, 0}).n_tokens, 0);
  ASSERT_TRUE(AdmitAndCompute(*m, 2, t));
  EXPECT_EQ(Table(*m, 2), Ids({3, 4, 5}));
}

}  // namespace
}  // namespace cellar
