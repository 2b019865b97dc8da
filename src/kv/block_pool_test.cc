#include "kv/block_pool.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace cellar {
namespace {

using Ids = std::vector<BlockId>;

Hash128 H(uint64_t v) { return Hash128{v, ~v}; }

std::unique_ptr<BlockPool> MakePool(int n, EvictionPolicyKind kind = EvictionPolicyKind::kLru) {
  BlockPoolOptions o;
  o.n_blocks = n;
  o.eviction = kind;
  auto pool = BlockPool::Create(std::move(o));
  EXPECT_TRUE(pool.ok());
  return std::move(pool).value();
}

// Records observer events in order.
class RecordingObserver : public BlockPoolObserver {
 public:
  void OnBlockCached(BlockId id, const Hash128& hash) override { cached.emplace_back(id, hash); }
  void OnBlockEvicted(BlockId id, const Hash128& hash) override { evicted.emplace_back(id, hash); }
  std::vector<std::pair<BlockId, Hash128>> cached;
  std::vector<std::pair<BlockId, Hash128>> evicted;
};

TEST(BlockPoolTest, RejectsEmptyPool) {
  BlockPoolOptions o;
  o.n_blocks = 0;
  EXPECT_EQ(BlockPool::Create(std::move(o)).status().code(), StatusCode::kInvalidArgument);
}

TEST(BlockPoolTest, AllocatesInIdOrderAndRunsOutCleanly) {
  auto pool = MakePool(5);
  EXPECT_EQ(pool->Allocate(3), Ids({0, 1, 2}));
  EXPECT_EQ(pool->n_free(), 2);
  // Asking for more than is free: nullopt, and nothing is taken.
  EXPECT_EQ(pool->Allocate(3), std::nullopt);
  EXPECT_EQ(pool->n_free(), 2);
  EXPECT_EQ(pool->FreeOrder(), Ids({3, 4}));
  EXPECT_EQ(pool->Allocate(0), Ids({}));
  EXPECT_EQ(pool->Allocate(2), Ids({3, 4}));
  EXPECT_EQ(pool->Allocate(1), std::nullopt);
  EXPECT_EQ(pool->n_used(), 5);
  for (BlockId id = 0; id < 5; ++id) EXPECT_EQ(pool->RefCount(id), 1);
}

TEST(BlockPoolTest, ReleasedBlocksJoinTheTailInReleaseOrder) {
  auto pool = MakePool(6);
  ASSERT_TRUE(pool->Allocate(4).has_value());  // 0 1 2 3; free: 4 5
  const Ids release = {2, 0, 3};
  pool->Release(release);
  EXPECT_EQ(pool->FreeOrder(), Ids({4, 5, 2, 0, 3}));
  // Allocation takes from the head.
  EXPECT_EQ(pool->Allocate(3), Ids({4, 5, 2}));
  EXPECT_EQ(pool->FreeOrder(), Ids({0, 3}));
}

TEST(BlockPoolTest, SharedBlockIsFreedOnlyByItsLastReference) {
  auto pool = MakePool(4);
  ASSERT_TRUE(pool->Allocate(2).has_value());  // 0 1
  const Ids shared = {0};
  pool->Touch(shared);
  EXPECT_EQ(pool->RefCount(0), 2);
  pool->Release(shared);
  EXPECT_EQ(pool->RefCount(0), 1);
  EXPECT_EQ(pool->FreeOrder(), Ids({2, 3}));
  pool->Release(shared);
  EXPECT_EQ(pool->RefCount(0), 0);
  EXPECT_EQ(pool->FreeOrder(), Ids({2, 3, 0}));
}

TEST(BlockPoolTest, CachedFreeBlockIsReusableUntilEvicted) {
  auto pool = MakePool(4);
  RecordingObserver obs;
  pool->SetObserver(&obs);
  ASSERT_EQ(pool->Allocate(2), Ids({0, 1}));
  EXPECT_TRUE(pool->CacheBlock(0, H(10)));
  EXPECT_TRUE(pool->CacheBlock(1, H(11)));
  // A second block with the same content stays uncached.
  ASSERT_EQ(pool->Allocate(1), Ids({2}));
  EXPECT_FALSE(pool->CacheBlock(2, H(10)));
  EXPECT_EQ(pool->BlockHash(2), std::nullopt);
  EXPECT_EQ(pool->LookupCached(H(10)), 0);
  EXPECT_EQ(pool->n_cached(), 2);
  ASSERT_EQ(obs.cached.size(), 2u);
  EXPECT_EQ(obs.cached[1], std::make_pair(BlockId{1}, H(11)));

  pool->Release(Ids({1, 0, 2}));  // free: 3 1 0 2
  EXPECT_EQ(pool->FreeOrder(), Ids({3, 1, 0, 2}));
  EXPECT_EQ(pool->n_free_cached(), 2);
  EXPECT_EQ(pool->LookupCached(H(11)), 1);  // still findable while free

  // A cache hit takes block 0 off the free list.
  pool->Touch(Ids({0}));
  EXPECT_EQ(pool->FreeOrder(), Ids({3, 1, 2}));
  EXPECT_EQ(pool->n_free_cached(), 1);

  // Allocation evicts in free-list order: 3 (uncached), then 1 (evicts H(11)).
  EXPECT_EQ(pool->Allocate(2), Ids({3, 1}));
  EXPECT_EQ(pool->LookupCached(H(11)), std::nullopt);
  EXPECT_EQ(pool->BlockHash(1), std::nullopt);
  EXPECT_EQ(pool->LookupCached(H(10)), 0);
  ASSERT_EQ(obs.evicted.size(), 1u);
  EXPECT_EQ(obs.evicted[0], std::make_pair(BlockId{1}, H(11)));
  EXPECT_EQ(pool->n_evicted(), 1u);
  EXPECT_EQ(pool->n_free_cached(), 0);
  EXPECT_EQ(pool->n_cached(), 1);
}

TEST(BlockPoolTest, UncachedFirstPolicyKeepsCachedBlocksLonger) {
  auto pool = MakePool(4, EvictionPolicyKind::kUncachedFirst);
  EXPECT_EQ(pool->eviction_policy_name(), "uncached-first");
  ASSERT_EQ(pool->Allocate(4), Ids({0, 1, 2, 3}));
  EXPECT_TRUE(pool->CacheBlock(0, H(1)));
  EXPECT_TRUE(pool->CacheBlock(2, H(2)));
  pool->Release(Ids({0, 1, 2, 3}));
  // Uncached blocks (1, 3) first, then the cached ones in LRU order (0, 2).
  EXPECT_EQ(pool->FreeOrder(), Ids({1, 3, 0, 2}));
  pool->Touch(Ids({0}));
  EXPECT_EQ(pool->FreeOrder(), Ids({1, 3, 2}));
  EXPECT_EQ(pool->Allocate(3), Ids({1, 3, 2}));
  EXPECT_EQ(pool->LookupCached(H(2)), std::nullopt);
  EXPECT_EQ(pool->LookupCached(H(1)), 0);
}

}  // namespace
}  // namespace cellar
